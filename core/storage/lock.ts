/**
 * A data-directory lock that two processes can never both hold and that a dead holder (kill -9)
 * does not keep: no stale timeout, a restart takes it at once.
 *
 * Announce, then look: a contender creates its own claim file `<dir>/lock/<pid>-<start>-<nonce>.claim`
 * (created with 'wx', so the name is the whole announcement), then lists the folder. A claim of a
 * live process other than its own means someone holds or contends: it withdraws. Two contenders
 * cannot both win: whichever lists second sees the other's claim, created before the first listed.
 * Claims of dead processes are removed by whoever finds them. The process start time (Linux
 * /proc) guards against a reused pid; a zombie counts as dead.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { errnoCode, unlinkIfExists } from './disk.js';
import { DataDirLockedError } from './types.js';

const CLAIM = /^(\d+)-(\d+)-([0-9a-f]+)\.claim$/;
const ROUNDS = 5;

export interface DirLock {
  /** The claim file this process holds. */
  readonly path: string;
  release(): Promise<void>;
}

interface Claim {
  readonly name: string;
  readonly pid: number;
  readonly start: string;
}

/** Linux: the process's state and start time (clock ticks since boot); undefined elsewhere or if gone. */
async function procStat(pid: number): Promise<{ state: string; start: string } | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; fields restart after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19];
    return state !== undefined && start !== undefined ? { state, start } : undefined;
  } catch {
    return undefined;
  }
}

async function isAlive(claim: Claim): Promise<boolean> {
  try {
    process.kill(claim.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if (errnoCode(err) === 'ESRCH') return false;
  }
  const stat = await procStat(claim.pid);
  if (!stat) return true;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return claim.start === '0' || stat.start === claim.start;
}

/** Live claims other than `own`; dead ones are removed on the way. */
async function liveRivals(lockDir: string, own: string | undefined): Promise<Claim[]> {
  const rivals: Claim[] = [];
  for (const name of await readdir(lockDir)) {
    const m = CLAIM.exec(name);
    if (!m || name === own) continue;
    const claim: Claim = { name, pid: Number(m[1]), start: m[2] as string };
    if (await isAlive(claim)) rivals.push(claim);
    else await unlinkIfExists(join(lockDir, name));
  }
  return rivals;
}

/** Takes the lock on `dir` or throws DataDirLockedError naming the live holder. */
export async function lockDataDir(dir: string): Promise<DirLock> {
  const lockDir = join(dir, 'lock');
  await mkdir(lockDir, { recursive: true, mode: 0o700 });
  const start = (await procStat(process.pid))?.start ?? '0';
  for (let round = 0; round < ROUNDS; round++) {
    const name = `${process.pid}-${start}-${randomBytes(8).toString('hex')}.claim`;
    const path = join(lockDir, name);
    await writeFile(path, `pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}\n`, {
      flag: 'wx',
      mode: 0o600,
    });
    let rivals: Claim[];
    try {
      rivals = await liveRivals(lockDir, name);
    } catch (err) {
      await unlinkIfExists(path);
      throw err;
    }
    if (rivals.length === 0) {
      let released = false;
      return {
        path,
        release: async () => {
          if (released) return;
          released = true;
          await unlinkIfExists(path);
        },
      };
    }
    await unlinkIfExists(path);
    // A rival that was only contending withdraws within moments; a holder stays.
    await sleep(5 + Math.floor(Math.random() * 20));
    const still = new Set((await liveRivals(lockDir, undefined)).map((c) => c.name));
    const holder = rivals.find((c) => still.has(c.name));
    if (holder) throw new DataDirLockedError(dir, holder.pid);
  }
  throw new DataDirLockedError(dir, undefined);
}
