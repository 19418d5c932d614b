/**
 * The `meshdesk://setup/…` protocol: serves the first-run page's files from one directory, with
 * our Content-Security-Policy, and nothing outside it. A pure function of the request URL, so the
 * path checks are tested without Electron; main.ts hands it to `protocol.handle`.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { DESKTOP_CONTENT_SECURITY_POLICY } from './security.js';

export const SETUP_SCHEME = 'meshdesk';
export const SETUP_URL = `${SETUP_SCHEME}://setup/index.html`;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/** The file a setup URL names inside `root`, or undefined (wrong host, traversal, unknown type). */
export function setupFileFor(url: string, root: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol !== `${SETUP_SCHEME}:` || parsed.host !== 'setup') return undefined;
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || !TYPES[extname(path)]) return undefined;
  const file = normalize(join(root, path));
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : undefined;
}

/** The response for a setup URL (404 for anything but the page's files). */
export async function setupResponse(url: string, root: string): Promise<Response> {
  const file = setupFileFor(url, root);
  const headers = {
    'content-security-policy': DESKTOP_CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
  };
  if (!file) return new Response('not found', { status: 404, headers });
  try {
    const body = await readFile(file);
    return new Response(body, {
      headers: { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' },
    });
  } catch {
    return new Response('not found', { status: 404, headers });
  }
}
