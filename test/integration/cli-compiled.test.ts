/**
 * The compiled `meshdesk` command (scripts/build-cli.ts, what bin/meshdesk.js runs while it is
 * fresh) works on plain Node with no TypeScript loader: every command's --help, and a node that
 * bootstraps, serves its API and stops. Built into a folder of its own laid out as the repository
 * is (dist/cli two levels down, node_modules beside), so the build the other tests use is untouched.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.js';
import { captureOutput } from '../support/child-output.js';
import { loginToController } from '../support/controller-api.js';
import { ADMIN_PASSWORD } from '../support/controller-processes.js';
import { freePort } from '../support/kv-cluster.js';
import { waitFor } from '../support/wait.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
let root: string;
let entry: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'meshdesk-cli-build-'));
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'));
  await mkdir(join(root, 'dist'));
  await buildCli(join(root, 'dist/cli'));
  entry = pathToFileURL(join(root, 'dist/cli/meshdesk.js')).href;
}, 60_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** `meshdesk ARGS` from the compiled modules alone, in a plain node process. */
function compiled(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const script = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(${JSON.stringify(args)});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, ...captureOutput(child) };
}

describe('the compiled meshdesk command', () => {
  it('is one entry module and a chunk per command, each with its source map beside it', async () => {
    const files = await readdir(join(root, 'dist/cli'));
    expect(files).toContain('meshdesk.js');
    for (const command of ['start', 'lab', 'cluster', 'router', 'backup'])
      expect(files.some((f) => f.startsWith(`${command}-`) && f.endsWith('.js'))).toBe(true);
    expect(files.filter((f) => f.endsWith('.js')).every((f) => files.includes(`${f}.map`))).toBe(true);
  });

  it.each(['start', 'lab', 'cluster', 'router', 'backup', 'restore'])(
    'answers %s --help with no TypeScript loader',
    async (command) => {
      const run = compiled([command, '--help']);
      expect(await run.exited).toBe(0);
      expect(run.stdout()).toMatch(new RegExp(`^usage: meshdesk ${command}`));
      expect(run.stderr()).toBe('');
    },
  );

  it('bootstraps a node that serves its API, and stops on SIGTERM', async () => {
    const dataDir = join(root, 'node');
    const api = `127.0.0.1:${await freePort()}`;
    const run = compiled(
      [
        'start',
        '--bootstrap',
        '--data-dir',
        dataDir,
        '--api',
        api,
        '--cluster',
        `127.0.0.1:${await freePort()}`,
      ],
      { MESHDESK_ADMIN_PASSWORD: ADMIN_PASSWORD, MESHDESK_LOG_LEVEL: 'warn' },
    );
    try {
      await waitFor(
        () => {
          if (run.child.exitCode !== null) throw new Error(`exited: ${run.stderr()}`);
          return run.stdout().includes('ready — UI at');
        },
        'the node ready',
        60_000,
        50,
      );
      await loginToController(`http://${api}`, 'admin', ADMIN_PASSWORD);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  }, 90_000);
});
