/**
 * The admin UI's built files, served at `/` with a fallback to index.html for client-side routes.
 * Its responses carry a Content-Security-Policy that allows nothing remote: the app works offline
 * and a compromised dependency cannot exfiltrate to another origin.
 */
import fastifyStatic from '@fastify/static';
import type { ZodApp } from './deps.js';

export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Headers every response carries, API and UI alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export async function serveUi(app: ZodApp, uiDir: string): Promise<void> {
  await app.register(fastifyStatic, { root: uiDir, prefix: '/', index: ['index.html'], wildcard: true });
}

/** Whether a path is the UI's (not the API's nor socket.io's). */
export function isUiPath(url: string): boolean {
  return !url.startsWith('/api/') && !url.startsWith('/socket.io/');
}
