/**
 * The invariant checker on hand-made histories: each broken property is reported under its name,
 * and a consistent history passes. A checker that cannot fail would make every seed pass.
 */
import { describe, expect, it } from 'vitest';
import type { Entry, EntryType } from '../../core/raft/types.js';
import { InvariantChecker } from './invariants.js';
import { NodeStorage, type LogView } from './storage.js';
import { Violation } from './violation.js';

const enc = new TextEncoder();

function entry(index: number, term: number, data = `e${index}t${term}`, type: EntryType = 'normal'): Entry {
  return { index, term, type, data: enc.encode(data) };
}

/** A disk holding `entries`, all synced. */
function disk(entries: Entry[]): NodeStorage {
  const s = new NodeStorage();
  if (entries.length > 0) s.persistReady({ entries }, true);
  return s;
}

function violationOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof Violation) return err.invariant;
    throw err;
  }
}

function checker(): InvariantChecker {
  return new InvariantChecker({ voters: ['a', 'b', 'c'], learners: [] });
}

describe('InvariantChecker', () => {
  it('reports two leaders in one term', () => {
    const c = checker();
    c.observeLeader('a', 1);
    c.observeLeader('a', 1);
    c.observeLeader('b', 2);
    expect(violationOf(() => c.observeLeader('c', 2))).toBe('election-safety');
  });

  it('reports two different entries applied at one index', () => {
    const c = checker();
    for (const n of ['a', 'b']) c.observeStart(n, 0);
    c.observeApply('a', entry(1, 1), 1, 'd1');
    c.observeApply('b', entry(1, 1), 1, 'd1');
    c.observeApply('a', entry(2, 1, 'x'), 1, 'd2');
    expect(violationOf(() => c.observeApply('b', entry(2, 2, 'y'), 2, 'd2'))).toBe('state-machine-safety');
  });

  it('reports diverging state machines and out-of-order applies', () => {
    const c = checker();
    for (const n of ['a', 'b']) c.observeStart(n, 0);
    c.observeApply('a', entry(1, 1), 1, 'd1');
    expect(violationOf(() => c.observeApply('b', entry(1, 1), 1, 'other'))).toBe('state-machine-safety');
    const d = checker();
    d.observeStart('a', 0);
    expect(violationOf(() => d.observeApply('a', entry(2, 1), 1, 'd'))).toBe('apply-order');
  });

  it('reports a vote changed within a term and a term going back', () => {
    const c = checker();
    c.observeHardState('a', { term: 2, vote: '', commit: 0 });
    c.observeHardState('a', { term: 2, vote: 'b', commit: 0 });
    c.observeHardState('a', { term: 2, vote: 'b', commit: 3 });
    expect(violationOf(() => c.observeHardState('a', { term: 2, vote: 'c', commit: 3 }))).toBe('double-vote');
    expect(violationOf(() => c.observeHardState('a', { term: 1, vote: '', commit: 3 }))).toBe('hard-state');
  });

  it('reports logs that agree on an entry but differ before it', () => {
    const c = checker();
    const same = new Map<string, LogView>([
      ['a', disk([entry(1, 1), entry(2, 1), entry(3, 2)]).view],
      ['b', disk([entry(1, 1), entry(2, 1)]).view],
      ['c', disk([entry(1, 1), entry(2, 3, 'other')]).view],
    ]);
    c.checkLogMatching(same);
    const broken = new Map<string, LogView>([
      ['a', disk([entry(1, 1), entry(2, 1), entry(3, 2)]).view],
      ['b', disk([entry(1, 1), entry(2, 1, 'forged'), entry(3, 2)]).view],
    ]);
    expect(violationOf(() => c.checkLogMatching(broken))).toBe('log-matching');
  });

  it('reports a new leader that lacks a committed entry', () => {
    const c = checker();
    c.observeStart('a', 0);
    c.observeApply('a', entry(1, 1), 1, 'd1');
    c.observeApply('a', entry(2, 1), 1, 'd2');
    c.checkLeaders([{ node: 'a', term: 1, log: disk([entry(1, 1), entry(2, 1)]).view }]);
    c.checkLeaders([{ node: 'b', term: 2, log: disk([entry(1, 1), entry(2, 1), entry(3, 2)]).view }]);
    expect(violationOf(() => c.checkLeaders([{ node: 'c', term: 3, log: disk([entry(1, 1)]).view }]))).toBe(
      'leader-completeness',
    );
  });

  it('reports a committed entry that a crash could lose', () => {
    const c = checker();
    c.observeStart('a', 0);
    c.observeApply('a', entry(1, 1), 1, 'd1');
    const onTwo = new Map<string, LogView>([
      ['a', disk([entry(1, 1)]).durable],
      ['b', disk([entry(1, 1)]).durable],
      ['c', disk([]).durable],
    ]);
    c.checkDurability(onTwo);
    const unsynced = new NodeStorage();
    unsynced.persistReady({ entries: [entry(1, 1)] }, false);
    const onOne = new Map<string, LogView>([
      ['a', disk([entry(1, 1)]).durable],
      ['b', unsynced.durable],
      ['c', disk([]).durable],
    ]);
    expect(violationOf(() => c.checkDurability(onOne))).toBe('durability');
  });

  it('reports a read that misses a write committed before it began', () => {
    const c = checker();
    c.observeStart('a', 0);
    c.observeApply('a', entry(1, 1), 1, 'd1');
    c.observeApply('a', entry(2, 1), 1, 'd2');
    c.startRead('b', 'r1');
    c.observeReadState('b', { context: 'r1', index: 2 });
    c.startRead('b', 'r2');
    expect(violationOf(() => c.observeReadState('b', { context: 'r2', index: 1 }))).toBe('read-index');
    expect(violationOf(() => c.observeReadState('b', { context: 'r9', index: 5 }))).toBe('read-index');
  });

  it('tracks membership through committed changes', () => {
    const c = checker();
    c.observeStart('a', 0);
    c.observeApply(
      'a',
      entry(1, 1, JSON.stringify({ type: 'addLearner', nodeId: 'd' }), 'confChange'),
      1,
      'd0',
    );
    c.observeApply(
      'a',
      entry(2, 1, JSON.stringify({ type: 'addVoter', nodeId: 'd' }), 'confChange'),
      1,
      'd0',
    );
    c.observeApply(
      'a',
      entry(3, 1, JSON.stringify({ type: 'removeNode', nodeId: 'a' }), 'confChange'),
      1,
      'd0',
    );
    expect(c.committedConf).toEqual({ voters: ['b', 'c', 'd'], learners: [] });
    expect(c.confAt(1)).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
  });
});
