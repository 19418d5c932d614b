/**
 * The desktop app as a user gets it, as far as this machine allows (no Electron binary):
 * - `npm start` says in one line why there is no window, runs the node headless with the UI,
 *   and stops on SIGTERM;
 * - `npm run pack` with a stand-in Electron executable (electron-builder's `electronDist`)
 *   produces an unpacked Linux app whose asar holds the compiled app, the UI and the sql.js wasm
 *   (unpacked), and no tests, sources or dev dependencies, with its fuses flipped (the stand-in
 *   carries a fuse wire, as a real binary does);
 * - that packaged main process, run under plain Node with a stand-in `electron` module, serves the
 *   setup page, creates a cluster through its IPC handlers, and serves the admin UI.
 * One file: the launcher and the packer both build renderer/dist and dist/electron.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractAll, listPackage } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from '../../scripts/pack.js';
import {
  FAKE_ELECTRON_INDEX,
  FAKE_ELECTRON_PACKAGE,
  standInElectronExecutable,
} from '../support/fake-electron.js';
import { waitFor } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

let work: string;
const children: ChildProcess[] = [];

function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out.stderr = (out.stderr + c.toString()).slice(-10_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'meshdesk-desktop-e2e-'));
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm start without Electron', () => {
  it('says why in one line, runs the node headless with the UI, and stops on SIGTERM', async () => {
    const dataDir = join(work, 'headless');
    // Where and on which ports, by the environment the README documents, not by flags.
    const { child, out, exited } = run(process.execPath, [TSX, 'scripts/start.ts'], {
      MESHDESK_ELECTRON_PATH: join(work, 'no-electron-here'),
      MESHDESK_ADMIN_PASSWORD: '',
      MESHDESK_DATA_DIR: dataDir,
      MESHDESK_API: '127.0.0.1:0',
      MESHDESK_CLUSTER: '127.0.0.1:0',
    });
    await waitFor(() => out.stdout.includes('ready — UI at'), `the ready line (${out.stderr})`, 90_000, 100);
    const lines = out.stdout.split('\n').filter((l) => l.startsWith('meshdesk:') && !l.includes('building'));
    expect(lines[0]).toMatch(
      /^meshdesk: Electron is not available \(there is no executable at .*\); running the node headless/,
    );
    expect(lines.filter((l) => l.includes('Electron'))).toHaveLength(1);
    expect(lines[1]).toMatch(/first admin 'admin' created; password \(shown once/);
    const url = /UI at (http:\/\/\S+)\//.exec(out.stdout)?.[1];
    expect(url).not.toMatch(/:8440$/);
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    expect((await stat(join(dataDir, 'node.json'))).isFile()).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('npm run pack', () => {
  const out = () => join(work, 'packed');
  const unpacked = () => join(out(), 'linux-unpacked');

  it('packs an unpacked Linux app with a stand-in Electron', async () => {
    const electronDist = join(work, 'electron-dist');
    await mkdir(electronDist);
    await writeFile(join(electronDist, 'electron'), standInElectronExecutable());
    await chmod(join(electronDist, 'electron'), 0o755);
    await pack({ dir: true, platform: 'linux', electronDist, output: out() });
    const executable = join(unpacked(), 'meshdesk');
    expect((await stat(executable)).mode & 0o111).not.toBe(0);

    // The fuses, as packaging flipped them: no other code runs inside the app through its binary.
    const wire = (await getCurrentFuseWire(executable)) as unknown as Record<number, number>;
    const on = (fuse: FuseV1Options) => String.fromCharCode(wire[fuse] ?? 0) === '1';
    expect({
      runAsNode: on(FuseV1Options.RunAsNode),
      nodeOptions: on(FuseV1Options.EnableNodeOptionsEnvironmentVariable),
      inspect: on(FuseV1Options.EnableNodeCliInspectArguments),
      asarIntegrity: on(FuseV1Options.EnableEmbeddedAsarIntegrityValidation),
      onlyLoadAppFromAsar: on(FuseV1Options.OnlyLoadAppFromAsar),
      cookieEncryption: on(FuseV1Options.EnableCookieEncryption),
      fileProtocolPrivileges: on(FuseV1Options.GrantFileProtocolExtraPrivileges),
    }).toEqual({
      runAsNode: false,
      nodeOptions: false,
      inspect: false,
      asarIntegrity: true,
      onlyLoadAppFromAsar: true,
      cookieEncryption: true,
      fileProtocolPrivileges: false,
    });

    const files = listPackage(join(unpacked(), 'resources', 'app.asar'), { isPack: false }).map((f) =>
      f.replaceAll('\\', '/'),
    );
    for (const expected of [
      '/package.json',
      '/dist/electron/main.js',
      '/dist/electron/preload.cjs',
      '/dist/electron/setup/index.html',
      '/renderer/dist/index.html',
      '/build/tray/leader.png',
      '/node_modules/sql.js/dist/sql-wasm.wasm',
      '/node_modules/fastify/package.json',
      '/node_modules/rotating-file-stream/package.json',
    ]) {
      expect(files, expected).toContain(expected);
    }
    // The wasm is unpacked next to the asar (asarUnpack), where sql.js reads it from disk.
    await stat(
      join(unpacked(), 'resources', 'app.asar.unpacked', 'node_modules', 'sql.js', 'dist', 'sql-wasm.wasm'),
    );
    const offenders = files.filter(
      (f) =>
        /\.test\.|^\/test\/|^\/core\/|^\/electron\/|^\/scripts\/|\.ts$|\.map$/.test(
          f.replace(/^\/node_modules\/.*/, ''),
        ) ||
        /^\/node_modules\/(electron|electron-builder|vitest|vite|react|react-dom|typescript|tsx|esbuild|playwright-core|eslint|@electron\/asar)\//.test(
          f,
        ),
    );
    expect(offenders).toEqual([]);
  }, 240_000);

  it('runs the packaged main process: setup page, create a cluster, admin UI', async () => {
    const app = join(work, 'app');
    extractAll(join(unpacked(), 'resources', 'app.asar'), app);
    // extractAll leaves unpacked files out: put the wasm back where the asar says it is.
    await writeFile(
      join(app, 'node_modules', 'sql.js', 'dist', 'sql-wasm.wasm'),
      await import('node:fs/promises').then((fs) =>
        fs.readFile(
          join(
            unpacked(),
            'resources',
            'app.asar.unpacked',
            'node_modules',
            'sql.js',
            'dist',
            'sql-wasm.wasm',
          ),
        ),
      ),
    );
    await mkdir(join(app, 'node_modules', 'electron'));
    await writeFile(join(app, 'node_modules', 'electron', 'package.json'), FAKE_ELECTRON_PACKAGE);
    await writeFile(join(app, 'node_modules', 'electron', 'index.js'), FAKE_ELECTRON_INDEX);

    const dataDir = join(work, 'desktop-data');
    const { out, child } = run(process.execPath, [join(app, 'dist', 'electron', 'main.js')], {
      FAKE_APP_ROOT: app,
      MESHDESK_DATA_DIR: dataDir,
      MESHDESK_API: '127.0.0.1:0',
      MESHDESK_CLUSTER: '127.0.0.1:0',
    });
    const events = (): Record<string, unknown>[] =>
      out.stdout
        .split('\n')
        .filter((l) => l.startsWith('FAKE '))
        .map((l) => JSON.parse(l.slice(5)) as Record<string, unknown>);
    const adminWindow = () =>
      events().find((e) => typeof e.window === 'string' && e.window.startsWith('http'));
    await waitFor(() => adminWindow() !== undefined, `the admin window (${out.stderr})`, 60_000, 50);
    const seen = events();
    expect(seen).toContainEqual(
      expect.objectContaining({ window: 'meshdesk://setup/index.html', sandbox: true }),
    );
    expect(seen).toContainEqual({ setupPage: 200, csp: expect.stringContaining("default-src 'none'") });
    expect(seen).toContainEqual({ untrusted: 'UNTRUSTED_SENDER' });
    // The window trusts the cluster CA (an API bound beyond loopback is HTTPS from it).
    expect(seen).toContainEqual({ certificateVerifyProc: true });
    const created = seen.find((e) => e.created)?.created as {
      ok: boolean;
      uiUrl: string;
      adminPassword: string;
    };
    expect(created).toMatchObject({ ok: true, adminPassword: expect.any(String) });
    expect(adminWindow()).toMatchObject({
      window: `${created.uiUrl}/`,
      args: [`--meshdesk-api-base-url=${created.uiUrl}`],
    });
    expect(seen.map((e) => e.tray).filter(Boolean)).toContainEqual(join(app, 'build', 'tray', 'leader.png'));

    const page = await fetch(`${created.uiUrl}/`);
    expect(await page.text()).toContain('<div id="root">');
    const login = await fetch(`${created.uiUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: created.adminPassword }),
    });
    expect(login.status).toBe(200);
    await stat(join(dataDir, 'logs', 'meshdesk.log'));
    child.kill('SIGKILL');
  }, 90_000);
});
