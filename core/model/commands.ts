/**
 * Model commands: what a write becomes before it is proposed. The node that takes the request
 * validates it (zod), chooses the id and the timestamp, hashes secrets, and puts all of it in the
 * command, so that apply on every node reads no clock and no random source.
 */
import { z } from 'zod';
import { collectionNames, spec, type Collection } from './entities.js';
import { ModelError, type FieldError } from './errors.js';
import type { HeldCertificate, IntroducedRoot } from './ca-trust.js';
import type { EnrolledCertificate } from './router-certificates.js';
import type { IdempotencyKey } from './idempotency.js';

export type EntityData = Record<string, unknown>;

export type SingleCommand =
  | {
      readonly op: 'create';
      readonly collection: Collection;
      readonly id: string;
      readonly at: string;
      readonly data: EntityData;
    }
  | {
      /** patch changes the fields it names; update replaces them all (defaults for the rest). */
      readonly op: 'patch' | 'update';
      readonly collection: Collection;
      readonly id: string;
      readonly at: string;
      readonly data: EntityData;
      readonly ifRevision?: number;
    }
  | {
      readonly op: 'delete';
      readonly collection: Collection;
      readonly id: string;
      readonly ifRevision?: number;
    }
  | SettingCommand
  | DeleteSettingCommand
  | EndSessionsCommand
  | RetireControllerCommand
  | RenewRouterCertificateCommand
  | CaCommand
  | InvitationCommand;

export const INVITATION_KINDS = ['controller', 'router'] as const;
export type InvitationKind = (typeof INVITATION_KINDS)[number];

/**
 * One-time join tokens (core/model/invitations.ts). The taking node chose the id, the times and the
 * secret's hash (SHA-256, hex); the secret itself never enters the log.
 */
export type InvitationCommand =
  | {
      readonly op: 'createInvitation';
      readonly id: string;
      readonly kind: InvitationKind;
      readonly secretHash: string;
      readonly at: string;
      readonly expiresAt: string;
      /** The admin who made it. */
      readonly createdBy?: string;
      /** A router invitation's router (its id): the only one its token enrolls. */
      readonly subject?: string;
    }
  | {
      /** Spends the invitation: it works once in the whole cluster, whichever member took it. */
      readonly op: 'redeemInvitation';
      readonly id: string;
      readonly secretHash: string;
      readonly at: string;
      /** Who used it: the joining node's id, or the enrolling router's (its subject). */
      readonly by: string;
      /** A router's: the certificate it enrolled for, which replaces any earlier one. */
      readonly certificate?: EnrolledCertificate;
    }
  | { readonly op: 'revokeInvitation'; readonly id: string; readonly at: string };

/** Sets a cluster-wide setting (core/model/settings.ts); `onlyIfAbsent` keeps an existing value. */
export interface SettingCommand {
  readonly op: 'setSetting';
  readonly key: string;
  readonly value: string;
  readonly at: string;
  readonly onlyIfAbsent?: boolean;
}

/** Removes a cluster-wide setting (a retired secret); removing an absent one changes nothing. */
export interface DeleteSettingCommand {
  readonly op: 'deleteSetting';
  readonly key: string;
}

/** Ends every session of an admin: its auth epoch rises, and its earlier tokens are refused. */
export interface EndSessionsCommand {
  readonly op: 'endSessions';
  readonly id: string;
  readonly at: string;
}

/**
 * Records a controller removed from the cluster (core/model/retired-controllers.ts): once out of
 * the membership, no certificate of its node id opens anything.
 */
export interface RetireControllerCommand {
  readonly op: 'retireController';
  readonly nodeId: string;
  readonly at: string;
}

/**
 * Records a router's renewed certificate (core/model/router-certificates.ts `renewCertificate`):
 * the router proved `previousSerial` on the connection that asked.
 */
export interface RenewRouterCertificateCommand {
  readonly op: 'renewRouterCertificate';
  readonly routerId: string;
  readonly previousSerial: string;
  readonly certificate: EnrolledCertificate;
  readonly at: string;
}

