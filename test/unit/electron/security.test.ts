/**
 * The window's security rules, against small stand-ins for Electron's WebContents and Session
 * (the Electron binary cannot run here): navigation, new windows, external links, permissions,
 * the CSP on responses, trusted IPC senders.
 */
import { describe, expect, it } from 'vitest';
import {
  DESKTOP_CONTENT_SECURITY_POLICY,
  guardSession,
  guardWebContents,
  isExternalLink,
  isTrustedSender,
  secureWebPreferences,
  SETUP_ORIGIN,
  withContentSecurityPolicy,
  type SessionLike,
  type WebContentsLike,
} from '../../../electron/security.js';

type Listener = (event: { preventDefault(): void; url: string }, url: string) => void;

function fakeContents() {
  const listeners = new Map<string, Listener>();
  let openHandler: ((details: { url: string }) => { action: 'deny' }) | undefined;
  const contents = {
    on(event: string, listener: Listener) {
      listeners.set(event, listener);
      return contents;
    },
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }) {
      openHandler = handler;
    },
  } as unknown as WebContentsLike;
  /** Fires a renderer-initiated event; true when the app let it happen. */
  const fire = (event: string, url: string): boolean => {
    let prevented = false;
    listeners.get(event)?.({ preventDefault: () => (prevented = true), url }, url);
    return !prevented;
  };
  return { contents, fire, open: (url: string) => openHandler?.({ url }) };
}

describe('web preferences', () => {
  it('isolate, sandbox and give the page no Node', () => {
    expect(secureWebPreferences('/app/preload.cjs', ['--x'])).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      additionalArguments: ['--x'],
    });
  });
});

describe('navigation and new windows', () => {
  const opened: string[] = [];
  const { contents, fire, open } = fakeContents();
  guardWebContents(
    contents,
    () => ['http://127.0.0.1:8440'],
    (url) => opened.push(url),
  );

  it('allow only the page’s own origin, and send http(s) elsewhere to the browser', () => {
    expect(fire('will-navigate', 'http://127.0.0.1:8440/#/cluster')).toBe(true);
    expect(fire('will-navigate', 'http://127.0.0.1:9999/')).toBe(false);
    expect(fire('will-navigate', 'https://docs.example.org/')).toBe(false);
    expect(fire('will-redirect', 'https://evil.example/')).toBe(false);
    expect(fire('will-navigate', 'file:///etc/passwd')).toBe(false);
    expect(fire('will-navigate', 'javascript:alert(1)')).toBe(false);
    expect(fire('will-attach-webview', 'http://127.0.0.1:8440/')).toBe(false);
    expect(opened).toEqual(['http://127.0.0.1:9999/', 'https://docs.example.org/', 'https://evil.example/']);
  });

  it('deny every new window, opening only http(s) links externally', () => {
    opened.length = 0;
    expect(open('https://openziti.io/docs')).toEqual({ action: 'deny' });
    expect(open('file:///etc/passwd')).toEqual({ action: 'deny' });
    expect(open('meshdesk://setup/index.html')).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://openziti.io/docs']);
  });

  it('judge links by scheme', () => {
    expect(isExternalLink('http://a.example/')).toBe(true);
    expect(isExternalLink('mailto:x@example.org')).toBe(false);
    expect(isExternalLink('not a url')).toBe(false);
  });
});

describe('session', () => {
  const handlers: {
    request?: (c: unknown, p: string, cb: (g: boolean) => void) => void;
    check?: (c: unknown, p: string) => boolean;
    headers?: (d: { responseHeaders?: Record<string, string | string[]> }, cb: (r: unknown) => void) => void;
  } = {};
  const session: SessionLike = {
    setPermissionRequestHandler: (h) => void (handlers.request = h ?? undefined),
    setPermissionCheckHandler: (h) => void (handlers.check = h ?? undefined),
    webRequest: { onHeadersReceived: (l) => void (handlers.headers = l) },
  };
  guardSession(session);

  it('denies permissions except writing the clipboard', () => {
    const asked = (permission: string): boolean => {
      let granted: boolean | undefined;
      handlers.request?.({}, permission, (g) => (granted = g));
      return granted === true;
    };
    expect(asked('media')).toBe(false);
    expect(asked('geolocation')).toBe(false);
    expect(asked('notifications')).toBe(false);
    expect(asked('clipboard-sanitized-write')).toBe(true);
    expect(handlers.check?.({}, 'hid')).toBe(false);
  });

  it('adds a CSP to responses without one and keeps the node’s own', () => {
    let answer: unknown;
    handlers.headers?.({ responseHeaders: { 'Content-Type': ['text/html'] } }, (r) => (answer = r));
    expect(answer).toEqual({
      responseHeaders: {
        'Content-Type': ['text/html'],
        'Content-Security-Policy': [DESKTOP_CONTENT_SECURITY_POLICY],
      },
    });
    const own = { 'content-security-policy': ["default-src 'self'"] };
    expect(withContentSecurityPolicy(own)).toEqual(own);
    expect(DESKTOP_CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(DESKTOP_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
  });
});

describe('IPC senders', () => {
  it('are trusted only as the main frame of one of our pages', () => {
    expect(isTrustedSender({ url: 'meshdesk://setup/index.html', parent: null }, [SETUP_ORIGIN])).toBe(true);
    expect(isTrustedSender({ url: 'meshdesk://setup/index.html', parent: {} }, [SETUP_ORIGIN])).toBe(false);
    expect(isTrustedSender({ url: 'meshdesk://other/index.html' }, [SETUP_ORIGIN])).toBe(false);
    expect(isTrustedSender({ url: 'http://127.0.0.1:8440/' }, [SETUP_ORIGIN])).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/' }, [SETUP_ORIGIN])).toBe(false);
    expect(isTrustedSender(null, [SETUP_ORIGIN])).toBe(false);
  });
});
