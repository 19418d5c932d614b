// Whether a compiled file is newer than every TypeScript source it was built from. A stat per
// source file (a few milliseconds for meshdesk's) against the ~1 s of compiling them at each start.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @param {string} compiled the built file
 * @param {readonly string[]} sourceDirs folders whose .ts files it is built from (missing ones are skipped)
 * @returns {boolean}
 */
export function compiledIsFresh(compiled, sourceDirs) {
  let built;
  try {
    built = statSync(compiled).mtimeMs;
  } catch {
    return false;
  }
  for (const dir of sourceDirs) {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true, recursive: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      if (statSync(join(entry.parentPath, entry.name)).mtimeMs >= built) return false;
    }
  }
  return true;
}
