/**
 * A child process for the lock tests: takes the data-directory lock of argv[2], prints `locked`
 * (or `busy <pid>` when another process holds it) and then waits to be killed.
 */
import { lockDataDir } from '../../core/storage/lock.js';
import { DataDirLockedError } from '../../core/storage/types.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: hold-data-dir-lock DIR');
try {
  await lockDataDir(dir);
  process.stdout.write('locked\n');
  setInterval(() => {}, 60_000);
} catch (err) {
  if (!(err instanceof DataDirLockedError)) throw err;
  process.stdout.write(`busy ${err.holderPid ?? '?'}\n`);
}
