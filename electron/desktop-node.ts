/**
 * The desktop app's node: where it keeps its data (the same app-data folder as `meshdesk start`,
 * so the desktop app and the headless node are the same node), whether this is the first run, and
 * starting it through core/controller.ts — resuming, creating a new cluster, or joining one.
 * Node-only: tested for real, without Electron.
 */
import type { Logger } from 'pino';
import { hostPort } from '../core/cli/args.js';
import { loadCredentials } from '../core/cluster/credentials.js';
import { startController, type Controller } from '../core/controller.js';
import { defaultDataDir } from '../core/files.js';

export interface DesktopNodeSettings {
  readonly dataDir: string;
  /** The API and UI listener: loopback, the window is its only client. */
  readonly api: { readonly host: string; readonly port: number };
  /** The cluster listener that other members dial. */
  readonly cluster: { readonly host: string; readonly port: number };
  readonly advertise?: string;
}

/** Defaults as `meshdesk start`'s; MESHDESK_DATA_DIR, MESHDESK_API, MESHDESK_CLUSTER, MESHDESK_ADVERTISE override. */
export function desktopNodeSettings(env: NodeJS.ProcessEnv = process.env): DesktopNodeSettings {
  const advertise = env.MESHDESK_ADVERTISE;
  if (advertise) hostPort('advertise', advertise);
  return {
    dataDir: env.MESHDESK_DATA_DIR || defaultDataDir(env),
    api: hostPort('api', env.MESHDESK_API || '127.0.0.1:8440'),
    cluster: hostPort('cluster', env.MESHDESK_CLUSTER || '0.0.0.0:8441'),
    ...(advertise ? { advertise } : {}),
  };
}

/** The first run is a data directory that never belonged to a cluster (it has no certificate). */
export async function isFirstRun(dataDir: string): Promise<boolean> {
  return (await loadCredentials(dataDir)) === undefined;
}

export type StartMode =
  | { readonly kind: 'resume' }
  | { readonly kind: 'create' }
  | { readonly kind: 'join'; readonly token: string };

export async function startDesktopNode(
  settings: DesktopNodeSettings,
  mode: StartMode,
  options: { readonly logger: Logger; readonly uiDir?: string; readonly replica?: { tickMs?: number } },
): Promise<Controller> {
  return startController({
    dataDir: settings.dataDir,
    api: settings.api,
    cluster: settings.cluster,
    ...(settings.advertise ? { advertise: settings.advertise } : {}),
    ...(mode.kind === 'create' ? { bootstrap: {} } : {}),
    ...(mode.kind === 'join' ? { join: { token: mode.token } } : {}),
    ...(options.uiDir ? { uiDir: options.uiDir } : {}),
    ...(options.replica ? { replica: options.replica } : {}),
    logger: options.logger,
  });
}
