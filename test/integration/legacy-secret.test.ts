/**
 * Upgrading in place from the versions of the shared cluster secret: a node that still has the
 * old `cluster-secret` file removes it at start and says that routers now enroll; nothing hands
 * a routers' secret out any more.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LEGACY_SECRET_FILE } from '../../core/cluster/legacy-secret.js';
import { startController, type Controller } from '../../core/controller.js';
import { callController, loginToController } from '../support/controller-api.js';
import { collectingLogger, type LogLine } from '../support/log-lines.js';

const PASSWORD = 'legacy-secret-admin-pw';
let controller: Controller | undefined;
let dir: string | undefined;
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const start = (dataDir: string, warnings: LogLine[], bootstrap: boolean): Promise<Controller> =>
  startController({
    dataDir,
    api: { host: '127.0.0.1', port: 0 },
    cluster: { host: '127.0.0.1', port: 0 },
    ...(bootstrap ? { bootstrap: { adminPassword: PASSWORD } } : {}),
    logger: collectingLogger(warnings, 'warn'),
  });

describe('the old shared cluster secret', () => {
  it('is removed when an upgraded node starts, with word that routers enroll now', async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdesk-legacy-secret-'));
    const warnings: LogLine[] = [];
    controller = await start(dir, warnings, true);
    await controller.stop();
    const file = join(dir, LEGACY_SECRET_FILE);
    await writeFile(file, 'the-old-shared-cluster-secret\n', { mode: 0o600 });

    controller = await start(dir, warnings, false);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    const said = warnings.filter((w) => w.message.startsWith('upgraded: the old shared cluster secret'));
    expect(said).toHaveLength(1);
    expect(said[0]?.message).toMatch(/meshdesk router enroll/);
    expect(JSON.stringify(warnings)).not.toContain('the-old-shared-cluster-secret');
    // And no route hands a routers' secret out.
    const token = await loginToController(controller.url, 'admin', PASSWORD);
    expect((await callController(controller.url, 'GET', '/cluster/router-secret', { token })).status).toBe(
      404,
    );
  });
});
