/**
 * `npm run pack` (an unpacked app directory for this platform, `--dir`) and `npm run dist`
 * (installers: AppImage + deb on Linux, nsis on Windows, dmg on macOS): builds the renderer and
 * the Electron bundle, then runs electron-builder with build/electron-builder.json.
 * `--electron-dist DIR` (or MESHDESK_ELECTRON_DIST) packs a pre-fetched Electron instead of
 * downloading one (docs/PACKAGING.md); `--out DIR` sets the output directory.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildElectron } from './build-electron.js';
import { ensureRenderer } from './start.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUILDER_CONFIG = join(ROOT, 'build', 'electron-builder.json');

export interface PackOptions {
  /** An unpacked directory only (no installer). */
  readonly dir: boolean;
  readonly electronDist?: string;
  readonly output?: string;
  readonly platform?: 'linux' | 'win' | 'mac';
}

/** Builds and packs; resolves with the files electron-builder wrote. */
export async function pack(options: PackOptions): Promise<string[]> {
  await ensureRenderer();
  await buildElectron();
  const { build, Platform } = await import('electron-builder');
  const config = JSON.parse(await readFile(BUILDER_CONFIG, 'utf8')) as Record<string, unknown> & {
    directories: Record<string, string>;
  };
  delete config.$schema;
  const platform =
    options.platform === 'win'
      ? Platform.WINDOWS
      : options.platform === 'mac'
        ? Platform.MAC
        : options.platform === 'linux'
          ? Platform.LINUX
          : Platform.current();
  return build({
    projectDir: ROOT,
    targets: platform.createTarget(options.dir ? 'dir' : null),
    publish: 'never',
    config: {
      ...config,
      directories: { ...config.directories, ...(options.output ? { output: options.output } : {}) },
      ...(options.electronDist ? { electronDist: options.electronDist } : {}),
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      dir: { type: 'boolean' },
      'electron-dist': { type: 'string' },
      out: { type: 'string' },
      linux: { type: 'boolean' },
      win: { type: 'boolean' },
      mac: { type: 'boolean' },
    },
  });
  const electronDist = values['electron-dist'] ?? process.env.MESHDESK_ELECTRON_DIST;
  const platform = values.linux ? 'linux' : values.win ? 'win' : values.mac ? 'mac' : undefined;
  const files = await pack({
    dir: values.dir === true,
    ...(electronDist ? { electronDist } : {}),
    ...(values.out ? { output: values.out } : {}),
    ...(platform ? { platform } : {}),
  });
  process.stdout.write(`packed:\n${files.map((f) => `  ${f}`).join('\n')}\n`);
}