/** The cluster CA's rotation and who holds what (core/model/ca-trust.ts). */
export type CaCommand =
  | {
      /** A new intermediate signs from now on; the one it replaces stays trusted until finished. */
      readonly op: 'installIntermediate';
      readonly certificate: string;
      readonly key: string;
      readonly at: string;
      /** A new root (`--new-root`), which signed the intermediate. */
      readonly root?: IntroducedRoot;
    }
  | {
      /** Retires every earlier intermediate; `issuer` is the current one's fingerprint. */
      readonly op: 'finishCaRotation';
      readonly issuer: string;
      readonly at: string;
    }
  | {
      /** A controller's certificate in use now, as the controller itself says. */
      readonly op: 'recordControllerCertificate';
      readonly nodeId: string;
      readonly certificate: HeldCertificate;
      readonly at: string;
    };

/** Several commands in one Raft entry: all of them apply, or none. */
export interface BatchCommand {
  readonly op: 'batch';
  readonly commands: readonly SingleCommand[];
}

export type ModelCommand = SingleCommand | BatchCommand;

/**
 * What travels in a Raft entry: the command and, for a write that carried an Idempotency-Key, the
 * key with the time the taking node chose (expiry is counted from it, so apply reads no clock).
 */
export interface CommandEnvelope {
  readonly command: ModelCommand;
  readonly idempotency?: IdempotencyKey;
}

export interface EncodeOptions {
  readonly idempotencyKey?: string;
  /** When the taking node received the write (ISO, ms precision); required with a key. */
  readonly at?: string;
  /** How long the key is remembered (default 24 hours). */
  readonly idempotencyTtlMs?: number;
  /** The request's fingerprint (requestFingerprint): the key then answers only the same request. */
  readonly fingerprint?: string;
}

export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const collection = z.enum(collectionNames);
const entityId = z.string().min(1).max(255);
// toISOString() form only: timestamps compare as text in filters and sorts.
const timestamp = z.iso.datetime({ precision: 3 });
const serial = z.string().regex(/^[0-9A-F]{2,64}$/, 'upper-case hex');
const fingerprint = z.string().regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'a SHA-256 fingerprint (AB:CD:…)');
const pemText = z.string().min(1).max(16_384);
const enrolled = z.strictObject({ serial, expiresAt: timestamp, issuer: fingerprint.optional() });
const data = z.record(z.string(), z.unknown());
const revision = z.number().int().positive().optional();
const secretHash = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');

const singleSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('create'), collection, id: entityId, at: timestamp, data }),
  z.strictObject({
    op: z.literal('patch'),
    collection,
    id: entityId,
    at: timestamp,
    data,
    ifRevision: revision,
  }),
  z.strictObject({
    op: z.literal('update'),
    collection,
    id: entityId,
    at: timestamp,
    data,
    ifRevision: revision,
  }),
  z.strictObject({ op: z.literal('delete'), collection, id: entityId, ifRevision: revision }),
  z.strictObject({
    op: z.literal('createInvitation'),
    id: entityId,
    kind: z.enum(INVITATION_KINDS),
    secretHash,
    at: timestamp,
    expiresAt: timestamp,
    createdBy: entityId.optional(),
    subject: entityId.optional(),
  }),
  z.strictObject({
    op: z.literal('redeemInvitation'),
    id: entityId,
    secretHash,
    at: timestamp,
    by: entityId,
    certificate: enrolled.optional(),
  }),
  z.strictObject({ op: z.literal('revokeInvitation'), id: entityId, at: timestamp }),
  z.strictObject({
    op: z.literal('setSetting'),
    key: z.string().min(1).max(255),
    value: z.string().max(65_536),
    at: timestamp,
    onlyIfAbsent: z.boolean().optional(),
  }),
  z.strictObject({ op: z.literal('deleteSetting'), key: z.string().min(1).max(255) }),
  z.strictObject({ op: z.literal('endSessions'), id: entityId, at: timestamp }),
  z.strictObject({ op: z.literal('retireController'), nodeId: z.string().min(1).max(256), at: timestamp }),
  z.strictObject({
    op: z.literal('renewRouterCertificate'),
    routerId: entityId,
    previousSerial: serial,
    certificate: enrolled,
    at: timestamp,
  }),
  z.strictObject({
    op: z.literal('installIntermediate'),
    certificate: pemText,
    key: pemText,
    at: timestamp,
    root: z.strictObject({ certificate: pemText, cross: pemText }).optional(),
  }),
  z.strictObject({ op: z.literal('finishCaRotation'), issuer: fingerprint, at: timestamp }),
  z.strictObject({
    op: z.literal('recordControllerCertificate'),
    nodeId: z.string().min(1).max(256),
    certificate: z.strictObject({ serial, expiresAt: timestamp, issuer: fingerprint }),
    at: timestamp,
  }),
]);

