/**
 * Upgrading in place from the version before join tokens: a node that still has the old shared
 * `cluster-secret` file moves it into the model as the routers' secret (so existing routers keep
 * working) and removes the file; a model that already has a routers' secret keeps it.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LEGACY_SECRET_FILE, LegacySecretAdoption } from '../../core/cluster/legacy-secret.js';
import { encodeCommand } from '../../core/model/commands.js';
import { readSetting, ROUTER_SECRET_SETTING } from '../../core/model/settings.js';
import { startApiNode, type ApiNode } from '../support/api-node.js';
import { useTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait.js';

const dir = useTempDir();
const logger = pino({ level: 'silent' });
let api: ApiNode | undefined;
let adoption: LegacySecretAdoption | undefined;
afterEach(async () => {
  adoption?.stop();
  await api?.stop();
  api = undefined;
});

describe('the old cluster secret', () => {
  it('becomes the routers’ secret in the model, and its file goes', async () => {
    const a = (api = await startApiNode(dir()));
    const file = join(dir(), LEGACY_SECRET_FILE);
    await writeFile(file, 'the-old-shared-cluster-secret\n', { mode: 0o600 });
    adoption = new LegacySecretAdoption(dir());
    expect(await adoption.read()).toBe('the-old-shared-cluster-secret');
    adoption.adopt(a.node.replica, () => a.model.model, logger);
    await waitFor(async () => (await stat(file).catch(() => undefined)) === undefined, 'the file to go');
    expect(readSetting(a.model.model, ROUTER_SECRET_SETTING)).toBe('the-old-shared-cluster-secret');
    expect((await a.call('GET', '/cluster/router-secret')).body).toEqual({
      secret: 'the-old-shared-cluster-secret',
    });
  });

  it('does not replace a routers’ secret the model already has', async () => {
    const a = (api = await startApiNode(dir()));
    const at = new Date().toISOString();
    await a.node.replica.propose(
      encodeCommand({ op: 'setSetting', key: ROUTER_SECRET_SETTING, value: 'already-in-the-model', at }),
    );
    const file = join(dir(), LEGACY_SECRET_FILE);
    await writeFile(file, 'the-old-shared-cluster-secret\n', { mode: 0o600 });
    adoption = new LegacySecretAdoption(dir());
    adoption.adopt(a.node.replica, () => a.model.model, logger);
    await waitFor(async () => (await stat(file).catch(() => undefined)) === undefined, 'the file to go');
    expect(readSetting(a.model.model, ROUTER_SECRET_SETTING)).toBe('already-in-the-model');
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });

  it('is not handed out without an admin token', async () => {
    const a = (api = await startApiNode(dir()));
    expect((await a.call('GET', '/cluster/router-secret', { token: null })).status).toBe(401);
    const none = await a.call('GET', '/cluster/router-secret');
    expect([none.status, none.body.code]).toEqual([503, 'NO_ROUTER_SECRET']);
  });
});
