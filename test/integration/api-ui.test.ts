/** The admin UI's files at `/`: client-side routes fall back to index.html; no remote content allowed. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiNode, type ApiNode } from '../support/api-node.js';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir();
let api: ApiNode | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

describe('the UI', () => {
  it('serves files, falls back to index.html, and sends a strict CSP', async () => {
    const ui = join(dir(), 'ui');
    await mkdir(join(ui, 'assets'), { recursive: true });
    await writeFile(join(ui, 'index.html'), '<!doctype html><div id="root"></div>');
    await writeFile(join(ui, 'assets', 'app.js'), 'console.log(1)');
    const a = (api = await startApiNode(join(dir(), 'data'), { uiDir: ui }));

    const index = await fetch(`${a.url}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('id="root"');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');

    const asset = await fetch(`${a.url}/assets/app.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');

    const route = await fetch(`${a.url}/identities/some-id`);
    expect(route.status).toBe(200);
    expect(route.headers.get('content-type')).toContain('text/html');
    expect(await route.text()).toContain('id="root"');

    const api404 = await fetch(`${a.url}/api/v1/nope`, { headers: { authorization: `Bearer ${a.token}` } });
    expect(api404.status).toBe(404);
    expect(api404.headers.get('content-type')).toContain('application/problem+json');

    // The API still answers under the UI, health without a token.
    expect((await fetch(`${a.url}/api/v1/health`)).status).toBe(200);
  });
});
