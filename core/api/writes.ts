/**
 * The write path: check the input, build the command here (id, timestamp, password hash) so apply
 * stays deterministic, and propose it through the replica, which forwards to the leader and
 * resolves once the entry has applied on this node (read-your-writes). A refusal by the model
 * comes back as a result and is thrown as a ModelError for the problem table.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { CommandResult } from '../model/apply.js';
import { canonicalJson } from '../model/canonical-json.js';
import {
  encodeCommand,
  validateCreate,
  validatePatch,
  type BatchCommand,
  type EntityData,
  type ModelCommand,
  type SingleCommand,
} from '../model/commands.js';
import type { Collection } from '../model/entities.js';
import { ModelError, type FieldError, type ModelErrorResult } from '../model/errors.js';
import { hashPassword } from '../model/passwords.js';
import { ReplicaError } from '../replication/errors.js';
import type { Replica } from '../replication/replica.js';
import type { ApiMetrics } from './metrics.js';
import { ApiProblem, modelRefusal } from './problem.js';
import { createSchema, type BatchOperation } from '../../contract/index.js';

export interface WriteResult {
  readonly index: number;
  readonly result: CommandResult;
  /** True when an earlier write with the same Idempotency-Key answered: nothing applied now. */
  readonly replayed: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, checked: visible ASCII, at most 255 characters. */
export function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header) || !IDEMPOTENCY_KEY.test(header)) {
    throw new ApiProblem(400, 'INVALID', 'Idempotency-Key must be 1 to 255 visible ASCII characters', [
      { field: 'Idempotency-Key', message: 'invalid' },
    ]);
  }
  return header;
}

/** The revision an If-Match header asks for: `"3"`, `W/"3"` or `3`; `*` (any) is undefined. */
export function ifMatchRevision(header: string | string[] | undefined): number | undefined {
  if (header === undefined || header === '*') return undefined;
  const match = typeof header === 'string' ? /^\s*(?:W\/)?"?([1-9][0-9]{0,15})"?\s*$/.exec(header) : null;
  if (!match) {
    throw new ApiProblem(400, 'INVALID', 'If-Match must be an entity revision such as "3"', [
      { field: 'If-Match', message: 'expected a revision' },
    ]);
  }
  return Number(match[1]);
}

/** Prefixes field errors, for an operation inside a batch. */
function within(prefix: string, err: unknown): unknown {
  if (!(err instanceof ModelError)) return err;
  const errors: FieldError[] = err.errors.map((e) => ({
    field: e.field ? `${prefix}.${e.field}` : prefix,
    message: e.message,
  }));
  return new ModelError(err.code, `${prefix}: ${err.message}`, errors);
}

/** An admin's password becomes its scrypt hash here, so only the hash is ever proposed. */
async function withPasswordHash(c: Collection, data: EntityData): Promise<EntityData> {
  if (c !== 'admins' || typeof data.password !== 'string') return data;
  const { password, ...rest } = data;
  return { ...rest, passwordHash: await hashPassword(password) };
}

/** A create of fields already checked against the contract's create schema (by the route, or the batch). */
export async function createCommand(
  c: Collection,
  data: EntityData,
  at: string,
  id: string = randomUUID(),
): Promise<SingleCommand> {
  return { op: 'create', collection: c, id, at, data: await withPasswordHash(c, data) };
}

/** A patch of fields already checked against the contract's patch schema (by the route, or the batch). */
export async function patchCommand(
  c: Collection,
  id: string,
  data: EntityData,
  at: string,
  ifRevision?: number,
): Promise<SingleCommand> {
  const fields = await withPasswordHash(c, data);
  return {
    op: 'patch',
    collection: c,
    id,
    at,
    data: fields,
    ...(ifRevision !== undefined ? { ifRevision } : {}),
  };
}

export function deleteCommand(c: Collection, id: string, ifRevision?: number): SingleCommand {
  return { op: 'delete', collection: c, id, ...(ifRevision !== undefined ? { ifRevision } : {}) };
}

/**
 * A batch's operations. The route checked only their envelope; each operation's fields are
 * checked here, once, against its collection's request schema (the contract's, as a single
 * route would), with field errors naming the operation.
 */
export async function batchCommand(operations: readonly BatchOperation[], at: string): Promise<BatchCommand> {
  const commands: SingleCommand[] = [];
  for (const [i, o] of operations.entries()) {
    try {
      if (o.op === 'create') {
        const data = validateCreate(o.collection, o.data, createSchema(o.collection));
        commands.push(await createCommand(o.collection, data, at, o.id));
      } else if (o.op === 'patch') {
        const data = validatePatch(o.collection, o.data, createSchema(o.collection));
        commands.push(await patchCommand(o.collection, o.id, data, at, o.ifRevision));
      } else commands.push(deleteCommand(o.collection, o.id, o.ifRevision));
    } catch (err) {
      throw within(`operations.${i}.data`, err);
    }
  }
  return { op: 'batch', commands };
}

export interface ProposeOptions {
  readonly idempotencyKey?: string | undefined;
  /** When this node took the write (the command's `at`); keys expire counted from it. */
  readonly at: string;
  /** The request's fingerprint, with a key: the key then answers only this request. */
  readonly fingerprint?: string | undefined;
}

/** What a keyed write's request is, as far as its key goes: method, path and body. */
interface FingerprintedRequest {
  readonly method: string;
  readonly url: string;
  readonly body?: unknown;
  readonly headers: { readonly [name: string]: string | string[] | undefined };
}

/**
 * The request's hash, bound to its Idempotency-Key. Passwords are left out: the fingerprint is
 * replicated and kept for a day, and a fast hash of a body would let anyone holding a backup
 * guess the password in it offline (two requests that differ only in a password count as one).
 */
export function requestFingerprint(request: FingerprintedRequest): string {
  const body = JSON.parse(JSON.stringify(request.body ?? null), (key, value: unknown) =>
    key === 'password' ? '<password>' : value,
  ) as unknown;
  return createHash('sha256')
    .update(`${request.method}\n${request.url}\n${canonicalJson(body)}`)
    .digest('hex');
}

/** The idempotency part of a write's options: the checked key and, with one, the fingerprint. */
export function keyedWrite(request: FingerprintedRequest, at: string): ProposeOptions {
  const key = idempotencyKey(request.headers['idempotency-key']);
  return key === undefined ? { at } : { idempotencyKey: key, at, fingerprint: requestFingerprint(request) };
}

/** Proposes and waits for the apply here; throws ModelError (refused) or ReplicaError. */
export async function propose(
  replica: Replica,
  metrics: ApiMetrics,
  command: ModelCommand,
  options: ProposeOptions,
): Promise<WriteResult> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const bytes = encodeCommand(
    command,
    options.idempotencyKey === undefined
      ? {}
      : {
          idempotencyKey: options.idempotencyKey,
          at: options.at,
          ...(options.fingerprint === undefined ? {} : { fingerprint: options.fingerprint }),
        },
  );
  let answer;
  try {
    answer = await replica.propose(bytes);
  } catch (err) {
    metrics.observeProposal(err instanceof ReplicaError ? err.code : 'ERROR', seconds());
    throw err;
  }
  const result = answer.result as (CommandResult | ModelErrorResult) & { replayed?: true };
  if (result.ok === false) {
    metrics.observeProposal(result.error.code, seconds());
    throw Object.assign(modelRefusal(result), { raftIndex: answer.index });
  }
  metrics.observeProposal('ok', seconds());
  return { index: answer.index, result, replayed: result.replayed === true };
}
