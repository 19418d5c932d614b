/** Writing a backup file: whole or not at all, owner-only, never clobbering unless asked. */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupTargetProblem, writeBackup } from '../../core/backup.js';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir();
const BYTES = new TextEncoder().encode('SQLite format 3\0 stand-in');

describe('writeBackup', () => {
  it('writes the file 0600 and leaves nothing else', async () => {
    const file = join(dir(), 'b.sqlite');
    await writeBackup(file, BYTES);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir())).toEqual(['b.sqlite']);
  });

  it('keeps an existing file unless told to overwrite it, and leaves no temporary file', async () => {
    const file = join(dir(), 'b.sqlite');
    await writeFile(file, 'earlier backup', { mode: 0o644 });
    await expect(writeBackup(file, BYTES)).rejects.toThrow(/b\.sqlite exists; pass --force to overwrite it/);
    expect(await readFile(file, 'utf8')).toBe('earlier backup');
    expect(await readdir(dir())).toEqual(['b.sqlite']);
    await writeBackup(file, BYTES, true);
    expect(await readFile(file)).toEqual(Buffer.from(BYTES));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir())).toEqual(['b.sqlite']);
  });

  it('fails in one line into a folder that is not there', async () => {
    await expect(writeBackup(join(dir(), 'missing', 'b.sqlite'), BYTES)).rejects.toThrow(
      /^cannot write the backup to .*missing\/b\.sqlite: ENOENT$/,
    );
    expect(await readdir(dir())).toEqual([]);
  });
});

describe('backupTargetProblem', () => {
  it('says what is wrong with a target before anything is taken', async () => {
    expect(backupTargetProblem(join(dir(), 'new.sqlite'), false)).toBeUndefined();
    expect(backupTargetProblem(dir(), true)).toMatch(
      /is a directory; name the file to write, e\.g\. .*meshdesk-backup\.sqlite/,
    );
    expect(backupTargetProblem(join(dir(), 'no', 'b.sqlite'), false)).toMatch(
      /the folder .*\/no does not exist/,
    );
    const existing = join(dir(), 'old.sqlite');
    await writeFile(existing, 'x');
    expect(backupTargetProblem(existing, false)).toMatch(/old\.sqlite exists; pass --force/);
    expect(backupTargetProblem(existing, true)).toBeUndefined();
    expect(backupTargetProblem(join(existing, 'inside.sqlite'), false)).toMatch(
      /old\.sqlite is not a folder/,
    );
  });
});
