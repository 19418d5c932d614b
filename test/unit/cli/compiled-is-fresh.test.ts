/** bin/meshdesk.js runs the compiled CLI only while it is newer than every source it came from. */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module of the bin (no types): what the command itself runs.
import { compiledIsFresh } from '../../../bin/compiled-is-fresh.js';

const fresh = compiledIsFresh as (compiled: string, sourceDirs: readonly string[]) => boolean;

describe('compiledIsFresh', () => {
  let root: string;
  const at = (path: string, seconds: number) => utimes(join(root, path), seconds, seconds);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'meshdesk-fresh-'));
    await mkdir(join(root, 'core/cli'), { recursive: true });
    await mkdir(join(root, 'dist'), { recursive: true });
    await writeFile(join(root, 'core/cli.ts'), '');
    await writeFile(join(root, 'core/cli/start.ts'), '');
    await writeFile(join(root, 'core/README.md'), '');
    await writeFile(join(root, 'dist/meshdesk.js'), '');
    await at('core/cli.ts', 1000);
    await at('core/cli/start.ts', 1000);
    await at('dist/meshdesk.js', 2000);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const check = () => fresh(join(root, 'dist/meshdesk.js'), [join(root, 'core'), join(root, 'missing')]);

  it('is fresh when built after every source (a missing source folder is none)', () => {
    expect(check()).toBe(true);
  });

  it('is stale once any source, however deep, is as new as the build or newer', async () => {
    await at('core/cli/start.ts', 2000);
    expect(check()).toBe(false);
  });

  it('ignores files that are not TypeScript sources', async () => {
    await at('core/README.md', 3000);
    expect(check()).toBe(true);
  });

  it('is stale when never built', async () => {
    await rm(join(root, 'dist/meshdesk.js'));
    expect(check()).toBe(false);
  });
});
