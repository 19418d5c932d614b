#!/usr/bin/env node
// The `meshdesk` command. It runs the compiled CLI (dist/cli/meshdesk.js: `npm run build:cli`,
// which `npm ci` runs too) when that is newer than every source file it is built from, and starts
// in a fraction of the time; otherwise (never built, or a source edited since) it runs the
// TypeScript itself through tsx's loader, so a stale build never runs.
import { URL, fileURLToPath } from 'node:url';
import { compiledIsFresh } from './compiled-is-fresh.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = `${root}dist/cli/meshdesk.js`;

async function loadMain() {
  if (
    compiledIsFresh(
      compiled,
      ['core', 'client', 'contract'].map((dir) => `${root}${dir}`),
    )
  ) {
    try {
      return (await import(compiled)).main;
    } catch (err) {
      // Replaced by a build at this very moment: the sources run as well.
      if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../core/cli.ts')).main;
}

const main = await loadMain();
process.exitCode = await main(process.argv.slice(2));
