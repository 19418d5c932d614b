/**
 * The admin UI in a real browser (Debian's Chromium through playwright-core) against a real node
 * that serves the built UI under its Content-Security-Policy: sign in, create an identity through
 * the form, find it in the table, see the API's field error for a taken name, and ask the policy
 * advisor; and the runtime page of a full controller (with its router channel) and no routers.
 * Screenshots of each page go to out/e2e/ (ignored by git).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../core/controller.js';
import { ADMIN, startApiNode, type ApiNode } from '../support/api-node.js';

const CHROMIUM = process.env.MESHDESK_CHROMIUM ?? '/usr/bin/chromium';
const configFile = fileURLToPath(new URL('../../renderer/vite.config.ts', import.meta.url));
const screenshots = fileURLToPath(new URL('../../out/e2e/', import.meta.url));

let workDir: string;
let uiDir: string;
let node: ApiNode;
let browser: Browser;
let page: Page;
/** Errors the page reported (uncaught exceptions, console errors such as CSP refusals). */
const pageErrors: string[] = [];

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  workDir = await mkdtemp(join(tmpdir(), 'meshdesk-e2e-ui-'));
  uiDir = join(workDir, 'ui');
  await build({
    configFile,
    logLevel: 'silent',
    build: { outDir: uiDir, emptyOutDir: true, sourcemap: false },
  });
  node = await startApiNode(join(workDir, 'node'), { uiDir });
  await mkdir(screenshots, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A failed request is logged by the browser as a console error; the tests that cause one
    // on purpose (a taken name: 409) filter it out below.
    if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the admin UI in Chromium', () => {
  it('signs in and shows the cluster', async () => {
    await page.goto(`${node.url}/`);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await shoot('login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Cluster' }).isVisible()).toBe(true);
    const members = page.getByRole('table', { name: 'Cluster members' });
    await members.getByText('leader', { exact: true }).waitFor();
    await page.locator('.live-connected').waitFor();
    await shoot('cluster');
  });

  it('creates an identity through the form and finds it in the table', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identities' }).click();
    await page.getByRole('heading', { name: 'Identities' }).waitFor();
    await page.getByText('No identities yet').waitFor();
    await page.getByRole('link', { name: 'New identity' }).click();
    await page.getByLabel('Name').fill('e2e-laptop');
    await page.getByLabel('Role attributes').fill('staff, vpn');
    await page.getByLabel('Type').selectOption('User');
    await shoot('identity-form');
    await page.getByRole('button', { name: 'Create identity' }).click();

    const table = page.getByRole('table', { name: 'Identities' });
    const row = table.getByRole('row').filter({ hasText: 'e2e-laptop' });
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain('staff, vpn');
    await shoot('identities');

    const stored = await node.call<{ data: { name: string; type: string; roleAttributes: string[] }[] }>(
      'GET',
      '/identities',
    );
    expect(stored.body.data).toMatchObject([
      { name: 'e2e-laptop', type: 'User', roleAttributes: ['staff', 'vpn'] },
    ]);
  });

  it('edits from the revision its own save returned, and refuses to overwrite a change it never saw', async () => {
    const table = page.getByRole('table', { name: 'Identities' });
    await table.getByRole('link', { name: 'e2e-laptop' }).click();
    await page.getByRole('heading', { name: 'Identity: e2e-laptop' }).waitFor();
    const attributes = page.getByLabel('Role attributes');
    await attributes.fill('staff, vpn, first-save');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    // The page shows the save's own answer: its revision, and the form holds it.
    await page.getByText('revision 2', { exact: false }).waitFor();
    const id = (await node.call<{ data: { id: string }[] }>('GET', '/identities')).body.data[0]?.id;
    // Another admin changes the identity behind this page's back.
    const other = await node.call('PATCH', `/identities/${id}`, {
      body: { roleAttributes: ['someone-else'] },
      headers: { 'if-match': '"2"' },
    });
    expect(other.status).toBe(200);
    const before = pageErrors.length;
    await attributes.fill('staff, vpn, second-save');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone changed this' }).waitFor();
    expect(pageErrors.slice(before).every((e) => e.includes('412'))).toBe(true);
    pageErrors.splice(before);
    // Nothing was overwritten: the other admin's change stands.
    const stored = await node.call<{ roleAttributes: string[]; revision: number }>(
      'GET',
      `/identities/${id}`,
    );
    expect(stored.body).toMatchObject({ roleAttributes: ['someone-else'], revision: 3 });
    await page.getByRole('button', { name: 'Reload' }).click();
    await expect.poll(() => attributes.inputValue()).toBe('someone-else');
    // From the reloaded revision, a save goes through again.
    await attributes.fill('staff, vpn');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('revision 4', { exact: false }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identities' }).click();
    await table.waitFor();
  });

  it('shows a form error before sending, and the API’s field error after', async () => {
    await page.getByRole('link', { name: 'New identity' }).click();
    await page.getByRole('button', { name: 'Create identity' }).click();
    await page.getByText('Required', { exact: true }).waitFor();
    const name = page.getByLabel('Name', { exact: true });
    expect(await name.getAttribute('aria-invalid')).toBe('true');

    await name.fill('e2e-laptop');
    const before = pageErrors.length;
    await page.getByRole('button', { name: 'Create identity' }).click();
    // The node's 409 lands on the field it names, and the form says what happened.
    await page.getByRole('alert').filter({ hasText: 'Conflict' }).waitFor();
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    const errorId = (await name.getAttribute('aria-describedby'))?.split(' ').at(-1);
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toMatch(/in use|taken/);
    await shoot('identity-form-error');
    // The browser logs the 409 response itself; nothing else may have gone wrong.
    expect(pageErrors.slice(before).every((e) => e.includes('409'))).toBe(true);
    pageErrors.splice(before);
  });

  it('answers in the policy advisor', async () => {
    const identity = (await node.call<{ data: { id: string }[] }>('GET', '/identities')).body.data[0]?.id;
    const service = await node.call<{ id: string }>('POST', '/services', { body: { name: 'e2e-wiki' } });
    await node.call('POST', '/service-policies', {
      body: {
        name: 'staff dial wiki',
        type: 'Dial',
        identityRoles: ['#staff'],
        serviceRoles: [`@${service.body.id}`],
      },
    });
    await page.goto(`${node.url}/#/policy-advisor?identity=${identity}&service=${service.body.id}`);
    await page.getByText('Allowed to dial').waitFor();
    await page.getByRole('link', { name: 'staff dial wiki' }).waitFor();
    await page.getByLabel('Bind (host the service)').check();
    await page.getByText('Not allowed to bind').waitFor();
    await shoot('policy-advisor');
  });

  it('shows the live events, reads in dark mode, and reports no page errors', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events' }).waitFor();
    await page.locator('.event-line').filter({ hasText: 'entity.create' }).first().waitFor();
    await shoot('events');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cluster' }).click();
    await page.getByRole('table', { name: 'Cluster members' }).waitFor();
    await shoot('cluster-dark');
    expect(pageErrors).toEqual([]);
  });
});

