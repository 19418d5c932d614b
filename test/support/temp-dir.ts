/**
 * A fresh temporary directory per test, removed afterwards: tests that touch real files share
 * nothing with each other.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach } from 'vitest';

/** Registers the hooks; call the returned function inside a test for its directory. */
export function useTempDir(prefix = 'meshdesk-test-'): () => string {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => {
    if (!dir) throw new Error('useTempDir: no directory outside a test');
    return dir;
  };
}
