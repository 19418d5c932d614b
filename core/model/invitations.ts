/**
 * One-time join tokens ("invitations") in the model: apply of their three commands, and the reads.
 * A token is spent by a Raft write (`redeemInvitation`), so that of two members offered the same
 * token at once, exactly one accepts it: the second write applies after the first on every node
 * and is refused identically everywhere. Apply is deterministic: every time and hash is the taking
 * node's, carried in the command; whether a token has expired is decided by the command's time.
 */
import type { SqlValue } from 'sql.js';
import type { InvitationCommand, InvitationKind } from './commands.js';
import type { ModelDatabase } from './database.js';
import { controllerRetired } from './retired-controllers.js';
import { ModelError } from './errors.js';
import { enrollCertificate } from './router-certificates.js';

export type InvitationState = 'pending' | 'used' | 'expired' | 'revoked';

/** An invitation as admins see it: never its secret's hash. */
export interface InvitationView {
  readonly id: string;
  readonly kind: InvitationKind;
  readonly createdAt: string;
  readonly createdBy: string | null;
  readonly expiresAt: string;
  readonly usedAt: string | null;
  readonly usedBy: string | null;
  readonly revokedAt: string | null;
  /** A router invitation's router id; null for a controller's. */
  readonly subject: string | null;
  /** Revoked, else used, else expired once `now >= expiresAt`, else pending. */
  readonly state: InvitationState;
}

export interface AppliedInvitation {
  readonly ok: true;
  readonly op: InvitationCommand['op'];
  readonly id: string;
  /** The invitation as this command left it, its state at the command's time. */
  readonly invitation: InvitationView;
}

const COLUMNS = 'id, kind, created_at, created_by, expires_at, used_at, used_by, revoked_at, subject';

export function applyInvitation(db: ModelDatabase, c: InvitationCommand): AppliedInvitation {
  switch (c.op) {
    case 'createInvitation':
      if (db.exists('SELECT 1 FROM invitations WHERE id = ?', [c.id])) {
        throw new ModelError('ID_TAKEN', `invitation ${c.id} already exists`);
      }
      if (c.expiresAt <= c.at) throw new ModelError('INVALID', 'an invitation must expire after it is made');
      checkSubject(db, c.kind, c.subject);
      db.run(
        'INSERT INTO invitations (id, kind, secret_hash, created_at, created_by, expires_at, subject) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [c.id, c.kind, c.secretHash, c.at, c.createdBy ?? null, c.expiresAt, c.subject ?? null],
      );
      break;
    case 'redeemInvitation': {
      const hash = db.value('SELECT secret_hash FROM invitations WHERE id = ?', [c.id]);
      // A wrong secret reads like no invitation at all: a guesser learns no ids.
      if (hash === undefined || hash !== c.secretHash) {
        throw new ModelError(
          'INVITATION_UNKNOWN',
          'the invitation is not one of this cluster’s, or it was altered',
        );
      }
      const current = view(db, c.id, c.at);
      refuseUnlessPending(current);
      if (current?.kind === 'router') {
        // The token enrolls its own router only, and only while that router may connect.
        if (c.by !== current.subject) {
          throw new ModelError('INVITATION_UNKNOWN', 'the invitation enrolls another router');
        }
        checkSubject(db, 'router', current.subject);
        if (!c.certificate) {
          throw new ModelError('INVALID', 'a router is enrolled for a certificate: the command names none');
        }
        // The new certificate is the router's only good one: every earlier one is revoked.
        enrollCertificate(db, c.by, c.certificate, c.at);
      } else if (c.certificate) {
        throw new ModelError('INVALID', 'a controller’s certificate is not recorded by its invitation');
      } else if (controllerRetired(db, c.by)) {
        throw new ModelError(
          'CONTROLLER_RETIRED',
          `node ${c.by} was removed from the cluster and its certificates revoked; join the machine afresh (a new data directory gets a new node id)`,
        );
      }
      db.run('UPDATE invitations SET used_at = ?, used_by = ? WHERE id = ?', [c.at, c.by, c.id]);
      break;
    }
    case 'revokeInvitation': {
      const current = view(db, c.id, c.at);
      if (!current) throw new ModelError('NOT_FOUND', `invitation ${c.id} does not exist`);
      if (current.usedAt !== null) {
        throw new ModelError(
          'INVITATION_USED',
          `invitation ${c.id} was already used by ${current.usedBy ?? 'a member'}`,
        );
      }
      if (current.revokedAt === null)
        db.run('UPDATE invitations SET revoked_at = ? WHERE id = ?', [c.at, c.id]);
      break;
    }
  }
  const invitation = view(db, c.id, c.at);
  if (!invitation) throw new Error(`invitation ${c.id} vanished inside its own write`);
  return { ok: true, op: c.op, id: c.id, invitation };
}

/** A router invitation names a router that exists and is enabled; a controller's names none. */
function checkSubject(db: ModelDatabase, kind: InvitationKind, subject: string | null | undefined): void {
  if (kind === 'controller') {
    if (subject != null) throw new ModelError('INVALID', 'a controller invitation names no subject');
    return;
  }
  if (subject == null) throw new ModelError('INVALID', 'a router invitation names the router it enrolls');
  const disabled = db.value('SELECT disabled FROM routers WHERE id = ?', [subject]);
  if (disabled === undefined) throw new ModelError('NOT_FOUND', `router ${subject} does not exist`);
  if (Number(disabled) !== 0) {
    throw new ModelError('ROUTER_DISABLED', `router ${subject} is disabled; enable it before it enrolls`);
  }
}

function refuseUnlessPending(invitation: InvitationView | undefined): void {
  switch (invitation?.state) {
    case 'used':
      throw new ModelError('INVITATION_USED', 'the invitation was already used; ask for a new one');
    case 'revoked':
      throw new ModelError('INVITATION_REVOKED', 'the invitation was revoked; ask for a new one');
    case 'expired':
      throw new ModelError(
        'INVITATION_EXPIRED',
        `the invitation expired at ${invitation.expiresAt}; ask for a new one`,
      );
    default:
      return;
  }
}

/** Every invitation, newest first, with its state at `now` (ISO, ms). */
export function listInvitations(db: ModelDatabase, now: string): InvitationView[] {
  return db
    .rows(`SELECT ${COLUMNS} FROM invitations ORDER BY created_at DESC, id`)
    .map((row) => toView(row, now));
}

/** One invitation with its state at `now`, or undefined. */
export function view(db: ModelDatabase, id: string, now: string): InvitationView | undefined {
  const row = db.rows(`SELECT ${COLUMNS} FROM invitations WHERE id = ?`, [id])[0];
  return row ? toView(row, now) : undefined;
}

function toView(row: readonly SqlValue[], now: string): InvitationView {
  const [id, kind, createdAt, createdBy, expiresAt, usedAt, usedBy, revokedAt, subject] = row.map((v) =>
    v === null ? null : String(v),
  );
  const base = {
    id: id ?? '',
    kind: (kind ?? 'controller') as InvitationKind,
    createdAt: createdAt ?? '',
    createdBy: createdBy ?? null,
    expiresAt: expiresAt ?? '',
    usedAt: usedAt ?? null,
    usedBy: usedBy ?? null,
    revokedAt: revokedAt ?? null,
    subject: subject ?? null,
  };
  const state: InvitationState =
    base.revokedAt !== null
      ? 'revoked'
      : base.usedAt !== null
        ? 'used'
        : now >= base.expiresAt
          ? 'expired'
          : 'pending';
  return { ...base, state };
}