describe('the runtime page in Chromium', () => {
  let controller: Controller;
  let runtimePage: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    // startApiNode has no router channel: a full controller serves the runtime routes.
    controller = await startController({
      dataDir: join(workDir, 'controller'),
      api: { host: '127.0.0.1', port: 0 },
      cluster: { host: '127.0.0.1', port: 0 },
      bootstrap: { adminPassword: ADMIN.password },
      uiDir,
      logger: pino({ level: 'silent' }),
    });
    runtimePage = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    runtimePage.setDefaultTimeout(15_000);
    runtimePage.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    runtimePage.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
  });

  afterAll(async () => {
    await runtimePage?.close();
    await controller?.stop();
  });

  it('shows the empty states of a controller without routers, in light and dark', async () => {
    await runtimePage.goto(`${controller.url}/`);
    await runtimePage.getByLabel('Username').fill('admin');
    await runtimePage.getByLabel('Password').fill(ADMIN.password);
    await runtimePage.getByRole('button', { name: 'Sign in' }).click();
    await runtimePage.getByRole('heading', { name: 'Cluster' }).waitFor();
    await runtimePage
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Runtime' })
      .click();
    await runtimePage.getByRole('heading', { name: 'Runtime', exact: true }).waitFor();
    await runtimePage.getByText('No routers connected to this node').waitFor();
    await runtimePage.getByText('No links', { exact: true }).waitFor();
    await runtimePage.getByText('No circuits', { exact: true }).waitFor();
    await runtimePage.getByRole('button', { name: 'Create circuit' }).waitFor();
    await runtimePage.screenshot({ path: join(screenshots, 'runtime.png'), fullPage: true });
    await runtimePage.emulateMedia({ colorScheme: 'dark' });
    await runtimePage.screenshot({ path: join(screenshots, 'runtime-dark.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows the API’s refusal of a circuit with its code', async () => {
    await runtimePage.getByRole('button', { name: 'Create circuit' }).click();
    await runtimePage.getByText('Required', { exact: true }).first().waitFor();
    await runtimePage.getByLabel('Identity', { exact: true }).fill('nobody');
    await runtimePage.getByLabel('Service', { exact: true }).fill('nothing');
    await runtimePage.getByLabel('Ingress router', { exact: true }).fill('router-x');
    await runtimePage.getByRole('button', { name: 'Create circuit' }).click();
    // The node refuses the unknown router first (422 UNKNOWN_ROUTER with its reason).
    const alert = runtimePage.getByRole('alert').filter({ hasText: 'UNKNOWN_' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Unprocessable Content: .*router-x/);
    await runtimePage.screenshot({ path: join(screenshots, 'runtime-refused.png'), fullPage: true });
    // The browser logs the 422 itself; nothing else may have gone wrong.
    expect(errors.every((e) => e.includes('422'))).toBe(true);
  });
});
