/**
 * The generated first-admin password is written to `<dataDir>/admin-password` (0600) so that the
 * admin can read it once. It is removed as soon as it no longer opens anything: when that admin's
 * password changes or the admin is deleted (on this node, as the change applies here), and at
 * start when that has already happened. It is not removed at first login: with no offline password
 * reset yet, that file may be the only copy of the only admin's password.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ModelStateMachine } from './model/state-machine.js';
import { verifyPassword } from './model/passwords.js';
import { readSecretFile } from './files.js';

export const ADMIN_PASSWORD_FILE = 'admin-password';

export interface AdminPasswordFileOptions {
  readonly dataDir: string;
  readonly username: string;
  readonly model: ModelStateMachine;
  readonly logger: Logger;
}

/** Watches the admins; returns the function that stops watching. */
export function retireAdminPasswordFile(o: AdminPasswordFileOptions): () => void {
  const path = join(o.dataDir, ADMIN_PASSWORD_FILE);
  let checking: Promise<void> = Promise.resolve();
  /** `absentMeansDeleted`: after an admins change; at start the admin may not have applied yet. */
  const check = (absentMeansDeleted: boolean): void => {
    checking = checking.then(async () => {
      const password = await readSecretFile(path);
      if (password === undefined) return;
      const hash = o.model.model.value('SELECT password_hash FROM admins WHERE username = ?', [o.username]);
      if (typeof hash !== 'string' && !absentMeansDeleted) return;
      if (typeof hash === 'string' && (await verifyPassword(password, hash))) return;
      await unlink(path).catch(() => undefined);
      o.logger.info(
        { file: path },
        'removed the generated admin password file: that password no longer works',
      );
    });
  };
  check(false);
  return o.model.onApplied(({ applied }) => {
    if (applied.some(({ result }) => touchesAdmins(result))) check(true);
  });
}

function touchesAdmins(result: unknown): boolean {
  const r = result as { collection?: unknown; op?: unknown; results?: readonly unknown[] };
  if (r.op === 'batch') return (r.results ?? []).some(touchesAdmins);
  return r.collection === 'admins';
}
