/**
 * The preload of every window (sandboxed, context-isolated): exposes `window.meshdesk`, one
 * function per action. The main process checks each sender's origin again; this list is not the
 * security boundary, just the smallest surface.
 */
import { contextBridge, ipcRenderer } from 'electron';
import {
  apiBaseUrlFromArgv,
  CHANNELS,
  type DesktopBridge,
  type JoinRequest,
  type SetupResult,
} from './bridge.js';

const apiBaseUrl = apiBaseUrlFromArgv(process.argv);

const bridge = {
  shell: 'electron',
  ...(apiBaseUrl ? { apiBaseUrl } : {}),
  createCluster: (): Promise<SetupResult> => ipcRenderer.invoke(CHANNELS.createCluster),
  joinCluster: (request: JoinRequest): Promise<SetupResult> =>
    ipcRenderer.invoke(CHANNELS.joinCluster, { token: String(request.token) }),
  openAdminUi: (): Promise<void> => ipcRenderer.invoke(CHANNELS.openAdminUi),
} satisfies DesktopBridge;

contextBridge.exposeInMainWorld('meshdesk', bridge);
