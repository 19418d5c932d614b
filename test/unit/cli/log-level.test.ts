/** The log level of headless nodes and routers: info by default, any pino level by name, one line for a bad one. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logLevel } from '../../../core/cli/args.js';
import { main } from '../../../core/cli.js';

describe('MESHDESK_LOG_LEVEL', () => {
  it('defaults to info, so that a headless node says who leads and which peers come and go', () => {
    expect(logLevel({})).toBe('info');
    expect(logLevel({ MESHDESK_LOG_LEVEL: '' })).toBe('info');
    expect(logLevel({ MESHDESK_LOG_LEVEL: 'debug' })).toBe('debug');
  });

  it('refuses an unknown level in one line, exit 2, before a node starts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'meshdesk-log-level-'));
    try {
      const err: string[] = [];
      const code = await main(
        ['start', '--bootstrap', '--data-dir', dataDir, '--api', '127.0.0.1:0', '--cluster', '127.0.0.1:0'],
        { MESHDESK_LOG_LEVEL: 'loud' },
        { out: () => undefined, err: (line) => err.push(line) },
      );
      expect({ code, err }).toEqual({
        code: 2,
        err: [
          "meshdesk start: MESHDESK_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; not 'loud' (see meshdesk start --help)",
        ],
      });
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
