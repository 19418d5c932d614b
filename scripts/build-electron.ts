/**
 * Compiles what Electron runs (it cannot use tsx): the main process with core/ bundled in (ESM;
 * packages stay external and come from node_modules, in the asar when packaged), the preload
 * (CommonJS: a sandboxed preload cannot be a module) and the setup page, into dist/electron/.
 * Run by `npm start` and `npm run pack`; about a second.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ELECTRON_OUT = `${ROOT}dist/electron`;

export async function buildElectron(outDir = ELECTRON_OUT): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(`${outDir}/setup`, { recursive: true });
  const common: BuildOptions = {
    bundle: true,
    sourcemap: 'linked',
    logLevel: 'warning',
    legalComments: 'none',
    absWorkingDir: ROOT,
  };
  await Promise.all([
    build({
      ...common,
      entryPoints: ['electron/main.ts'],
      outfile: `${outDir}/main.js`,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      packages: 'external',
    }),
    build({
      ...common,
      entryPoints: ['electron/preload.ts'],
      outfile: `${outDir}/preload.cjs`,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      external: ['electron'],
    }),
    build({
      ...common,
      entryPoints: ['electron/setup/setup.ts'],
      outfile: `${outDir}/setup/setup.js`,
      platform: 'browser',
      format: 'esm',
      target: 'chrome130',
    }),
  ]);
  await cp(`${ROOT}electron/setup/index.html`, `${outDir}/setup/index.html`);
  await cp(`${ROOT}electron/setup/setup.css`, `${outDir}/setup/setup.css`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildElectron();
  process.stdout.write(`built ${ELECTRON_OUT}\n`);
}
