/**
 * A stand-in for the `electron` module, for running the packaged main process under plain Node
 * (the Electron binary cannot be fetched here). It plays a user on first run: loads the setup page
 * through the registered protocol, presses "create a new cluster" and "open the admin UI" through
 * the registered IPC handlers, and prints what the app did as `FAKE {json}` lines.
 */
/** Electron's fuse sentinel (@electron/fuses finds the fuse wire right after it). */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

/**
 * A stand-in Electron executable: a shell script that carries a fuse wire as Electron 45 ships it
 * (wire version 1, 8 fuses as ASCII '0'/'1': RunAsNode on, cookie encryption off, NODE_OPTIONS on,
 * --inspect on, asar integrity off, only-asar off, browser V8 snapshot off, file:// privileges on),
 * so that packaging flips its fuses as it would a real binary's.
 */
export function standInElectronExecutable(): Buffer {
  return Buffer.concat([
    Buffer.from('#!/bin/sh\necho stand-in electron\nexit 0\n# '),
    Buffer.from(FUSE_SENTINEL),
    Buffer.from([1, 8]),
    Buffer.from('10110001'),
    Buffer.from('\n'),
  ]);
}

export const FAKE_ELECTRON_PACKAGE = JSON.stringify({ name: 'electron', type: 'module', main: 'index.js' });

export const FAKE_ELECTRON_INDEX = `
const handlers = new Map();
let protocolHandler;
const say = (o) => process.stdout.write('FAKE ' + JSON.stringify(o) + '\\n');
export const app = {
  getAppPath: () => process.env.FAKE_APP_ROOT,
  requestSingleInstanceLock: () => true,
  whenReady: async () => undefined,
  on: () => undefined,
  getVersion: () => '0.0.0-fake',
  quit: () => say({ quit: true }),
  exit: (code) => process.exit(code),
};
export const protocol = {
  registerSchemesAsPrivileged: () => undefined,
  handle: (_scheme, handler) => (protocolHandler = handler),
};
export const session = {
  defaultSession: {
    setPermissionRequestHandler: () => undefined,
    setPermissionCheckHandler: () => undefined,
    setCertificateVerifyProc: () => say({ certificateVerifyProc: true }),
    webRequest: { onHeadersReceived: () => undefined },
  },
};
export const ipcMain = { handle: (c, h) => handlers.set(c, h), removeHandler: (c) => handlers.delete(c) };
export const shell = { openExternal: () => undefined };
export const dialog = { showErrorBox: (title, message) => say({ error: title, message }) };
export const Menu = { buildFromTemplate: (t) => t };
export class Tray {
  constructor(image) { say({ tray: image }); }
  setImage(image) { say({ tray: image }); }
  setToolTip() {}
  setContextMenu() {}
  on() {}
}
export class BrowserWindow {
  constructor(options) { this.options = options; }
  once() {}
  on() {}
  isDestroyed() { return false; }
  isMinimized() { return false; }
  focus() {}
  close() { say({ closed: this.url }); }
  async loadURL(url) {
    this.url = url;
    say({ window: url, preload: this.options.webPreferences.preload, sandbox: this.options.webPreferences.sandbox,
      args: this.options.webPreferences.additionalArguments });
    if (!url.startsWith('meshdesk://')) return;
    const page = await protocolHandler(new Request(url));
    say({ setupPage: page.status, csp: page.headers.get('content-security-policy') });
    const frame = { senderFrame: { url } };
    const untrusted = await handlers.get('meshdesk:create-cluster')({ senderFrame: { url: 'https://evil.example/' } })
      .then(() => 'accepted', (e) => e.code);
    say({ untrusted });
    say({ created: await handlers.get('meshdesk:create-cluster')(frame) });
    await handlers.get('meshdesk:open-admin-ui')(frame);
  }
}
`;
