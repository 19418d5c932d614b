/**
 * The register workload: K configs of one config type whose schema is `{v: integer}`; each is a
 * register (its `data.v` and its revision). Reads are linearizable GETs; writes PATCH a value no
 * other write uses; compare-and-set PATCHes with If-Match on the revision the client last saw.
 * Every ok answer must carry its own operation's value and an ETag equal to its revision.
 */
import type { SimRng } from '../../sim/rng.js';
import {
  CONTRACT,
  etagProblem,
  perform,
  raftIndexProblem,
  type ApiClient,
  type Completion,
  type Expected,
} from '../client.js';
import type { RegisterF, RegisterInput, RegisterValue } from '../history.js';
import type { HttpAnswer } from '../http.js';
import type { ClientState } from './client-state.js';
import { setupBatch } from './setup.js';

export interface Registers {
  readonly keys: readonly string[];
  /** Each key's state after setup (HistoryFile.registers). */
  readonly initial: Readonly<Record<string, RegisterValue>>;
}

export interface PlannedRegisterOp {
  readonly f: RegisterF;
  readonly key: string;
  readonly input?: RegisterInput;
}

const TYPE_ID = 'jepsen-register-type';

export async function setupRegisters(api: ApiClient, count: number): Promise<Registers> {
  const keys = Array.from({ length: count }, (_, i) => `jepsen-register-${i}`);
  const schema = {
    type: 'object',
    properties: { v: { type: 'integer' } },
    required: ['v'],
    additionalProperties: false,
  };
  const results = await setupBatch(api, 'jepsen-setup-registers', [
    { op: 'create', collection: 'config-types', id: TYPE_ID, data: { name: 'jepsen-register', schema } },
    ...keys.map((id) => ({
      op: 'create',
      collection: 'configs',
      id,
      data: { name: id, configTypeId: TYPE_ID, data: { v: 0 } },
    })),
  ]);
  const initial: Record<string, RegisterValue> = {};
  for (const [i, key] of keys.entries()) {
    const revision = results[i + 1]?.revision;
    if (typeof revision !== 'number') throw new Error(`setup: no revision for ${key}`);
    initial[key] = { value: 0, revision };
  }
  return { keys, initial };
}

/** The next register operation of a client: one third each of read, write and cas. */
export function planRegisterOp(rng: SimRng, client: ClientState, registers: Registers): PlannedRegisterOp {
  const key = rng.pick(registers.keys);
  const f = rng.pick(['read', 'write', 'cas'] as const);
  if (f === 'read') return { f, key };
  const value = client.nextValue();
  if (f === 'write') return { f, key, input: { value } };
  const ifRevision = client.seen.get(key) ?? registers.initial[key]?.revision ?? 1;
  return { f, key, input: { value, ifRevision } };
}

/** The RegisterValue an answer carries, and any contract problem with it. */
function registerOutput(answer: HttpAnswer, write: boolean): { output?: RegisterValue; error?: string } {
  const body = answer.json as { data?: { v?: unknown }; revision?: unknown } | undefined;
  const value = body?.data?.v;
  const revision = body?.revision;
  if (typeof value !== 'number' || typeof revision !== 'number') {
    return { error: `${CONTRACT}: answer without data.v and revision: ${answer.text.slice(0, 200)}` };
  }
  const error = etagProblem(answer, revision) ?? (write ? raftIndexProblem(answer) : undefined);
  return { output: { value, revision }, ...(error ? { error } : {}) };
}

export async function runRegisterOp(
  api: ApiClient,
  client: ClientState,
  op: PlannedRegisterOp,
): Promise<Completion> {
  const path = `/configs/${encodeURIComponent(op.key)}`;
  const write = op.f !== 'read';
  const expected: Expected = { ok: [200], output: (answer) => registerOutput(answer, write) };
  const done =
    op.f === 'read'
      ? await perform(api, client.node, 'GET', `${path}?consistency=linearizable`, {}, expected)
      : await perform(
          api,
          client.node,
          'PATCH',
          path,
          {
            body: { data: { v: op.input?.value } },
            ...(op.f === 'cas' ? { headers: { 'if-match': `"${op.input?.ifRevision}"` } } : {}),
          },
          expected,
        );
  if (done.outcome === 'ok' && done.output) client.seen.set(op.key, (done.output as RegisterValue).revision);
  return done;
}
