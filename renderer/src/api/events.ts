/**
 * Events as the UI keeps them. The node sends entity and cluster events over the socket.io
 * namespace `/events` and in the `GET /events` backlog; both pass through `normaliseEvent`, which
 * keeps the whole payload and pulls out the few fields the UI filters and sorts on.
 */
import type { JsonValue, MeshEvent } from './types.js';

type Payload = { readonly [key: string]: JsonValue };

function isRecord(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(payload: Payload, ...keys: string[]): string | null {
  for (const key of keys) {
    const value = payload[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}

function integer(payload: Payload, ...keys: string[]): number | null {
  for (const key of keys) {
    const value = payload[key];
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  }
  return null;
}

/**
 * One event from a socket.io message (`name`, `payload`) or a backlog item (`payload` only). The
 * node sends `{kind: 'entity', op, collection, id, …}`, `{kind: 'cluster', type, …}` and
 * `{kind: 'runtime', type: 'link.up', id, …}`; the UI names them `entity.create`, `cluster.leader`,
 * `runtime.link.up`, …. Anything else keeps its own `type` (or the
 * socket.io event name), so that a newer node's events still show.
 */
export function normaliseEvent(name: string | null, raw: unknown): MeshEvent | null {
  const payload: Payload = isRecord(raw) ? raw : { value: (raw ?? null) as JsonValue };
  const kind = text(payload, 'kind');
  const detail =
    kind === 'entity'
      ? text(payload, 'op')
      : kind === 'cluster' || kind === 'runtime'
        ? text(payload, 'type')
        : null;
  const type = kind && detail ? `${kind}.${detail}` : (text(payload, 'type', 'event') ?? name);
  if (type === null) return null;
  return {
    type,
    index: integer(payload, 'index', 'raftIndex'),
    seq: integer(payload, 'seq'),
    at: text(payload, 'at', 'time', 'timestamp'),
    collection: text(payload, 'collection'),
    entityId: text(payload, 'id', 'entityId'),
    payload,
  };
}

/** Backlog items from `GET /events`: a bare array or a `{data}` list. */
export function normaliseBacklog(body: unknown): MeshEvent[] {
  const items = Array.isArray(body) ? body : isRecord(body) && Array.isArray(body.data) ? body.data : [];
  return items.map((item) => normaliseEvent(null, item)).filter((e): e is MeshEvent => e !== null);
}

/** Whether an event changes what `GET /cluster` shows. */
export function isClusterEvent(event: MeshEvent): boolean {
  return event.type.startsWith('cluster.');
}

/** Whether an event changes the runtime data (`GET /links`, `/circuits`, `/runtime`). */
export function isRuntimeEvent(event: MeshEvent): boolean {
  return event.type.startsWith('runtime.');
}