const commandSchema = z.union([
  singleSchema,
  z.strictObject({ op: z.literal('batch'), commands: z.array(singleSchema).min(1).max(10_000) }),
]);

const idempotencySchema = z.strictObject({
  key: z.string().min(1).max(MAX_IDEMPOTENCY_KEY_LENGTH),
  at: timestamp,
  ttlMs: z.number().int().positive(),
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes of a command as they travel in a Raft entry. */
export function encodeCommand(command: ModelCommand, options: EncodeOptions = {}): Uint8Array {
  const { idempotencyKey, at } = options;
  if (idempotencyKey === undefined) return encoder.encode(JSON.stringify({ v: 1, command }));
  if (at === undefined) throw new Error('an idempotency key needs the time the write was taken');
  const idempotency = {
    key: idempotencyKey,
    at,
    ttlMs: options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS,
    ...(options.fingerprint === undefined ? {} : { fingerprint: options.fingerprint }),
  };
  return encoder.encode(JSON.stringify({ v: 1, command, idempotency }));
}

/** Decodes a committed entry; a malformed one is refused like any other bad command. */
export function decodeEnvelope(bytes: Uint8Array): CommandEnvelope {
  let envelope: unknown;
  try {
    envelope = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ModelError('INVALID', 'the command is not JSON');
  }
  const v = (envelope as { v?: unknown })?.v;
  if (v !== 1) throw new ModelError('INVALID', `unknown command version ${String(v)}`);
  const parsed = commandSchema.safeParse((envelope as { command?: unknown }).command);
  if (!parsed.success) throw new ModelError('INVALID', 'malformed command', fieldErrors(parsed.error));
  const rawKey = (envelope as { idempotency?: unknown }).idempotency;
  if (rawKey === undefined) return { command: parsed.data as ModelCommand };
  const key = idempotencySchema.safeParse(rawKey);
  if (!key.success) throw new ModelError('INVALID', 'malformed idempotency key', fieldErrors(key.error));
  return { command: parsed.data as ModelCommand, idempotency: key.data };
}

/** The command alone (see decodeEnvelope). */
export function decodeCommand(bytes: Uint8Array): ModelCommand {
  return decodeEnvelope(bytes).command;
}

/**
 * Validates a create (or full update) payload, filling defaults; throws INVALID with field errors.
 * `schema` is the model's create schema unless the caller checks a request against the API's.
 */
export function validateCreate(
  c: Collection,
  input: unknown,
  schema: z.ZodObject = spec(c).create,
): EntityData {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ModelError('INVALID', `invalid ${c} fields`, fieldErrors(parsed.error));
  return parsed.data as EntityData;
}

/** Validates the fields a patch names, one by one, without filling defaults for the others. */
export function validatePatch(
  c: Collection,
  input: unknown,
  schema: z.ZodObject = spec(c).create,
): EntityData {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ModelError('INVALID', 'a patch is an object of fields', [
      { field: '', message: 'expected an object' },
    ]);
  }
  const shape = schema.shape as Record<string, z.ZodType>;
  const out: EntityData = {};
  const errors: FieldError[] = [];
  for (const [field, value] of Object.entries(input)) {
    const schema = shape[field];
    if (!schema) {
      errors.push({ field, message: `unknown field for ${c}` });
      continue;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) out[field] = parsed.data;
    else errors.push(...fieldErrors(parsed.error, field));
  }
  if (errors.length > 0) throw new ModelError('INVALID', `invalid ${c} fields`, errors);
  return out;
}

function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  return error.issues.map((issue) => {
    const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.');
    return { field: path, message: issue.message };
  });
}
