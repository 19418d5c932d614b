/**
 * The desktop app's flow with real nodes (core/controller.ts, in this process) and a recording
 * stand-in for Electron's windows and tray: first run shows the setup page; creating a cluster
 * returns the admin password once and opens the admin UI; the next launch resumes; a second
 * workstation joins with a join token the first one minted; quitting stops the node.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DesktopApp, type DesktopShell } from '../../../electron/desktop-app.js';
import {
  desktopNodeSettings,
  isFirstRun,
  startDesktopNode,
  type DesktopNodeSettings,
} from '../../../electron/desktop-node.js';
import { createTrayIndicator } from '../../../electron/tray-state.js';
import { useTempDir } from '../../support/temp-dir.js';
import { waitFor } from '../../support/wait.js';

const logger = pino({ level: 'silent' });

function recordingShell(): DesktopShell & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    openSetupWindow: () => void events.push('setup'),
    closeSetupWindow: () => void events.push('close-setup'),
    openAdminWindow: (url) => void events.push(`admin ${url}`),
    showError: (title, message) => void events.push(`error ${title}: ${message}`),
  };
}

function desktop(settings: DesktopNodeSettings) {
  const shell = recordingShell();
  const images: string[] = [];
  const indicator = createTrayIndicator({
    tray: {
      setImage: (i) => void images.push(i),
      setToolTip: () => undefined,
      setContextMenu: () => undefined,
    },
    buildMenu: (t) => t,
    iconPath: (state) => state,
    actions: { open: () => undefined, quit: () => undefined },
  });
  const app = new DesktopApp({
    shell,
    indicator,
    logger,
    isFirstRun: () => isFirstRun(settings.dataDir),
    startNode: (mode) => startDesktopNode(settings, mode, { logger, replica: { tickMs: 20 } }),
  });
  return { app, shell, indicator, images };
}

const running: DesktopApp[] = [];

describe('the desktop app', () => {
  const dir = useTempDir('meshdesk-desktop-');
  // Registered after the temporary directory's hook, so it runs before it: nodes stop first.
  afterEach(async () => {
    await Promise.all(running.splice(0).map((a) => a.stop()));
  });
  const settingsFor = (name: string): DesktopNodeSettings => ({
    dataDir: join(dir(), name),
    api: { host: '127.0.0.1', port: 0 },
    cluster: { host: '127.0.0.1', port: 0 },
  });

  it('sets up a new cluster on the first run and resumes it on the next', async () => {
    const settings = settingsFor('a');
    const first = desktop(settings);
    running.push(first.app);
    expect(await first.app.launch()).toBe(true);
    expect(first.shell.events).toEqual(['setup']);

    const created = await first.app.createCluster();
    if (!created.ok) throw new Error(created.error);
    expect(created.adminPassword).toMatch(/^[\w-]{20,}$/);
    expect(await readFile(join(settings.dataDir, 'admin-password'), 'utf8')).toBe(
      `${created.adminPassword}\n`,
    );
    await waitFor(() => first.indicator.state === 'leader', 'the tray to show leader');
    expect(await first.app.createCluster()).toEqual({ ok: false, error: 'the node is already running' });
    await first.app.openAdminUi();
    expect(first.shell.events).toEqual(['setup', `admin ${created.uiUrl}`, 'close-setup']);
    const login = await fetch(`${created.uiUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: created.adminPassword }),
    });
    expect(login.status).toBe(200);
    await first.app.stop();
    expect(first.indicator.state).toBe('stopped');

    const again = desktop(settings);
    running.push(again.app);
    expect(await again.app.launch()).toBe(true);
    expect(again.shell.events).toEqual([`admin ${again.app.node?.url}`]);
    await waitFor(() => again.indicator.state === 'leader', 'the resumed node to lead');
  });

  it('joins a cluster with a join token a member minted, and says why it cannot', async () => {
    const a = desktop(settingsFor('a'));
    running.push(a.app);
    const created = await a.app.createCluster();
    if (!created.ok) throw new Error(created.error);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, read loosely
    const call = async (method: string, path: string, token?: string): Promise<any> => {
      const response = await fetch(`${created.uiUrl}/api/v1${path}`, {
        method,
        headers: {
          ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body:
          method === 'POST'
            ? JSON.stringify(token ? {} : { username: 'admin', password: created.adminPassword })
            : null,
      });
      return response.json();
    };
    const admin = (await call('POST', '/auth/login')).token as string;
    const revoked = await call('POST', '/cluster/invitations', admin);
    expect(
      (await call('DELETE', `/cluster/invitations/${revoked.invitation.id as string}`, admin)).state,
    ).toBe('revoked');

    // A revoked token is refused with a reason, and leaves nothing that stops a retry.
    const wrong = desktop(settingsFor('b'));
    running.push(wrong.app);
    const refused = await wrong.app.joinCluster({ token: revoked.token });
    expect(refused).toEqual({
      ok: false,
      error: expect.stringMatching(/refused to accept the join token \(410\): .*revoked/),
    });
    expect(wrong.app.node).toBeUndefined();
    expect(await isFirstRun(settingsFor('b').dataDir)).toBe(true);

    const b = desktop(settingsFor('b'));
    running.push(b.app);
    const joined = await b.app.joinCluster({
      token: (await call('POST', '/cluster/invitations', admin)).token,
    });
    if (!joined.ok) throw new Error(joined.error);
    expect(joined.adminPassword).toBeUndefined();
    await waitFor(() => b.indicator.state === 'follower', 'the joined node to follow');
    expect(await isFirstRun(settingsFor('b').dataDir)).toBe(false);
  });

  it('reports a node that cannot start', async () => {
    const settings = settingsFor('c');
    const first = desktop(settings);
    running.push(first.app);
    await first.app.createCluster();
    // A second app on the same data directory: the node's lock refuses it.
    const second = desktop(settings);
    expect(await second.app.launch()).toBe(false);
    expect(second.shell.events).toEqual([
      expect.stringMatching(/^error meshdesk could not start its node: /),
    ]);
  });
});

describe('desktop node settings', () => {
  it('default to meshdesk start’s, and read overrides from the environment', () => {
    expect(desktopNodeSettings({ XDG_DATA_HOME: '/x' })).toEqual({
      dataDir: process.platform === 'linux' ? '/x/meshdesk' : expect.any(String),
      api: { host: '127.0.0.1', port: 8440 },
      cluster: { host: '0.0.0.0', port: 8441 },
    });
    expect(
      desktopNodeSettings({
        MESHDESK_DATA_DIR: '/d',
        MESHDESK_API: '127.0.0.1:9440',
        MESHDESK_CLUSTER: '0.0.0.0:9441',
        MESHDESK_ADVERTISE: '10.0.0.5:9441',
      }),
    ).toEqual({
      dataDir: '/d',
      api: { host: '127.0.0.1', port: 9440 },
      cluster: { host: '0.0.0.0', port: 9441 },
      advertise: '10.0.0.5:9441',
    });
    expect(() => desktopNodeSettings({ MESHDESK_API: 'nonsense' })).toThrow(/HOST:PORT/);
  });
});
