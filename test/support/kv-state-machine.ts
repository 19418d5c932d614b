/**
 * A small key-value state machine for the replica's tests and benchmarks. Commands are JSON:
 * {op:'put', key, value} | {op:'delete', key}. The result of a put is the key's new version.
 */
import type { CommittedCommand, StateMachine } from '../../core/replication/state-machine.js';

export type KvCommand = { op: 'put'; key: string; value: string } | { op: 'delete'; key: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeKv(command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export class KvStateMachine implements StateMachine {
  readonly data = new Map<string, { value: string; version: number; index: number }>();
  appliedIndex = 0;

  apply(commands: readonly CommittedCommand[], appliedIndex: number): unknown[] {
    const results = commands.map((c) => this.applyOne(c));
    this.appliedIndex = appliedIndex;
    return results;
  }

  private applyOne(c: CommittedCommand): unknown {
    let command: KvCommand;
    try {
      command = JSON.parse(decoder.decode(c.data)) as KvCommand;
    } catch {
      return { error: 'BAD_COMMAND' };
    }
    if (command.op === 'put') {
      const version = (this.data.get(command.key)?.version ?? 0) + 1;
      this.data.set(command.key, { value: command.value, version, index: c.index });
      return { version };
    }
    if (command.op === 'delete') return { deleted: this.data.delete(command.key) };
    return { error: 'BAD_COMMAND' };
  }

  get(key: string): string | undefined {
    return this.data.get(key)?.value;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify({ appliedIndex: this.appliedIndex, data: [...this.data] }));
  }

  restore(bytes: Uint8Array): void {
    const state = JSON.parse(decoder.decode(bytes)) as {
      appliedIndex: number;
      data: [string, { value: string; version: number; index: number }][];
    };
    this.data.clear();
    for (const [k, v] of state.data) this.data.set(k, v);
    this.appliedIndex = state.appliedIndex;
  }
}
