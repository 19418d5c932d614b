/**
 * The first admin of a new cluster, created by `meshdesk start --bootstrap` through the same Raft
 * path as every other write: one batch with the admin (password already hashed) and the token
 * signing key, which is set only if absent so that a repeated bootstrap never rotates it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ModelCommand } from '../model/commands.js';
import { hashPassword } from '../model/passwords.js';
import { JWT_KEY_SETTING } from './token.js';

export interface FirstAdmin {
  readonly username: string;
  readonly password: string;
  /** base64url of 32 random bytes; generated when omitted. */
  readonly jwtKey?: string;
}

/** A fresh signing key: 32 random bytes, base64url. */
export function newJwtKey(): string {
  return randomBytes(32).toString('base64url');
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
      { op: 'setSetting', key: JWT_KEY_SETTING, value: admin.jwtKey ?? newJwtKey(), at, onlyIfAbsent: true },
    ],
  };
}
