/**
 * What package.json's `engines` promises holds for everything meshdesk runs and is built with:
 * every package in package-lock accepts the oldest Node that `engines` allows (20.19: undici
 * needs 20.18.1 at run time, vite's rolldown 20.19 to build the UI).
 * The desktop packaging toolchain (Electron 41+ and the tools that fetch and rebuild it) declares
 * Node >= 22.12; those are build tools, listed here so that no other dev package joins them unseen.
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface LockedPackage {
  readonly version?: string;
  readonly dev?: boolean;
  readonly engines?: { readonly node?: string };
}

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};
const oldest = semver.minVersion(pkg.engines.node)?.version as string;

/** Packages whose declared Node range excludes the oldest Node that `engines` allows. */
function refusing(dev: boolean): string[] {
  return Object.entries(lock.packages)
    .filter(([path, p]) => path !== '' && (p.dev === true) === dev && p.engines?.node !== undefined)
    .filter(([, p]) => !semver.satisfies(oldest, p.engines?.node as string))
    .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${String(p.version)} (${p.engines?.node})`)
    .sort();
}

describe('package.json engines', () => {
  it('is met by every package the product runs on', () => {
    expect(oldest).toBe('20.19.0');
    expect(refusing(false)).toEqual([]);
  });

  it('is met by every dev package but the desktop packaging toolchain', () => {
    expect(refusing(true).map((p) => p.replace(/@\d.*$/, ''))).toEqual([
      '@electron-internal/extract-zip',
      '@electron/get',
      '@electron/rebuild',
      'electron',
      'node-abi',
    ]);
  });
});
