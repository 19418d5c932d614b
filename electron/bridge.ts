/**
 * The contract between the preload script and the main process: the IPC channels (one per
 * action, no generic invoke) and the API the preload exposes as `window.meshdesk`. Types and
 * constants only, so the sandboxed preload bundle stays small.
 */

export const CHANNELS = {
  createCluster: 'meshdesk:create-cluster',
  joinCluster: 'meshdesk:join-cluster',
  openAdminUi: 'meshdesk:open-admin-ui',
} as const;

export interface JoinRequest {
  /**
   * A one-time join token from a member (its Cluster page's "Invite a member", or
   * `meshdesk cluster invite`): it names the member to ask and pins the cluster CA.
   */
  readonly token: string;
}

export type SetupResult =
  | {
      readonly ok: true;
      /** The UI's address (the node's local API). */
      readonly uiUrl: string;
      /** A new cluster's generated admin password: shown once, never stored by the window. */
      readonly adminPassword?: string;
    }
  | { readonly ok: false; readonly error: string };

/** `window.meshdesk` in the desktop app; absent in a browser. */
export interface DesktopBridge {
  readonly shell: 'electron';
  /** The node's API, for the admin UI (renderer/src reads it); unset on the setup page. */
  readonly apiBaseUrl?: string;
  createCluster(): Promise<SetupResult>;
  joinCluster(request: JoinRequest): Promise<SetupResult>;
  openAdminUi(): Promise<void>;
}

/** The argument that carries the API's URL to the admin window's preload (`additionalArguments`). */
export const API_BASE_URL_ARG = '--meshdesk-api-base-url=';

export function apiBaseUrlFromArgv(argv: readonly string[]): string | undefined {
  const arg = argv.find((a) => a.startsWith(API_BASE_URL_ARG));
  const value = arg?.slice(API_BASE_URL_ARG.length);
  return value && /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d+$/.test(value) ? value : undefined;
}
