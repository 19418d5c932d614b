/**
 * The admin UI in a real browser (Debian's Chromium through playwright-core) against a real node
 * that serves the built UI under its Content-Security-Policy: sign in, create an identity through
 * the form, find it in the table, see the API's field error for a taken name, and ask the policy
 * advisor; and the runtime page of a full controller (with its router channel), without routers and
 * with an enrolled one.
 * Screenshots of each page go to out/e2e/ (ignored by git).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../core/controller.js';
import { certificateCredentials } from '../../core/router/credentials.js';
import { enrollRouter } from '../../core/router/enrollment.js';
import { RouterAgent } from '../../core/router/router-agent.js';
import { callController, loginToController } from '../support/controller-api.js';
import { ADMIN, startApiNode, type ApiNode } from '../support/api-node.js';

const CHROMIUM = process.env.MESHDESK_CHROMIUM ?? '/usr/bin/chromium';
const configFile = fileURLToPath(new URL('../../renderer/vite.config.ts', import.meta.url));
const screenshots = fileURLToPath(new URL('../../out/e2e/', import.meta.url));

let workDir: string;
let uiDir: string;
let node: ApiNode;
let browser: Browser;

/** A browser tab of its own, with the errors it reported (uncaught exceptions, console errors such as CSP refusals). */
interface Tab {
  readonly page: Page;
  readonly errors: string[];
}

const tabs: Tab[] = [];

async function openTab(): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const tab: Tab = { page, errors: [] };
  page.on('pageerror', (error) => tab.errors.push(`pageerror: ${error.message}`));
  // A failed request is logged by the browser as a console error; the tests that cause one on
  // purpose (409, 412, 422) check that it is the only kind.
  page.on('console', (message) => {
    if (message.type() === 'error') tab.errors.push(`console: ${message.text()}`);
  });
  tabs.push(tab);
  return tab;
}

async function signIn(page: Page, url: string, username: string = ADMIN.username): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Cluster', exact: true }).waitFor();
}

/** Each test has its own tab, signed in, and its own entities: no test leans on another's state. */
async function signedInTab(): Promise<Tab> {
  const tab = await openTab();
  await signIn(tab.page, node.url);
  return tab;
}

