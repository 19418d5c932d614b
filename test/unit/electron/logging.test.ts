/** The desktop log file: pino lines in app-data, rotated by size (real files). */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDesktopLog, LOG_FILE } from '../../../electron/logging.js';
import { useTempDir } from '../../support/temp-dir.js';
import { waitFor } from '../../support/wait.js';

describe('the desktop log', () => {
  const dir = useTempDir('meshdesk-log-');

  it('writes JSON lines and keeps a bounded number of rotated files', async () => {
    const logsDir = join(dir(), 'logs');
    const log = createDesktopLog(logsDir, { maxSize: '2K', keep: 2 });
    log.logger.info({ nodeId: 'n1' }, 'first line');
    const line = 'x'.repeat(200);
    for (let i = 0; i < 60; i++) log.logger.info({ i }, line);
    await waitFor(
      async () => (await readdir(logsDir)).length === 3,
      'two rotations kept beside the live file',
    );
    await log.close();
    expect((await readdir(logsDir)).sort()).toEqual([LOG_FILE, `${LOG_FILE}.1`, `${LOG_FILE}.2`]);
    const newest = (await readFile(join(logsDir, `${LOG_FILE}.1`), 'utf8')).trim().split('\n');
    expect(JSON.parse(newest.at(-1) ?? '{}')).toMatchObject({ app: 'meshdesk-desktop', msg: line });
    expect(log.file).toBe(join(logsDir, LOG_FILE));
  });
});
