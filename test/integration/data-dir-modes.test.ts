/**
 * A data directory is its owner's alone: after a bootstrap, writes and a snapshot, nothing under it
 * has group or other permissions, files of an earlier version (0644) included; and the generated
 * admin password file goes once that password no longer works.
 */
import { chmod, lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../core/controller.js';
import { callController } from '../support/controller-api.js';
import { waitFor } from '../support/wait.js';

let controller: Controller | undefined;
let dir: string | undefined;
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every path under `root` whose mode lets its group or others in, with that mode. */
async function loose(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path);
    if ((info.mode & 0o077) !== 0)
      found.push(`${path.slice(root.length) || '/'} ${(info.mode & 0o777).toString(8)}`);
    if (info.isDirectory()) for (const entry of await readdir(path)) await visit(join(path, entry));
  };
  await visit(root);
  return found;
}

const api = (method: string, path: string, body?: unknown, token?: string): Promise<Response> =>
  callController(controller!.url, method, path, { body, token });

describe('the data directory', () => {
  it('is owner-only, every file in it, and an earlier version’s loose files are tightened', async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdesk-modes-'));
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'left-by-an-earlier-version'), 'x', { mode: 0o644 });
    controller = await startController({
      dataDir: dir,
      api: { host: '127.0.0.1', port: 0 },
      cluster: { host: '127.0.0.1', port: 0 },
      bootstrap: {},
      replica: { snapshotEvery: 5 },
    });
    const password = controller.generatedAdminPassword as string;
    const login = await api('POST', '/auth/login', { username: 'admin', password });
    const { token } = (await login.json()) as { token: string };
    for (let i = 0; i < 8; i++)
      expect((await api('POST', '/identities', { name: `m${i}` }, token)).status).toBe(201);
    expect((await api('POST', '/cluster/snapshot', undefined, token)).status).toBe(200);
    expect(await loose(dir)).toEqual([]);
  });

  it('loses the generated admin password file once that password is changed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdesk-modes-'));
    controller = await startController({
      dataDir: dir,
      api: { host: '127.0.0.1', port: 0 },
      cluster: { host: '127.0.0.1', port: 0 },
      bootstrap: {},
    });
    const file = join(dir, 'admin-password');
    expect((await lstat(file)).mode & 0o777).toBe(0o600);
    const password = controller.generatedAdminPassword as string;
    const { token } = (await (await api('POST', '/auth/login', { username: 'admin', password })).json()) as {
      token: string;
    };
    // Logging in keeps it: it may be the only copy of the only admin's password.
    await expect(lstat(file)).resolves.toBeDefined();
    const admins = (await (await api('GET', '/admins', undefined, token)).json()) as {
      data: { id: string }[];
    };
    const changed = await api(
      'PATCH',
      `/admins/${admins.data[0]!.id}`,
      { password: 'a password I chose' },
      token,
    );
    expect(changed.status).toBe(200);
    await waitFor(
      async () => (await lstat(file).catch(() => undefined)) === undefined,
      'the file to be removed',
    );
  });
});