/** The only errors a tab reported are the browser's log lines of a response with this status. */
function expectOnlyStatusErrors(tab: Tab, status: number): void {
  expect(tab.errors.filter((e) => !e.includes(String(status)))).toEqual([]);
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

async function createIdentity(name: string, roleAttributes: string[] = []): Promise<string> {
  const created = await node.call<{ id: string }>('POST', '/identities', {
    body: { name, type: 'User', roleAttributes },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

const mainNav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

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
});

afterEach(async () => {
  for (const tab of tabs.splice(0)) await tab.page.context().close();
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the admin UI in Chromium', () => {
  it('signs in and shows the cluster', async () => {
    const { page, errors } = await openTab();
    await page.goto(`${node.url}/`);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await shoot(page, 'login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('heading', { name: 'Cluster', exact: true }).isVisible())
      .toBe(true);
    const members = page.getByRole('table', { name: 'Cluster members' });
    await members.getByText('leader', { exact: true }).waitFor();
    expect(await page.title()).toBe('Cluster — meshdesk');
    await page.locator('.live-connected').waitFor();
    await shoot(page, 'cluster');
    expect(errors).toEqual([]);
  });

  it('names each cluster dialog by its own title, and asks the node id a member needs', async () => {
    const { page, errors } = await signedInTab();
    await page.getByRole('table', { name: 'Cluster members' }).getByText('leader', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Transfer leadership' }).click();
    const transfer = page.getByRole('dialog', { name: 'Transfer leadership' });
    await transfer.waitFor();
    await transfer.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Add member' }).click();
    const add = page.getByRole('dialog', { name: 'Add member' });
    await add.getByLabel('Address').fill('10.0.0.12:8441');
    await add.getByRole('button', { name: 'Add member' }).click();
    await add.getByText('Required: the node’s id', { exact: false }).waitFor();
    expect(await add.getByLabel('Node id').getAttribute('aria-invalid')).toBe('true');
    expect(errors).toEqual([]);
  });

  it('shows a page that throws as an error panel, with the rest of the app working', async () => {
    const tab = await signedInTab();
    const { page } = tab;
    // An answer this UI cannot render (from a node of another version, say): rows without ids.
    await page.route('**/api/v1/identities?**', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ data: [null], meta: { total: 1, limit: 25, offset: 0 } }),
      }),
    );
    await page.goto(`${node.url}/#/c/identities`);
    await page.getByRole('heading', { name: 'This page failed' }).waitFor();
    await shoot(page, 'page-failed');
    await mainNav(page).getByRole('link', { name: 'Services' }).click();
    await page.getByRole('heading', { name: 'Services' }).waitFor();
    expect(tab.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });

  it('shows the empty state of a collection nobody has written', async () => {
    const { page, errors } = await signedInTab();
    await page.goto(`${node.url}/#/c/terminators`);
    await page.getByText('No terminators yet').waitFor();
    expect(errors).toEqual([]);
  });

  it('creates an identity through the form and finds it in the table', async () => {
    const { page, errors } = await signedInTab();
    await mainNav(page).getByRole('link', { name: 'Identities' }).click();
    await page.getByRole('heading', { name: 'Identities' }).waitFor();
    await page.getByRole('link', { name: 'New identity' }).click();
    await page.getByLabel('Name').fill('e2e-laptop');
    await page.getByLabel('Role attributes').fill('staff, vpn');
    await page.getByLabel('Type').selectOption('User');
    await shoot(page, 'identity-form');
    await page.getByRole('button', { name: 'Create identity' }).click();

    const table = page.getByRole('table', { name: 'Identities' });
    const row = table.getByRole('row').filter({ hasText: 'e2e-laptop' });
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain('staff, vpn');
    await shoot(page, 'identities');

    const stored = await node.call<{ data: { name: string; type: string; roleAttributes: string[] }[] }>(
      'GET',
      `/identities?filter=${encodeURIComponent('name = "e2e-laptop"')}`,
    );
    expect(stored.body.data).toMatchObject([
      { name: 'e2e-laptop', type: 'User', roleAttributes: ['staff', 'vpn'] },
    ]);
    expect(errors).toEqual([]);
  });

  it('creates after a refusal once the admin corrects the form (a new request, a new key)', async () => {
    await createIdentity('e2e-first-choice');
    const tab = await signedInTab();
    const { page } = tab;
    await page.goto(`${node.url}/#/c/identities/new`);
    await page.getByLabel('Name').fill('e2e-first-choice');
    await page.getByRole('button', { name: 'Create identity' }).click();
    await page.getByRole('alert').filter({ hasText: 'taken' }).waitFor();
    await page.getByLabel('Name').fill('e2e-second-choice');
    await page.getByRole('button', { name: 'Create identity' }).click();
    const table = page.getByRole('table', { name: 'Identities' });
    await table.getByRole('row').filter({ hasText: 'e2e-second-choice' }).waitFor();
    await shoot(page, 'create-after-refusal');
    const stored = await node.call<{ meta: { total: number } }>(
      'GET',
      `/identities?filter=${encodeURIComponent('name = "e2e-second-choice"')}`,
    );
    expect(stored.body.meta.total).toBe(1);
    expectOnlyStatusErrors(tab, 409);
  });

  it('edits from the revision its own save returned, and refuses to overwrite a change it never saw', async () => {
    const id = await createIdentity('e2e-editable', ['staff']);
    const tab = await signedInTab();
    const { page } = tab;
    await page.goto(`${node.url}/#/c/identities/${id}`);
    await page.getByRole('heading', { name: 'Identity: e2e-editable' }).waitFor();
    const attributes = page.getByLabel('Role attributes');
    await attributes.fill('staff, vpn, first-save');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    // The page shows the save's own answer: its revision, and the form holds it.
    await page.getByText('revision 2', { exact: false }).waitFor();
    // Another admin changes the identity behind this page's back.
    const other = await node.call('PATCH', `/identities/${id}`, {
      body: { roleAttributes: ['someone-else'] },
      headers: { 'if-match': '"2"' },
    });
    expect(other.status).toBe(200);
    await attributes.fill('staff, vpn, second-save');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone changed this' }).waitFor();
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
    expect((await node.call<{ revision: number }>('GET', `/identities/${id}`)).body.revision).toBe(4);
    expectOnlyStatusErrors(tab, 412);
  });

  it('shows a form error before sending, and the API’s field error after', async () => {
    await createIdentity('e2e-taken');
    const tab = await signedInTab();
    const { page } = tab;
    await page.goto(`${node.url}/#/c/identities/new`);
    await page.getByRole('button', { name: 'Create identity' }).click();
    await page.getByText('Required', { exact: true }).waitFor();
    const name = page.getByLabel('Name', { exact: true });
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    expect(tab.errors).toEqual([]);

    await name.fill('e2e-taken');
    await page.getByRole('button', { name: 'Create identity' }).click();
    // The node's 409 lands on the field it names, and the form says what happened.
    await page.getByRole('alert').filter({ hasText: 'Conflict' }).waitFor();
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    const errorId = (await name.getAttribute('aria-describedby'))?.split(' ').at(-1);
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toMatch(/in use|taken/);
    await shoot(page, 'identity-form-error');
    // The browser logs the 409 response itself; nothing else may have gone wrong.
    expectOnlyStatusErrors(tab, 409);
  });

  it('offers a read-only admin nothing to change, and says so', async () => {
    const viewer = await node.call('POST', '/admins', {
      body: { username: 'e2e-viewer', password: ADMIN.password, role: 'readonly' },
    });
    expect(viewer.status).toBe(201);
    const id = await createIdentity('e2e-seen-not-touched');
    const { page, errors } = await openTab();
    await signIn(page, node.url, 'e2e-viewer');
    await page.locator('.topbar').getByText('Read-only', { exact: true }).waitFor();
    await page.getByRole('table', { name: 'Cluster members' }).getByText('leader', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Invite a member' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Remove / }).count()).toBe(0);
    await page.goto(`${node.url}/#/c/identities`);
    await page.getByRole('link', { name: 'e2e-seen-not-touched' }).waitFor();
    expect(await page.getByRole('link', { name: 'New identity' }).count()).toBe(0);
    await page.goto(`${node.url}/#/c/identities/${id}`);
    await page.getByRole('heading', { name: 'Identity: e2e-seen-not-touched' }).waitFor();
    await page.getByText('You are signed in read-only').waitFor();
    expect(await page.getByLabel('Name').isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await shoot(page, 'read-only');
    expect(errors).toEqual([]);
  });

  it('answers in the policy advisor', async () => {
    const identity = await createIdentity('e2e-advised', ['advised']);
    const service = await node.call<{ id: string }>('POST', '/services', { body: { name: 'e2e-wiki' } });
    await node.call('POST', '/service-policies', {
      body: {
        name: 'advised dial wiki',
        type: 'Dial',
        identityRoles: ['#advised'],
        serviceRoles: [`@${service.body.id}`],
      },
    });
    const { page, errors } = await signedInTab();
    await page.goto(`${node.url}/#/policy-advisor?identity=${identity}&service=${service.body.id}`);
    await page.getByText('Allowed to dial').waitFor();
    await page.getByRole('link', { name: 'advised dial wiki' }).waitFor();
    await page.getByLabel('Bind (host the service)').check();
    await page.getByText('Not allowed to bind').waitFor();
    await shoot(page, 'policy-advisor');
    expect(errors).toEqual([]);
  });

  it('shows the live events and reads in dark mode', async () => {
    const { page, errors } = await signedInTab();
    await mainNav(page).getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events' }).waitFor();
    // A write made while the page is open arrives over the events stream.
    const id = await createIdentity('e2e-live');
    await page.locator('.event-line').filter({ hasText: id }).filter({ hasText: 'entity.create' }).waitFor();
    await shoot(page, 'events');
    await page.emulateMedia({ colorScheme: 'dark' });
    await mainNav(page).getByRole('link', { name: 'Cluster' }).click();
    await page.getByRole('table', { name: 'Cluster members' }).waitFor();
    await shoot(page, 'cluster-dark');
    expect(errors).toEqual([]);
  });
});

describe('the runtime page in Chromium', () => {
  let controller: Controller;

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
  });

  afterAll(async () => {
    await controller?.stop();
  });

  async function runtimeTab(): Promise<Tab> {
    const tab = await openTab();
    await signIn(tab.page, controller.url, 'admin');
    await mainNav(tab.page).getByRole('link', { name: 'Runtime' }).click();
    await tab.page.getByRole('heading', { name: 'Runtime', exact: true }).waitFor();
    return tab;
  }

  it('shows the empty states of a controller without routers, in light and dark', async () => {
    const { page, errors } = await runtimeTab();
    await page.getByText('No routers connected to this node').waitFor();
    await page.getByText('No links', { exact: true }).waitFor();
    await page.getByText('No circuits', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Create circuit' }).waitFor();
    await shoot(page, 'runtime');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot(page, 'runtime-dark');
    expect(errors).toEqual([]);
  });

  it('enrolls a router from its page, and lists it connected on its certificate', async () => {
    const token = await loginToController(controller.url, 'admin', ADMIN.password);
    const made = await callController(controller.url, 'POST', '/routers', {
      token,
      body: { name: 'edge-ui' },
    });
    const { id } = (await made.json()) as { id: string };
    const tab = await runtimeTab();
    const { page, errors } = tab;
    await page.goto(`${controller.url}/#/c/routers/${id}`);
    await page.getByText('Not enrolled: it has no certificate').waitFor();
    await page.getByRole('button', { name: 'Enroll' }).click();
    const dialog = page.getByRole('dialog', { name: 'Enroll router edge-ui' });
    await dialog.getByLabel('Expires after').selectOption({ label: '30 minutes' });
    await dialog.getByRole('button', { name: 'Create enrollment token' }).click();
    const shown = await dialog.getByLabel('Enrollment token').inputValue();
    await dialog.getByText('meshdesk router enroll --token-file router.token --out router.json').waitFor();
    await shoot(page, 'router-enroll');
    await dialog.getByRole('button', { name: 'Done' }).click();

    await page.getByText('1 enrollment token(s) not used yet').waitFor();
    const identity = await enrollRouter(shown);
    // The page learns it from the node's next answer (polled: the router enrolls from elsewhere).
    await page.getByText('Enrolled: its certificate expires').waitFor();
    const router = await RouterAgent.start({
      controllers: identity.controllers,
      credentials: certificateCredentials(identity),
    });
    try {
      await mainNav(page).getByRole('link', { name: 'Runtime' }).click();
      const row = page.getByRole('row').filter({ hasText: 'edge-ui' });
      await row.waitFor();
      // The certificate it connected on, by serial.
      const serial = new X509Certificate(identity.certificate).serialNumber.toUpperCase();
      expect(await row.getByRole('cell').nth(2).textContent()).toBe(serial.slice(0, 16));
      await shoot(page, 'runtime-router');
      expect(errors).toEqual([]);
    } finally {
      await router.close();
    }
  });

  it('shows the API’s refusal of a circuit with its code', async () => {
    const tab = await runtimeTab();
    const { page } = tab;
    await page.getByRole('button', { name: 'Create circuit' }).click();
    await page.getByText('Required', { exact: true }).first().waitFor();
    await page.getByLabel('Identity', { exact: true }).fill('nobody');
    await page.getByLabel('Service', { exact: true }).fill('nothing');
    await page.getByLabel('Ingress router', { exact: true }).fill('router-x');
    await page.getByRole('button', { name: 'Create circuit' }).click();
    // The node refuses the unknown router first (422 UNKNOWN_ROUTER with its reason).
    const alert = page.getByRole('alert').filter({ hasText: 'UNKNOWN_' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Unprocessable Content: .*router-x/);
    await shoot(page, 'runtime-refused');
    // The browser logs the 422 itself; nothing else may have gone wrong.
    expectOnlyStatusErrors(tab, 422);
  });
});
