/**
 * The admin UI in Chromium against a real cluster of `meshdesk start` processes, each serving the
 * built UI: sign in; create an identity, a service and a Dial policy through the forms; the
 * policy advisor says allowed; the identity shows in another node's UI; a bad value gets its
 * field error; "Invite a member" mints a token that the third node joins with; leadership moves
 * from the cluster page. Screenshots of each page go to
 * out/e2e-cluster/ (ignored by git).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ControllerCluster } from '../support/controller-processes.js';
import { waitFor } from '../support/wait.js';

const CHROMIUM = process.env.MESHDESK_CHROMIUM ?? '/usr/bin/chromium';
const configFile = fileURLToPath(new URL('../../renderer/vite.config.ts', import.meta.url));
const screenshots = fileURLToPath(new URL('../../out/e2e-cluster/', import.meta.url));

let workDir: string;
let cluster: ControllerCluster;
let browser: Browser;
const pageErrors: string[] = [];

async function openPage(): Promise<Page> {
  const page = await browser.newPage({
    viewport: { width: 1280, height: 860 },
    // The invite dialog's "Copy token" writes the clipboard; the test reads it back.
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  return page;
}

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Cluster', exact: true }).waitFor();
}

async function nav(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, exact: true }).waitFor();
}

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  workDir = await mkdtemp(join(tmpdir(), 'meshdesk-e2e-cluster-'));
  const uiDir = join(workDir, 'ui');
  await build({
    configFile,
    logLevel: 'silent',
    build: { outDir: uiDir, emptyOutDir: true, sourcemap: false },
  });
  // Two nodes: the third joins with a token minted in the UI.
  cluster = await ControllerCluster.start(2, ['--ui', uiDir]);
  await mkdir(screenshots, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the admin UI against a 3-node cluster', () => {
  let page: Page;

  it('signs in and creates an identity, a service and a Dial policy through the forms', async () => {
    page = await openPage();
    await signIn(page, cluster.node(0).url);
    await page.getByRole('table', { name: 'Cluster members' }).getByText('leader', { exact: true }).waitFor();
    await shoot(page, 'cluster');

    await nav(page, 'Identities');
    await page.getByRole('link', { name: 'New identity' }).click();
    await page.getByLabel('Name', { exact: true }).fill('e2e-desk-1');
    await page.getByLabel('Role attributes').fill('staff');
    await shoot(page, 'identity-form');
    await page.getByRole('button', { name: 'Create identity' }).click();
    await page
      .getByRole('table', { name: 'Identities' })
      .getByRole('row')
      .filter({ hasText: 'e2e-desk-1' })
      .waitFor();
    await shoot(page, 'identities');

    await nav(page, 'Services');
    await page.getByRole('link', { name: 'New service' }).click();
    await page.getByLabel('Name', { exact: true }).fill('e2e-wiki');
    await page.getByLabel('Role attributes').fill('wiki');
    await shoot(page, 'service-form');
    await page.getByRole('button', { name: 'Create service' }).click();
    await page
      .getByRole('table', { name: 'Services' })
      .getByRole('row')
      .filter({ hasText: 'e2e-wiki' })
      .waitFor();
    await shoot(page, 'services');

    await nav(page, 'Service policies');
    await page.getByRole('link', { name: 'New service policy' }).click();
    await page.getByLabel('Name', { exact: true }).fill('staff dial wiki');
    await page.getByLabel('Type', { exact: true }).selectOption('Dial');
    await page.getByLabel('Identity roles').fill('#staff');
    await page.getByLabel('Service roles').fill('#wiki');
    await shoot(page, 'service-policy-form');
    await page.getByRole('button', { name: 'Create service policy' }).click();
    await page
      .getByRole('table', { name: 'Service policies' })
      .getByRole('row')
      .filter({ hasText: 'staff dial wiki' })
      .waitFor();
    await shoot(page, 'service-policies');
  });

  it('has the policy advisor say allowed', async () => {
    const identity = (await cluster.call(0, 'GET', '/identities?filter=name%3D%22e2e-desk-1%22')).body.data[0]
      .id;
    const service = (await cluster.call(0, 'GET', '/services?filter=name%3D%22e2e-wiki%22')).body.data[0].id;
    await page.goto(`${cluster.node(0).url}/#/policy-advisor?identity=${identity}&service=${service}`);
    await page.getByText('Allowed to dial').waitFor();
    await page.getByRole('link', { name: 'staff dial wiki' }).waitFor();
    await shoot(page, 'policy-advisor');
  });

  it('shows the new identity in another node’s UI, and a bad value’s field error', async () => {
    const other = await openPage();
    await signIn(other, cluster.node(1).url);
    await nav(other, 'Identities');
    await other
      .getByRole('table', { name: 'Identities' })
      .getByRole('row')
      .filter({ hasText: 'e2e-desk-1' })
      .waitFor();
    await shoot(other, 'identities-on-node-1');

    await nav(other, 'Service policies');
    await other.getByRole('link', { name: 'New service policy' }).click();
    await other.getByLabel('Name', { exact: true }).fill('bad roles');
    const roles = other.getByLabel('Identity roles');
    await roles.fill('staff');
    await other.getByRole('button', { name: 'Create service policy' }).click();
    await waitFor(
      async () => (await roles.getAttribute('aria-invalid')) === 'true',
      'the field error on Identity roles',
    );
    const errorId = (await roles.getAttribute('aria-describedby'))?.split(' ').at(-1);
    expect(await other.locator(`[id="${errorId}"]`).textContent()).toMatch(/#|@|role/i);
    await shoot(other, 'service-policy-form-error');
    await other.close();
  });

  it('invites a member: the token copied from the dialog lets a third node join, once', async () => {
    await nav(page, 'Cluster');
    await page.getByRole('button', { name: 'Invite a member' }).click();
    const dialog = page.getByRole('dialog', { name: 'Invite a member' });
    await dialog.getByLabel('Expires after').selectOption({ label: '12 hours' });
    await dialog.getByRole('button', { name: 'Create join token' }).click();
    const shown = await dialog.getByLabel('Join token').inputValue();
    expect(shown).toMatch(/^mdjoin1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    await shoot(page, 'cluster-invite');
    await dialog.getByRole('button', { name: 'Copy token' }).click();
    await dialog.getByRole('button', { name: 'Copied' }).waitFor();
    const token = (await page.evaluate('navigator.clipboard.readText()')) as string;
    expect(token).toBe(shown);
    await dialog.getByRole('button', { name: 'Done' }).click();
    const tokens = page.getByRole('table', { name: 'Join tokens' });
    await tokens.getByRole('row').filter({ hasText: 'pending' }).waitFor();

    const third = await cluster.join(token);
    const members = page.getByRole('table', { name: 'Cluster members' });
    await members.getByRole('row').filter({ hasText: third.name }).filter({ hasText: 'follower' }).waitFor();
    // Spent: the list says who used it, and there is nothing left to revoke.
    const used = tokens.getByRole('row').filter({ hasText: 'used' });
    const thirdId = (await cluster.call(2, 'GET', '/health', undefined, {}, false)).body.nodeId as string;
    await used.filter({ hasText: thirdId }).waitFor();
    await expect(tokens.getByRole('button', { name: /^Revoke/ }).count()).resolves.toBe(0);
    // The CA section gives the root whose fingerprint the token pinned.
    const fingerprint = await page.getByTestId('ca-fingerprint').textContent();
    expect(fingerprint).toBe((await cluster.call(0, 'GET', '/cluster/ca')).body.fingerprint);
    // A token not wanted after all is revoked from its row.
    await page.getByRole('button', { name: 'Invite a member' }).click();
    await dialog.getByRole('button', { name: 'Create join token' }).click();
    await dialog.getByRole('button', { name: 'Done' }).click();
    await tokens.getByRole('button', { name: /^Revoke join token/ }).click();
    await page
      .getByRole('dialog', { name: 'Revoke join token' })
      .getByRole('button', { name: 'Revoke token' })
      .click();
    await tokens.getByRole('row').filter({ hasText: 'revoked' }).waitFor();
    await expect(tokens.getByRole('button', { name: /^Revoke/ }).count()).resolves.toBe(0);
    // The join tokens' answers are not a cluster view: the banner still knows there is a leader.
    expect(await page.getByText('The cluster has no leader.').count()).toBe(0);
    await shoot(page, 'cluster-after-invite');
  });

  it('transfers leadership from the cluster page and shows the new leader', async () => {
    const before = await cluster.leaderIndex();
    await nav(page, 'Cluster');
    const members = page.getByRole('table', { name: 'Cluster members' });
    await members.getByText('leader', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Transfer leadership' }).click();
    await shoot(page, 'cluster-transfer-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Transfer leadership' }).click();
    await page.getByText('Leadership transferred.').waitFor();
    let after = before;
    await waitFor(async () => (after = await cluster.leaderIndex()) !== before, 'a new leader', 20_000, 100);
    // The role pill of each row (every follower's row also has a "Make leader" button).
    const role = (i: number) =>
      members
        .getByRole('row')
        .filter({ hasText: cluster.node(i).name })
        .locator('.pill')
        .first()
        .textContent();
    await expect.poll(() => role(after), { timeout: 20_000 }).toBe('leader');
    await expect.poll(() => role(before), { timeout: 20_000 }).toBe('follower');
    await shoot(page, 'cluster-after-transfer');
    expect(pageErrors).toEqual([]);
  });
});
