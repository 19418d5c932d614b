/**
 * The data-directory lock: one holder at a time, in this process or another; a holder killed with
 * SIGKILL leaves a claim that the next process takes over at once (no stale timeout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { openRaftStorage } from '../../../core/storage/index.js';
import { lockDataDir } from '../../../core/storage/lock.js';
import { DataDirLockedError } from '../../../core/storage/types.js';
import { useTempDir } from '../../support/temp-dir.js';

const tmp = useTempDir('meshdesk-lock-');
const HOLDER = fileURLToPath(new URL('../../support/hold-data-dir-lock.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Starts a process that takes the lock; resolves with its first line of output. */
function holder(dir: string): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, line: out.slice(0, nl) });
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited (${code}) before answering: ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.on('exit', () => resolve());
  });
}

describe('data-directory lock', () => {
  it('a second open in the same process fails until the first closes', async () => {
    const storage = await openRaftStorage({ dir: tmp() });
    const err = await openRaftStorage({ dir: tmp() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).holderPid).toBe(process.pid);
    expect((err as DataDirLockedError).message).toContain(tmp());
    await storage.close();
    const again = await openRaftStorage({ dir: tmp() });
    await again.close();
  });

  it('of many contenders at once, at most one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => lockDataDir(tmp())));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won.length).toBeLessThanOrEqual(1);
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DataDirLockedError);
      for (const r of won) await r.value.release();
    }
  });

  it('a lock held by another process fails with its pid; after SIGKILL it is taken at once', async () => {
    const { child, line } = await holder(tmp());
    expect(line).toBe('locked');
    const err = await openRaftStorage({ dir: tmp() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).holderPid).toBe(child.pid);

    child.kill('SIGKILL');
    await exited(child);
    const started = Date.now();
    const storage = await openRaftStorage({ dir: tmp() });
    expect(Date.now() - started).toBeLessThan(1000);
    // The dead holder's claim is gone; only ours remains.
    expect(await readdir(join(tmp(), 'lock'))).toHaveLength(1);

    const second = await holder(tmp());
    expect(second.line).toBe(`busy ${process.pid}`);
    await storage.close();
  });

  it('of several processes started at once, at most one wins', async () => {
    const lines = await Promise.all(Array.from({ length: 4 }, () => holder(tmp()).then((h) => h.line)));
    expect(lines.filter((l) => l === 'locked').length).toBeLessThanOrEqual(1);
    for (const line of lines) expect(line).toMatch(/^(locked|busy \d+)$/);
  });

  it('a claim left by a dead pid is stale', async () => {
    await writeFile(join(await mkLockDir(tmp()), '999999999-0-abcdef.claim'), '');
    const lock = await lockDataDir(tmp());
    expect(await readdir(join(tmp(), 'lock'))).toEqual([lock.path.split('/').at(-1)]);
    await lock.release();
    expect(await readdir(join(tmp(), 'lock'))).toEqual([]);
  });

  it('a claim of a live pid with another start time (a reused pid) is stale on Linux', async () => {
    if (process.platform !== 'linux') return;
    await writeFile(join(await mkLockDir(tmp()), `${process.pid}-1-abcdef.claim`), '');
    const lock = await lockDataDir(tmp());
    await lock.release();
  });
});

async function mkLockDir(dir: string): Promise<string> {
  const path = join(dir, 'lock');
  await mkdir(path, { recursive: true });
  return path;
}
