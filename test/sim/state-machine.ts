/**
 * The replicated state machine of the simulation: a small key/value map plus a hash chain over
 * every entry applied, so that two nodes that applied different histories end with different
 * digests. Only `normal` entries with data change it; a no-op or a membership change only moves
 * the applied index. Commands are `<id> <key> <value>` in ASCII; the value may be empty.
 */
import { createHash } from 'node:crypto';
import type { Entry } from '../../core/raft/types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const INITIAL_DIGEST = '0'.repeat(32);

export function encodeCommand(id: string, key: string, value: string): Uint8Array {
  return encoder.encode(`${id} ${key} ${value}`);
}

interface SnapshotBody {
  readonly index: number;
  readonly digest: string;
  readonly kv: readonly (readonly [string, string])[];
}

export class KvStateMachine {
  applied = 0;
  digest = INITIAL_DIGEST;
  /** Normal entries with data applied since the last restore. */
  commands = 0;
  private kv = new Map<string, string>();

  /** Applies one committed entry; true when it changed the state (a normal entry with data). */
  apply(entry: Entry): boolean {
    if (entry.index !== this.applied + 1) {
      throw new Error(`apply out of order: entry ${entry.index} after ${this.applied}`);
    }
    this.applied = entry.index;
    if (entry.type !== 'normal' || entry.data.length === 0) return false;
    this.digest = createHash('sha256')
      .update(`${this.digest}|${entry.index}|${entry.term}|`)
      .update(entry.data)
      .digest('hex')
      .slice(0, 32);
    const text = decoder.decode(entry.data);
    const [, key, ...rest] = text.split(' ');
    if (key !== undefined && key !== '') {
      const value = rest.join(' ');
      if (value === '') this.kv.delete(key);
      else this.kv.set(key, value);
    }
    this.commands++;
    return true;
  }

  get(key: string): string | undefined {
    return this.kv.get(key);
  }

  get size(): number {
    return this.kv.size;
  }

  snapshot(): Uint8Array {
    const kv = [...this.kv.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const body: SnapshotBody = { index: this.applied, digest: this.digest, kv };
    return encoder.encode(JSON.stringify(body));
  }

  /** The index and digest a snapshot holds, without restoring it. */
  static describe(data: Uint8Array): { index: number; digest: string } {
    if (data.length === 0) return { index: 0, digest: INITIAL_DIGEST };
    const body = JSON.parse(decoder.decode(data)) as SnapshotBody;
    return { index: body.index, digest: body.digest };
  }

  /** Reads a snapshot back; empty data is the empty state of a new cluster at index 0. */
  restore(data: Uint8Array): void {
    if (data.length === 0) {
      this.applied = 0;
      this.digest = INITIAL_DIGEST;
      this.kv = new Map();
      return;
    }
    const body = JSON.parse(decoder.decode(data)) as SnapshotBody;
    this.applied = body.index;
    this.digest = body.digest;
    this.kv = new Map(body.kv.map(([k, v]) => [k, v] as [string, string]));
  }
}
