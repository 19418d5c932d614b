/**
 * The Electron main process, kept to wiring: single-instance lock, the hardened session and
 * windows, the setup protocol, the bridge's IPC, the tray, the log file. What it does lives in
 * modules that take Electron's objects as parameters (desktop-app.ts, security.ts, ipc.ts,
 * tray-state.ts, setup-protocol.ts), tested without the binary. The node runs in this process,
 * created through core/controller.ts (desktop-node.ts).
 *
 * Paths are relative to the app's root (the repository, or app.asar when packaged):
 * dist/electron/ (this bundle, preload.cjs, setup/), renderer/dist/, build/tray/.
 */
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell, Tray } from 'electron';
import { apiBaseUrlFromArgv, API_BASE_URL_ARG } from './bridge.js';
import { clusterCaFile } from '../core/cluster/credentials.js';
import { trustClusterCa } from './cluster-trust.js';
import { DesktopApp, type DesktopShell } from './desktop-app.js';
import { desktopNodeSettings, isFirstRun, startDesktopNode } from './desktop-node.js';
import { registerIpc } from './ipc.js';
import { createDesktopLog } from './logging.js';
import {
  guardSession,
  guardWebContents,
  isTrustedSender,
  originOf,
  secureWebPreferences,
  SETUP_ORIGIN,
} from './security.js';
import { SETUP_SCHEME, SETUP_URL, setupResponse } from './setup-protocol.js';
import { createTrayIndicator, type TrayMenuItem } from './tray-state.js';

protocol.registerSchemesAsPrivileged([
  { scheme: SETUP_SCHEME, privileges: { standard: true, secure: true } },
]);

const root = app.getAppPath();
const paths = {
  preload: join(root, 'dist', 'electron', 'preload.cjs'),
  setup: join(root, 'dist', 'electron', 'setup'),
  ui: join(root, 'renderer', 'dist'),
  tray: (state: string) => join(root, 'build', 'tray', `${state}.png`),
  icon: join(root, 'build', 'icons', '256x256.png'),
};

if (!app.requestSingleInstanceLock()) {
  // Another meshdesk owns the node and its data directory; it shows its window (second-instance).
  app.quit();
} else {
  void main();
}

async function main(): Promise<void> {
  const settings = desktopNodeSettings();
  const log = createDesktopLog(join(settings.dataDir, 'logs'), {
    level: process.env.MESHDESK_LOG_LEVEL ?? 'info',
  });
  const logger = log.logger;
  process.on('uncaughtException', (err) => logger.fatal({ err }, 'uncaught exception'));
  await app.whenReady();
  logger.info({ version: app.getVersion(), dataDir: settings.dataDir }, 'meshdesk desktop starting');

  guardSession(session.defaultSession);
  // An API bound beyond loopback is HTTPS from the cluster CA: this app's windows trust it.
  trustClusterCa(session.defaultSession, clusterCaFile(settings.dataDir));
  protocol.handle(SETUP_SCHEME, (request) => setupResponse(request.url, paths.setup));
  app.on('web-contents-created', (_event, contents) => {
    guardWebContents(
      contents,
      () => {
        const page = originOf(contents.getURL());
        return page ? [page] : [];
      },
      (url) => void shell.openExternal(url),
    );
  });

  let setupWindow: BrowserWindow | undefined;
  let adminWindow: BrowserWindow | undefined;
  const windowOptions = (extraArgs: string[]) => ({
    width: 1280,
    height: 860,
    show: false,
    icon: paths.icon,
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(paths.preload, extraArgs),
  });
  const shellParts: DesktopShell = {
    openSetupWindow() {
      if (setupWindow && !setupWindow.isDestroyed()) return void setupWindow.focus();
      const win = new BrowserWindow({ ...windowOptions([]), width: 820, height: 640 });
      win.once('ready-to-show', () => win.show());
      win.on('closed', () => (setupWindow = undefined));
      void win.loadURL(SETUP_URL);
      setupWindow = win;
    },
    closeSetupWindow() {
      setupWindow?.close();
    },
    openAdminWindow(uiUrl) {
      if (adminWindow && !adminWindow.isDestroyed()) {
        if (adminWindow.isMinimized()) adminWindow.restore();
        return void adminWindow.focus();
      }
      const arg = `${API_BASE_URL_ARG}${uiUrl}`;
      const win = new BrowserWindow(windowOptions(apiBaseUrlFromArgv([arg]) ? [arg] : []));
      win.once('ready-to-show', () => win.show());
      win.on('closed', () => (adminWindow = undefined));
      void win.loadURL(`${uiUrl}/`);
      adminWindow = win;
    },
    showError(title, message) {
      dialog.showErrorBox(title, `${message}\n\nThe log is ${log.file}.`);
    },
  };

  const tray = new Tray(paths.tray('stopped'));
  let quitting = false;
  const quit = (): void => {
    quitting = true;
    app.quit();
  };
  const indicator = createTrayIndicator({
    tray,
    buildMenu: (template: TrayMenuItem[]) => Menu.buildFromTemplate(template),
    iconPath: paths.tray,
    actions: { open: () => desktop.open(), quit },
  });
  const desktop = new DesktopApp({
    shell: shellParts,
    indicator,
    logger,
    isFirstRun: () => isFirstRun(settings.dataDir),
    startNode: (mode) => startDesktopNode(settings, mode, { logger, uiDir: paths.ui }),
  });
  registerIpc(ipcMain, desktop, (frame) => isTrustedSender(frame, [SETUP_ORIGIN]));
  tray.on('click', () => desktop.open());

  app.on('second-instance', () => desktop.open());
  // Closing the windows leaves the node running in the tray; Quit (tray) stops it.
  app.on('window-all-closed', () => {
    if (quitting) app.quit();
  });
  app.on('before-quit', (event) => {
    quitting = true;
    if (!desktop.node) return;
    event.preventDefault();
    void desktop
      .stop()
      .catch((err: unknown) => logger.error({ err }, 'stopping the node failed'))
      .finally(() => void log.close().finally(() => app.exit(0)));
  });

  if (!(await desktop.launch())) {
    await log.close();
    app.exit(1);
  }
}
