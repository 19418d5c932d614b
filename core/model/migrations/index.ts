/**
 * The schema's numbered migrations, oldest first. A database records the last one it ran in
 * `PRAGMA user_version`; opening runs the ones after it, each in its own transaction. Never edit a
 * migration that has shipped: add the next number.
 */
import { migration001 } from './001-entities.js';
import { migration002 } from './002-policy-index.js';
import { migration003 } from './003-time-indexes.js';
import { migration004 } from './004-access-from-members.js';
import { migration005 } from './005-settings-and-idempotency.js';
import { migration006 } from './006-invitations.js';
import { migration007 } from './007-admin-auth-epoch.js';
import { migration008 } from './008-admin-roles.js';
import { migration009 } from './009-idempotency-fingerprints.js';
import { migration010 } from './010-router-invitations.js';
import { migration011 } from './011-router-certificates.js';
import { migration012 } from './012-retire-router-secret.js';
import { migration013 } from './013-retired-controllers.js';
import { migration014 } from './014-certificate-issuers.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  migration001,
  migration002,
  migration003,
  migration004,
  migration005,
  migration006,
  migration007,
  migration008,
  migration009,
  migration010,
  migration011,
  migration012,
  migration013,
  migration014,
];
