/** The first-run page: create or join a cluster through `window.meshdesk`, show the password once. */
import type { DesktopBridge, SetupResult } from '../bridge.js';

declare global {
  interface Window {
    readonly meshdesk?: DesktopBridge;
  }
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`setup page: no #${id}`);
  return found as T;
}

function busy(on: boolean, text = ''): void {
  for (const button of document.querySelectorAll('button')) button.disabled = on;
  element('status').textContent = text;
}

function showResult(result: SetupResult): void {
  busy(false);
  const error = element('error');
  if (!result.ok) {
    error.textContent = result.error;
    error.hidden = false;
    return;
  }
  error.hidden = true;
  element('choose').hidden = true;
  element('done').hidden = false;
  if (result.adminPassword) {
    element('password').textContent = result.adminPassword;
    element('password-box').hidden = false;
  }
  element('open').focus();
}

function start(): void {
  const bridge = window.meshdesk;
  if (!bridge) {
    element('error').textContent = 'This page works inside the meshdesk desktop app only.';
    element('error').hidden = false;
    return;
  }
  element<HTMLFormElement>('create-form').addEventListener('submit', (event) => {
    event.preventDefault();
    busy(true, 'Creating the cluster…');
    void bridge.createCluster().then(showResult);
  });
  element<HTMLFormElement>('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    busy(true, 'Joining the cluster… (the member must be reachable)');
    const token = element<HTMLTextAreaElement>('join-token').value.trim();
    void bridge.joinCluster({ token }).then(showResult);
  });
  element('copy').addEventListener('click', () => {
    void navigator.clipboard.writeText(element('password').textContent ?? '');
  });
  element('open').addEventListener('click', () => {
    element('password').textContent = '';
    void bridge.openAdminUi();
  });
}

start();
