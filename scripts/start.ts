/**
 * `npm start` and `npm run headless`: build what is missing or stale (the renderer; the Electron
 * bundle), then open the desktop app — or, where the Electron binary is not available (no
 * download possible, no display) or with --headless, say so in one line and run the same node
 * headless (`meshdesk start` semantics, bootstrapping a new cluster on the first run) with the UI.
 * Options after `--` go to `meshdesk start` (e.g. `npm run headless -- --data-dir /tmp/x`).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/cli/args.js';
import { parseStart, runStart, serveUntilSignalled } from '../core/cli/start.js';
import { isFirstRun } from '../electron/desktop-node.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const RENDERER_DIST = join(ROOT, 'renderer', 'dist');

export type ElectronBinary = { readonly path: string } | { readonly unavailable: string };

/**
 * Where the Electron executable is, or why there is none. Looks without fetching: the `electron`
 * package downloads its binary on first use, which would hang or fail on a machine offline.
 */
export function findElectron(env: NodeJS.ProcessEnv = process.env, root = ROOT): ElectronBinary {
  const pkg = join(root, 'node_modules', 'electron');
  let path = env.MESHDESK_ELECTRON_PATH;
  if (!path) {
    if (!existsSync(join(pkg, 'package.json')))
      return { unavailable: 'the electron package is not installed: npm ci' };
    const pathFile = join(pkg, 'path.txt');
    if (!existsSync(pathFile)) {
      return {
        unavailable:
          'npm installs the electron package without its binary and none was fetched here (no internet? see docs/PACKAGING.md)',
      };
    }
    const relative = readFileSync(pathFile, 'utf8');
    path = env.ELECTRON_OVERRIDE_DIST_PATH
      ? join(env.ELECTRON_OVERRIDE_DIST_PATH, relative)
      : join(pkg, 'dist', relative);
  }
  if (!existsSync(path) || !statSync(path).isFile())
    return { unavailable: `there is no executable at ${path}` };
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { unavailable: 'there is no display: neither DISPLAY nor WAYLAND_DISPLAY is set' };
  }
  return { path };
}

/** Builds the renderer unless renderer/dist is newer than every source file of it. */
export async function ensureRenderer(): Promise<void> {
  const built = join(RENDERER_DIST, 'index.html');
  if (existsSync(built)) {
    const builtAt = (await stat(built)).mtimeMs;
    const sources = [join(ROOT, 'renderer', 'index.html'), join(ROOT, 'renderer', 'vite.config.ts')];
    for (const entry of await readdir(join(ROOT, 'renderer', 'src'), {
      recursive: true,
      withFileTypes: true,
    })) {
      if (entry.isFile()) sources.push(join(entry.parentPath, entry.name));
    }
    const newest = Math.max(...(await Promise.all(sources.map(async (f) => (await stat(f)).mtimeMs))));
    if (newest <= builtAt) return;
  }
  process.stdout.write('meshdesk: building the admin UI (renderer/dist)…\n');
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
}

async function runElectron(path: string, argv: readonly string[]): Promise<number> {
  const { buildElectron } = await import('./build-electron.js');
  await buildElectron();
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(path, [ROOT, ...argv], { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** The environment that overrides `npm start`'s defaults, as in the desktop app (README). */
const ENVIRONMENT_DEFAULTS = [
  ['--data-dir', 'MESHDESK_DATA_DIR'],
  ['--api', 'MESHDESK_API'],
  ['--cluster', 'MESHDESK_CLUSTER'],
  ['--advertise', 'MESHDESK_ADVERTISE'],
] as const;

/** `argv` with the environment's settings for what it does not say itself. */
export function withEnvironmentDefaults(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const says = (flag: string) => argv.some((a) => a === flag || a.startsWith(`${flag}=`));
  const defaults = ENVIRONMENT_DEFAULTS.flatMap(([flag, name]) => {
    const value = env[name];
    return value && !says(flag) ? [flag, value] : [];
  });
  return [...defaults, ...argv];
}

/** The node headless, as `meshdesk start` with the built UI; bootstraps on the first run. */
async function runHeadless(argv: readonly string[]): Promise<number> {
  const given = parseStart(withEnvironmentDefaults(argv, process.env), process.env);
  if (given === 'help') {
    process.stdout.write(
      'usage: npm run headless [-- options of meshdesk start]  (see npx meshdesk start --help)\n',
    );
    return 0;
  }
  const firstRun = !given.bootstrap && !given.join && (await isFirstRun(given.dataDir));
  const args = firstRun ? { ...given, bootstrap: true } : given;
  await serveUntilSignalled(await runStart(args, process.env));
  return 0;
}

export async function launch(argv: readonly string[]): Promise<number> {
  const headless = argv[0] === '--headless';
  const rest = headless ? argv.slice(1) : argv;
  await ensureRenderer();
  if (!headless) {
    const electron = findElectron();
    if ('path' in electron) return runElectron(electron.path, rest);
    process.stdout.write(
      `meshdesk: Electron is not available (${electron.unavailable}); running the node headless, open the UI URL below in a browser\n`,
    );
  }
  return runHeadless(rest);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await launch(process.argv.slice(2));
  } catch (err) {
    const usage = err instanceof UsageError;
    process.stderr.write(`meshdesk: ${(err as Error).message.split('\n')[0]}\n`);
    process.exitCode = usage ? 2 : 1;
  }
}
