/** The meshdesk://setup protocol: only the setup page's files, with our CSP (real files). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DESKTOP_CONTENT_SECURITY_POLICY } from '../../../electron/security.js';
import { setupFileFor, setupResponse } from '../../../electron/setup-protocol.js';
import { useTempDir } from '../../support/temp-dir.js';

describe('the setup protocol', () => {
  const dir = useTempDir('meshdesk-setup-');

  it('maps setup URLs into its directory only', () => {
    const root = '/app/setup';
    expect(setupFileFor('meshdesk://setup/index.html', root)).toBe('/app/setup/index.html');
    expect(setupFileFor('meshdesk://setup/setup.js', root)).toBe('/app/setup/setup.js');
    expect(setupFileFor('meshdesk://setup/../../etc/passwd.html', root)).toBe('/app/setup/etc/passwd.html');
    // The URL parser resolves dot segments (also encoded ones) before we see the path.
    expect(setupFileFor('meshdesk://setup/%2e%2e/%2e%2e/secret.js', root)).toBe('/app/setup/secret.js');
    expect(setupFileFor('meshdesk://setup/..%2fmain.js', root)).toBeUndefined();
    expect(setupFileFor('meshdesk://other/index.html', root)).toBeUndefined();
    expect(setupFileFor('meshdesk://setup/data.json', root)).toBeUndefined();
    expect(setupFileFor('meshdesk://setup/%00.html', root)).toBeUndefined();
    expect(setupFileFor('http://setup/index.html', root)).toBeUndefined();
  });

  it('answers with the file and the CSP, or 404', async () => {
    const root = join(dir(), 'setup');
    await mkdir(root);
    await writeFile(join(root, 'index.html'), '<!doctype html><p>hi</p>');
    await writeFile(join(dir(), 'outside.html'), 'secret');
    const page = await setupResponse('meshdesk://setup/index.html', root);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(DESKTOP_CONTENT_SECURITY_POLICY);
    expect(await page.text()).toContain('<p>hi</p>');
    expect((await setupResponse('meshdesk://setup/%2e%2e/outside.html', root)).status).toBe(404);
    expect((await setupResponse('meshdesk://setup/missing.js', root)).status).toBe(404);
  });
});
