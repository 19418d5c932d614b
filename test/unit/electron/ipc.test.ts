/** The bridge's IPC handlers, registered on a stand-in for Electron's ipcMain. */
import { describe, expect, it } from 'vitest';
import {
  API_BASE_URL_ARG,
  apiBaseUrlFromArgv,
  CHANNELS,
  type JoinRequest,
} from '../../../electron/bridge.js';
import { registerIpc, type IpcMainLike, type InvokeEventLike } from '../../../electron/ipc.js';
import { isTrustedSender, SETUP_ORIGIN } from '../../../electron/security.js';
import { testJoinToken } from '../../support/test-pki.js';

type Handler = (event: InvokeEventLike, ...args: unknown[]) => unknown;

function setup() {
  const handlers = new Map<string, Handler>();
  const ipcMain: IpcMainLike = {
    handle: (channel, listener) => void handlers.set(channel, listener),
    removeHandler: (channel) => void handlers.delete(channel),
  };
  const calls: string[] = [];
  const joined: JoinRequest[] = [];
  const unregister = registerIpc(
    ipcMain,
    {
      createCluster: async () => (
        calls.push('create'),
        { ok: true, uiUrl: 'http://127.0.0.1:8440', adminPassword: 'pw' }
      ),
      joinCluster: async (request) => (joined.push(request), { ok: true, uiUrl: 'http://127.0.0.1:8440' }),
      openAdminUi: async () => void calls.push('open'),
    },
    (frame) => isTrustedSender(frame, [SETUP_ORIGIN]),
  );
  const setupPage = { senderFrame: { url: 'meshdesk://setup/index.html' } };
  const invoke = (channel: string, event: InvokeEventLike, ...args: unknown[]) =>
    handlers.get(channel)?.(event, ...args);
  return { handlers, calls, joined, unregister, setupPage, invoke };
}

describe('IPC', () => {
  it('has one channel per action', () => {
    const { handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual(Object.values(CHANNELS).sort());
  });

  it('acts for the setup page', async () => {
    const { invoke, setupPage, calls } = setup();
    await expect(invoke(CHANNELS.createCluster, setupPage)).resolves.toMatchObject({
      ok: true,
      adminPassword: 'pw',
    });
    await invoke(CHANNELS.openAdminUi, setupPage);
    expect(calls).toEqual(['create', 'open']);
  });

  it('refuses other senders before acting', async () => {
    const { invoke, calls } = setup();
    for (const url of ['http://127.0.0.1:8440/', 'https://evil.example/', 'meshdesk://elsewhere/']) {
      await expect(invoke(CHANNELS.createCluster, { senderFrame: { url } })).rejects.toMatchObject({
        code: 'UNTRUSTED_SENDER',
      });
    }
    await expect(invoke(CHANNELS.openAdminUi, { senderFrame: null })).rejects.toThrow(/refused IPC/);
    expect(calls).toEqual([]);
  });

  it('validates a join request and says what is wrong', async () => {
    const { invoke, setupPage, joined } = setup();
    const good = { token: await testJoinToken('c-ipc') };
    await expect(invoke(CHANNELS.joinCluster, setupPage, good)).resolves.toMatchObject({ ok: true });
    // One character changed (to one it was not: the token is random, and may hold an x there).
    const other = good.token[20] === 'x' ? 'y' : 'x';
    const bad = [
      [{ token: 'http://192.168.1.20:8440' }, /not a join token/],
      [{ token: good.token.slice(0, -10) }, /damaged/],
      [{ token: `${good.token.slice(0, 20)}${other}${good.token.slice(21)}` }, /damaged/],
      [{ token: 'x'.repeat(5000) }, /too long/],
      [
        { url: 'http://192.168.1.20:8440', secret: 'a-secret-of-enough-length' },
        /Unrecognized key|expected string/i,
      ],
      [{ ...good, extra: 1 }, /Unrecognized key/i],
      ['a string', /expected object/i],
    ] as const;
    for (const [input, message] of bad) {
      const answer = (await invoke(CHANNELS.joinCluster, setupPage, input)) as { ok: boolean; error: string };
      expect(answer.ok).toBe(false);
      expect(answer.error).toMatch(message);
    }
    expect(joined).toEqual([good]);
  });

  it('removes its handlers', () => {
    const { handlers, unregister } = setup();
    unregister();
    expect(handlers.size).toBe(0);
  });
});

describe('the API base URL argument', () => {
  it('passes a loopback http URL only', () => {
    expect(apiBaseUrlFromArgv(['x', `${API_BASE_URL_ARG}http://127.0.0.1:8440`])).toBe(
      'http://127.0.0.1:8440',
    );
    expect(apiBaseUrlFromArgv([`${API_BASE_URL_ARG}http://[::1]:9000`])).toBe('http://[::1]:9000');
    expect(apiBaseUrlFromArgv([`${API_BASE_URL_ARG}https://evil.example`])).toBeUndefined();
    expect(apiBaseUrlFromArgv([`${API_BASE_URL_ARG}http://127.0.0.1:8440/x`])).toBeUndefined();
    expect(apiBaseUrlFromArgv([])).toBeUndefined();
  });
});
