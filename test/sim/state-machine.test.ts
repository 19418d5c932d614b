import { describe, expect, it } from 'vitest';
import type { Entry } from '../../core/raft/types.js';
import { encodeCommand, INITIAL_DIGEST, KvStateMachine } from './state-machine.js';

function normal(index: number, term: number, data: Uint8Array): Entry {
  return { index, term, type: 'normal', data };
}

describe('KvStateMachine', () => {
  it('applies commands, skips no-ops and membership changes, and chains a digest', () => {
    const sm = new KvStateMachine();
    expect(sm.apply(normal(1, 1, new Uint8Array()))).toBe(false);
    expect(sm.digest).toBe(INITIAL_DIGEST);
    expect(sm.apply(normal(2, 1, encodeCommand('p1', 'k1', 'hello world')))).toBe(true);
    expect(sm.apply({ index: 3, term: 1, type: 'confChange', data: new Uint8Array([1]) })).toBe(false);
    expect(sm.get('k1')).toBe('hello world');
    expect(sm.applied).toBe(3);
    expect(sm.digest).not.toBe(INITIAL_DIGEST);
    expect(() => sm.apply(normal(5, 1, new Uint8Array([1])))).toThrow(/out of order/);
  });

  it('gives different digests to different histories', () => {
    const a = new KvStateMachine();
    const b = new KvStateMachine();
    a.apply(normal(1, 1, encodeCommand('p1', 'k', 'v')));
    b.apply(normal(1, 2, encodeCommand('p1', 'k', 'v')));
    expect(a.digest).not.toBe(b.digest);
  });

  it('round-trips through a snapshot', () => {
    const a = new KvStateMachine();
    a.apply(normal(1, 1, encodeCommand('p1', 'k1', 'x')));
    a.apply(normal(2, 1, encodeCommand('p2', 'k2', 'y')));
    a.apply(normal(3, 1, encodeCommand('p3', 'k1', '')));
    const b = new KvStateMachine();
    b.restore(a.snapshot());
    expect([b.applied, b.digest, b.get('k1'), b.get('k2')]).toEqual([3, a.digest, undefined, 'y']);
    b.restore(new Uint8Array());
    expect([b.applied, b.digest, b.size]).toEqual([0, INITIAL_DIGEST, 0]);
  });
});
