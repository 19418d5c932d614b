/**
 * What goes on the wire and what may come off it. Every received Raft message is validated against
 * a schema per message type that mirrors core/raft/types.ts; anything else is dropped and counted
 * by the caller, never thrown and never handed to Raft (DESIGN §5).
 *
 * msgpack (notepack) writes a Buffer as `bin` but any other Uint8Array as an `ext` holding its
 * whole underlying ArrayBuffer, so outgoing bytes are turned into Buffer views first, and incoming
 * ones are copied into plain Uint8Arrays (so a kept entry does not pin the whole frame).
 */
import { z } from 'zod';
import type { Message, MessageType, NodeId } from '../raft/types.js';

const nodeId = z.string();
const count = z.int().nonnegative();
const bytes = z.instanceof(Uint8Array).transform((b) => new Uint8Array(b));

const entry = z.object({
  term: count,
  index: count,
  type: z.enum(['normal', 'confChange']),
  data: bytes,
});

const confState = z.object({
  voters: z.array(nodeId),
  learners: z.array(nodeId),
  context: z.record(z.string(), z.string()).optional(),
});

const snapshotMeta = z.object({ index: count, term: count, conf: confState });

const base = { from: nodeId, to: nodeId, term: count };

/** One schema per message type; unknown keys are stripped so Raft sees exactly its own shape. */
export const messageSchema = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('append'),
    index: count,
    logTerm: count,
    entries: z.array(entry),
    commit: count,
  }),
  z.object({
    ...base,
    type: z.literal('appendResponse'),
    index: count,
    reject: z.boolean(),
    hintIndex: count,
    hintTerm: count,
  }),
  z.object({ ...base, type: z.literal('heartbeat'), commit: count, context: z.string().optional() }),
  z.object({ ...base, type: z.literal('heartbeatResponse'), context: z.string().optional() }),
  z.object({
    ...base,
    type: z.enum(['vote', 'preVote']),
    index: count,
    logTerm: count,
    transfer: z.boolean().optional(),
  }),
  z.object({ ...base, type: z.enum(['voteResponse', 'preVoteResponse']), reject: z.boolean() }),
  z.object({
    ...base,
    type: z.literal('snapshot'),
    meta: snapshotMeta,
    offset: count,
    total: count,
    data: bytes,
  }),
  z.object({ ...base, type: z.literal('snapshotResponse'), index: count, received: count }),
  z.object({ ...base, type: z.literal('timeoutNow') }),
  z.object({ ...base, type: z.literal('readIndex'), context: z.string() }),
  z.object({ ...base, type: z.literal('readIndexResponse'), context: z.string(), index: count }),
]);

type Decoded = z.output<typeof messageSchema>;
// Compile-time proof that the schemas and core/raft/types.ts agree: every decoded value is a
// Message, and every message type has a schema.
const schemasMatchRaftTypes: [Decoded] extends [Message]
  ? [MessageType] extends [Decoded['type']]
    ? true
    : false
  : false = true;
void schemasMatchRaftTypes;

export interface DecodedFrame {
  readonly messages: Message[];
  /** Elements of the frame (or the frame itself) that were not valid messages from this peer to us. */
  readonly malformed: number;
}

/**
 * Validates a received frame (an array of messages) from the authenticated `peer` to `self`. A
 * message whose `from` is not the authenticated peer, or whose `to` is not us, is malformed.
 */
export function decodeFrame(frame: unknown, peer: NodeId, self: NodeId): DecodedFrame {
  if (!Array.isArray(frame)) return { messages: [], malformed: 1 };
  const messages: Message[] = [];
  let malformed = 0;
  for (const element of frame) {
    const parsed = messageSchema.safeParse(element);
    if (parsed.success && parsed.data.from === peer && parsed.data.to === self) messages.push(parsed.data);
    else malformed += 1;
  }
  return { messages, malformed };
}

/** The wire form of a frame: the same messages with their bytes as Buffer views (no copy). */
export function encodeFrame(messages: readonly Message[]): unknown[] {
  return messages.map(toWireMessage);
}

function toWireMessage(m: Message): unknown {
  switch (m.type) {
    case 'append':
      return m.entries.length === 0
        ? m
        : { ...m, entries: m.entries.map((e) => ({ ...e, data: asBuffer(e.data) })) };
    case 'snapshot':
      return { ...m, data: asBuffer(m.data) };
    default:
      return m;
  }
}

/**
 * Bytes the message takes on the wire, from above: byte arrays and strings exactly, every other
 * field at its largest msgpack size. Enough to bound queues and split frames under the limit.
 */
export function estimateMessageBytes(m: Message): number {
  let size = 160 + utf8Max(m.from) + utf8Max(m.to);
  switch (m.type) {
    case 'append':
      for (const e of m.entries) size += 64 + e.data.byteLength;
      return size;
    case 'snapshot': {
      const conf = m.meta.conf;
      for (const id of [...conf.voters, ...conf.learners]) size += 8 + utf8Max(id);
      for (const [id, ctx] of Object.entries(conf.context ?? {})) size += 16 + utf8Max(id) + utf8Max(ctx);
      return size + 160 + m.data.byteLength;
    }
    case 'heartbeat':
    case 'heartbeatResponse':
    case 'readIndex':
    case 'readIndexResponse':
      return size + utf8Max(m.context ?? '');
    default:
      return size;
  }
}

/** At most 3 UTF-8 bytes per UTF-16 unit, plus the string header. */
function utf8Max(s: string): number {
  return 5 + 3 * s.length;
}

/** A request payload or answer on its way out: every Uint8Array becomes a Buffer view, deeply. */
export function toWireValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return asBuffer(value);
  if (Array.isArray(value)) return value.map(toWireValue);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toWireValue(v);
    return out;
  }
  return value;
}

/** A request payload or answer as received: binary becomes a plain (copied) Uint8Array, deeply. */
export function fromWireValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (Array.isArray(value)) return value.map(fromWireValue);
  if (typeof value === 'object' && value !== null) {
    // A fresh plain object: a `__proto__` key in the frame must not reach anyone's prototype.
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== '__proto__') out[k] = fromWireValue(v);
    return out;
  }
  return value;
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
