/** How `npm start` finds the Electron binary without fetching it. */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findElectron } from '../../../scripts/start.js';
import { useTempDir } from '../../support/temp-dir.js';

describe('findElectron', () => {
  const dir = useTempDir('meshdesk-launcher-');
  const display = { DISPLAY: ':0' };

  it('says why there is no binary', async () => {
    expect(findElectron(display, dir())).toEqual({
      unavailable: 'the electron package is not installed: npm ci',
    });
    const pkg = join(dir(), 'node_modules', 'electron');
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, 'package.json'), '{}');
    expect(findElectron(display, dir())).toMatchObject({
      unavailable: expect.stringMatching(/without its binary/),
    });
    await writeFile(join(pkg, 'path.txt'), 'electron');
    expect(findElectron(display, dir())).toEqual({
      unavailable: `there is no executable at ${join(pkg, 'dist', 'electron')}`,
    });
  });

  it('finds the binary, or an override, and needs a display on Linux', async () => {
    const pkg = join(dir(), 'node_modules', 'electron');
    await mkdir(join(pkg, 'dist'), { recursive: true });
    await writeFile(join(pkg, 'package.json'), '{}');
    await writeFile(join(pkg, 'path.txt'), 'electron');
    await writeFile(join(pkg, 'dist', 'electron'), '#!/bin/sh\n');
    await chmod(join(pkg, 'dist', 'electron'), 0o755);
    expect(findElectron(display, dir())).toEqual({ path: join(pkg, 'dist', 'electron') });
    expect(findElectron({ ...display, MESHDESK_ELECTRON_PATH: '/nowhere/electron' }, dir())).toEqual({
      unavailable: 'there is no executable at /nowhere/electron',
    });
    if (process.platform === 'linux') {
      expect(findElectron({}, dir())).toMatchObject({ unavailable: expect.stringMatching(/no display/) });
    }
  });
});
