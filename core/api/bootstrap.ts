/**
 * The first admin of a new cluster, created by `meshdesk start --bootstrap` through the same Raft
 * path as every other write (password already hashed). Token signing keys are not in it: each
 * node publishes its own public key when it first signs a token (token-keys.ts).
 */
import { randomUUID } from 'node:crypto';
import type { ModelCommand } from '../model/commands.js';
import { hashPassword } from '../model/passwords.js';

export interface FirstAdmin {
  readonly username: string;
  readonly password: string;
}

export async function firstAdminCommand(admin: FirstAdmin): Promise<ModelCommand> {
  const at = new Date().toISOString();
  return {
    op: 'batch',
    commands: [
      {
        op: 'create',
        collection: 'admins',
        id: randomUUID(),
        at,
        data: { username: admin.username, passwordHash: await hashPassword(admin.password), tags: {} },
      },
    ],
  };
}
