/**
 * Compiles the `meshdesk` command (core/cli.ts and what it imports) into ES modules,
 * dist/cli/meshdesk.js and its chunks, that bin/meshdesk.js runs while they are newer than every
 * source (packages stay external and come from node_modules). Run by `npm ci` (prepare) and
 * `npm run build:cli`; about a second.
 */
import { rename, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Two folders deep, as core/cli/ is, and the chunks that need them (lab, start) are at that depth
 * too: the sources' import.meta.url paths (../../bin, ../../renderer) hold.
 */
export const CLI_DIR = `${ROOT}dist/cli`;

export async function buildCli(outDir = CLI_DIR): Promise<void> {
  const staging = `${outDir}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { meshdesk: 'core/cli.ts' },
    outdir: staging,
    // Each command its own chunk, loaded when it runs: --help loads almost nothing.
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // Files of their own: Node reads them only with --enable-source-maps.
    sourcemap: 'external',
    legalComments: 'none',
    logLevel: 'warning',
  });
  // Swapped whole: a command starting meanwhile finds the old build, the new one, or none (and
  // then runs the sources), never a mix.
  const old = `${outDir}.${process.pid}.old`;
  await rename(outDir, old).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(staging, outDir);
  await rm(old, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildCli();
  process.stdout.write(`built ${CLI_DIR}/meshdesk.js\n`);
}
