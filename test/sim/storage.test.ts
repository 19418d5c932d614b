import { describe, expect, it } from 'vitest';
import type { Entry, Snapshot } from '../../core/raft/types.js';
import { SimRng } from './rng.js';
import { NodeStorage } from './storage.js';
import { Violation } from './violation.js';

function entry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array([index]) };
}

function snapshot(index: number, term: number): Snapshot {
  return { meta: { index, term, conf: { voters: ['a'], learners: [] } }, data: new Uint8Array([1, 2, 3]) };
}

function terms(s: NodeStorage): number[] {
  const out: number[] = [];
  for (let i = s.view.firstIndex; i <= s.view.lastIndex; i++) out.push(s.view.term(i) ?? -1);
  return out;
}

describe('NodeStorage', () => {
  it("replaces stored entries at or after a Ready's first entry", () => {
    const s = new NodeStorage();
    s.persistReady({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)] }, true);
    s.persistReady({ entries: [entry(2, 2)] }, true);
    expect(terms(s)).toEqual([1, 2]);
    expect(s.view.lastIndex).toBe(2);
  });

  it('refuses a gap or entries below the snapshot', () => {
    const s = new NodeStorage();
    s.persistReady({ entries: [entry(1, 1)] }, true);
    expect(() => s.persistReady({ entries: [entry(3, 1)] }, true)).toThrow(Violation);
    s.persistReady({ snapshot: snapshot(5, 1), entries: [] }, true);
    expect(() => s.persistReady({ entries: [entry(5, 1)] }, true)).toThrow(Violation);
  });

  it('keeps synced writes through a crash and loses some of the rest', () => {
    let lostSome = false;
    let keptSome = false;
    for (let seed = 0; seed < 40; seed++) {
      const s = new NodeStorage();
      s.persistReady({ entries: [entry(1, 1)], hardState: { term: 1, vote: 'a', commit: 0 } }, true);
      s.persistReady({ entries: [], hardState: { term: 1, vote: 'a', commit: 1 } }, false);
      s.dropEntriesBelow(1);
      s.crash(new SimRng(seed));
      expect(s.view.term(1)).toBe(1);
      expect(s.hardState?.term).toBe(1);
      if (s.hardState?.commit === 0) lostSome = true;
      else keptSome = true;
      expect(s.durable.lastIndex).toBe(1);
    }
    expect(lostSome && keptSome).toBe(true);
  });

  it("replaces the log with a Ready's snapshot unless the log holds its last entry", () => {
    const s = new NodeStorage();
    s.persistReady({ entries: [entry(1, 1), entry(2, 1), entry(3, 2)] }, true);
    s.persistReady({ snapshot: snapshot(2, 1), entries: [] }, true);
    expect(s.view.snapshotIndex).toBe(2);
    expect(s.view.term(3)).toBe(2);
    s.persistReady({ snapshot: snapshot(5, 3), entries: [] }, true);
    expect(s.view.term(3)).toBeUndefined();
    expect(s.view.lastIndex).toBe(5);
    expect(s.persisted()).toEqual({ snapshot: snapshot(5, 3), entries: [] });
  });

  it('compacts: snapshot saved, entries below the first kept index dropped', () => {
    const s = new NodeStorage();
    s.persistReady({ entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }, true);
    s.saveSnapshot(snapshot(3, 1));
    s.dropEntriesBelow(2);
    expect(s.view.firstIndex).toBe(2);
    expect(s.view.snapshotIndex).toBe(3);
    expect(s.persisted().entries?.map((e) => e.index)).toEqual([4]);
  });
});
