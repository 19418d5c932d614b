/**
 * The window's security, as functions of Electron's objects (passed in, so they are tested
 * without Electron): hardened web preferences, navigation and new windows denied, external
 * http(s) links handed to the system browser, permissions denied, a Content-Security-Policy on
 * every response, and the check that an IPC message comes from a frame we trust.
 */

/** The setup page's origin (our custom protocol, see setup-protocol.ts). */
export const SETUP_ORIGIN = 'meshdesk://setup';

/** The policy for what we serve ourselves (the setup page), and for any response without one. */
export const DESKTOP_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export interface SecureWebPreferences {
  readonly preload: string;
  readonly contextIsolation: true;
  readonly sandbox: true;
  readonly nodeIntegration: false;
  readonly nodeIntegrationInWorker: false;
  readonly nodeIntegrationInSubFrames: false;
  readonly webSecurity: true;
  readonly allowRunningInsecureContent: false;
  readonly webviewTag: false;
  readonly navigateOnDragDrop: false;
  readonly safeDialogs: true;
  readonly spellcheck: false;
  readonly additionalArguments: string[];
}

export function secureWebPreferences(
  preload: string,
  additionalArguments: string[] = [],
): SecureWebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    additionalArguments,
  };
}

export function originOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  // Custom schemes registered as standard have an origin; Node's URL says 'null' for them.
  return parsed.origin !== 'null' ? parsed.origin : `${parsed.protocol}//${parsed.host}`;
}

/** Links we hand to the system browser: http(s) only (no file:, javascript:, custom schemes). */
export function isExternalLink(url: string): boolean {
  return URL.canParse(url) && /^https?:$/.test(new URL(url).protocol);
}

/** Whether a frame may use the bridge: the main frame's page is one of ours. */
export function isTrustedSender(
  frame: { readonly url: string; readonly parent?: unknown } | null | undefined,
  trustedOrigins: readonly string[],
): boolean {
  if (!frame || (frame.parent !== undefined && frame.parent !== null)) return false;
  const origin = originOf(frame.url);
  return origin !== undefined && trustedOrigins.includes(origin);
}

/** What guardWebContents uses of Electron's WebContents. */
export interface WebContentsLike {
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (event: { preventDefault(): void; url: string }, url: string) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Navigation stays on the page's own origins (`allowedOrigins()`: a reload of the admin UI);
 * anything else is cancelled, and an http(s) target opens in the system browser. Every new
 * window is denied the same way; webviews are never attached.
 */
export function guardWebContents(
  contents: WebContentsLike,
  allowedOrigins: () => readonly string[],
  openExternal: (url: string) => void,
): void {
  const onNavigate = (event: { preventDefault(): void }, url: string): void => {
    const origin = originOf(url);
    if (origin !== undefined && allowedOrigins().includes(origin)) return;
    event.preventDefault();
    if (isExternalLink(url)) openExternal(url);
  };
  contents.on('will-navigate', onNavigate);
  contents.on('will-redirect', onNavigate);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) openExternal(url);
    return { action: 'deny' };
  });
}

type Headers = Record<string, string | string[]>;

/** Adds our Content-Security-Policy to response headers that carry none (the node sends its own). */
export function withContentSecurityPolicy(headers: Headers | undefined): Headers {
  const out: Headers = { ...headers };
  if (!Object.keys(out).some((name) => name.toLowerCase() === 'content-security-policy')) {
    out['Content-Security-Policy'] = [DESKTOP_CONTENT_SECURITY_POLICY];
  }
  return out;
}

/** What guardSession uses of Electron's Session. */
export interface SessionLike {
  setPermissionRequestHandler(
    handler: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null,
  ): void;
  setPermissionCheckHandler(handler: ((contents: unknown, permission: string) => boolean) | null): void;
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { responseHeaders?: Headers },
        callback: (response: { responseHeaders?: Headers }) => void,
      ) => void,
    ): void;
  };
}

/** The one permission granted: writing to the clipboard (the setup page copies the password). */
const GRANTED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

export function guardSession(session: SessionLike): void {
  session.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(GRANTED_PERMISSIONS.has(permission)),
  );
  session.setPermissionCheckHandler((_contents, permission) => GRANTED_PERMISSIONS.has(permission));
  session.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) }),
  );
}
