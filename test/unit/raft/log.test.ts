/**
 * RaftLog, one test per rule of the log (thesis §3.5 log replication, §3.6.1 election restriction,
 * §5 compaction). Logs are written as the terms of their entries: `log(0, 0, [1, 1, 2])` holds
 * 1/t1 2/t1 3/t2 after an empty snapshot.
 */
import { describe, expect, it } from 'vitest';

import { entrySize, RaftLog } from '../../../core/raft/log.js';
import type { Entry, Snapshot } from '../../../core/raft/types.js';

const VOTERS = { voters: ['a', 'b', 'c'], learners: [] };

function ent(index: number, term: number, data = ''): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(data) };
}

function snap(index: number, term: number): Snapshot {
  return { meta: { index, term, conf: VOTERS }, data: new Uint8Array() };
}

/** A log after a snapshot at (snapIndex, snapTerm) holding entries of `terms`, all stable. */
function log(snapIndex: number, snapTerm: number, terms: number[], committed = 0): RaftLog {
  return new RaftLog(
    snap(snapIndex, snapTerm),
    terms.map((term, i) => ent(snapIndex + 1 + i, term)),
    committed,
  );
}

/** The log's entries as `index/tTerm`, from the first held to the last. */
function held(l: RaftLog): string[] {
  const out: string[] = [];
  for (let i = l.firstIndex(); i <= l.lastIndex(); i++) out.push(`${i}/t${l.term(i)}`);
  return out;
}

const ids = (entries: readonly Entry[]): string[] => entries.map((e) => `${e.index}/t${e.term}`);

describe('RaftLog: construction and term lookups', () => {
  it('starts right after its snapshot, with the snapshot entry as the known previous entry', () => {
    const l = log(3, 2, [2, 3]);
    expect(l.firstIndex()).toBe(4);
    expect(l.lastIndex()).toBe(5);
    expect(l.lastTerm()).toBe(3);
    expect(l.term(3)).toBe(2);
    expect(l.entry(3)).toBeUndefined();
    expect(l.entry(4)).toEqual(ent(4, 2));
  });

  it('knows no term for compacted or unwritten indexes', () => {
    const l = log(3, 2, [2, 3]);
    expect(l.term(2)).toBeUndefined();
    expect(l.term(6)).toBeUndefined();
    expect(l.entry(6)).toBeUndefined();
  });

  it('ignores persisted entries at or below the snapshot index', () => {
    const l = new RaftLog(snap(2, 1), [ent(1, 1), ent(2, 1), ent(3, 2)], 0);
    expect(held(l)).toEqual(['3/t2']);
    expect(l.firstIndex()).toBe(3);
  });

  it('refuses persisted entries with a gap', () => {
    expect(() => new RaftLog(snap(0, 0), [ent(1, 1), ent(3, 1)], 0)).toThrow(
      'log is not contiguous: entry 3 follows 1',
    );
  });

  it('treats persisted entries as stable and starts applied at the snapshot', () => {
    const l = log(2, 1, [1, 2], 3);
    expect(l.stable).toBe(4);
    expect(l.applied).toBe(2);
    expect(l.committed).toBe(3);
    expect(l.unstableEntries()).toEqual([]);
  });

  it('clamps a persisted commit index to the last index', () => {
    expect(log(0, 0, [1, 1], 9).committed).toBe(2);
  });

  it('never starts the commit index below the snapshot', () => {
    expect(log(5, 2, [2], 1).committed).toBe(5);
  });

  it('appends the leader’s own entries after the last index, unstable until persisted', () => {
    const l = log(0, 0, [1]);
    l.append([ent(2, 2), ent(3, 2)]);
    expect(l.lastIndex()).toBe(3);
    expect(l.lastTerm()).toBe(2);
    expect(l.term(2)).toBe(2);
    expect(ids(l.unstableEntries())).toEqual(['2/t2', '3/t2']);
  });

  it('has last term 0 when empty at the start of time', () => {
    const l = log(0, 0, []);
    expect(l.lastIndex()).toBe(0);
    expect(l.lastTerm()).toBe(0);
  });
});

describe('RaftLog.matchTerm (§3.5 log matching property)', () => {
  const l = log(2, 1, [1, 2, 3]);

  it('matches an entry held with the same term', () => {
    expect(l.matchTerm(4, 2)).toBe(true);
  });

  it('matches the snapshot entry', () => {
    expect(l.matchTerm(2, 1)).toBe(true);
  });

  it('does not match an entry held with another term', () => {
    expect(l.matchTerm(4, 3)).toBe(false);
  });

  it('does not match an index past the end or compacted away', () => {
    expect(l.matchTerm(6, 3)).toBe(false);
    expect(l.matchTerm(1, 1)).toBe(false);
  });
});

describe('RaftLog.isUpToDate (§3.6.1 / paper §5.4.1: compare last terms, then lengths)', () => {
  // Our log ends at 3/t2.
  const l = log(0, 0, [1, 2, 2]);

  it('a later last term is more up-to-date, even with a shorter log', () => {
    expect(l.isUpToDate(1, 3)).toBe(true);
  });

  it('an earlier last term is less up-to-date, even with a longer log', () => {
    expect(l.isUpToDate(9, 1)).toBe(false);
  });

  it('with the same last term, the longer log is more up-to-date', () => {
    expect(l.isUpToDate(4, 2)).toBe(true);
  });

  it('with the same last term and length, the logs are equally up-to-date (vote granted)', () => {
    expect(l.isUpToDate(3, 2)).toBe(true);
  });

  it('with the same last term, a shorter log is less up-to-date', () => {
    expect(l.isUpToDate(2, 2)).toBe(false);
  });
});

describe('RaftLog.maybeAppend (§3.5, AppendEntries receiver)', () => {
  it('rejects entries whose previous entry it does not hold with that term, changing nothing', () => {
    const l = log(0, 0, [1, 1, 2]);
    expect(l.maybeAppend(3, 3, 3, [ent(4, 3)])).toBeUndefined();
    expect(l.maybeAppend(4, 2, 3, [ent(5, 3)])).toBeUndefined();
    expect(held(l)).toEqual(['1/t1', '2/t1', '3/t2']);
    expect(l.committed).toBe(0);
  });

  it('appends new entries after the matching previous entry and returns the last new index', () => {
    const l = log(0, 0, [1, 1]);
    expect(l.maybeAppend(2, 1, 0, [ent(3, 2), ent(4, 2)])).toBe(4);
    expect(held(l)).toEqual(['1/t1', '2/t1', '3/t2', '4/t2']);
    expect(ids(l.unstableEntries())).toEqual(['3/t2', '4/t2']);
  });

  it('deletes a conflicting entry and all that follow it, then appends', () => {
    const l = log(0, 0, [1, 1, 1, 1]);
    expect(l.maybeAppend(1, 1, 0, [ent(2, 1), ent(3, 2)])).toBe(3);
    expect(held(l)).toEqual(['1/t1', '2/t1', '3/t2']);
  });

  it('moves the stable index back below a replaced entry', () => {
    const l = log(0, 0, [1, 1, 1, 1]);
    l.maybeAppend(1, 1, 0, [ent(2, 1), ent(3, 2)]);
    expect(l.stable).toBe(2);
    expect(ids(l.unstableEntries())).toEqual(['3/t2']);
  });

  it('does not truncate entries that match (a late, shorter append is not a conflict)', () => {
    const l = log(0, 0, [1, 1, 2, 2]);
    expect(l.maybeAppend(1, 1, 0, [ent(2, 1)])).toBe(2);
    expect(held(l)).toEqual(['1/t1', '2/t1', '3/t2', '4/t2']);
    expect(l.stable).toBe(4);
  });

  it('returns the last index of the append, not of the log, when all entries already match', () => {
    const l = log(0, 0, [1, 1, 2, 2]);
    expect(l.maybeAppend(0, 0, 0, [])).toBe(0);
    expect(l.maybeAppend(2, 1, 0, [ent(3, 2)])).toBe(3);
  });

  it('sets commit to min(leaderCommit, index of last new entry)', () => {
    const l = log(0, 0, [1, 1, 1, 1]);
    // Entries 3 and 4 may be stale leftovers: only what this append vouched for commits.
    expect(l.maybeAppend(1, 1, 4, [ent(2, 1)])).toBe(2);
    expect(l.committed).toBe(2);
    l.maybeAppend(3, 1, 3, []);
    expect(l.committed).toBe(3);
  });

  it('never moves commit backwards on an append with a lower leader commit', () => {
    const l = log(0, 0, [1, 1, 1], 3);
    expect(l.maybeAppend(1, 1, 1, [])).toBe(1);
    expect(l.committed).toBe(3);
  });

  it('throws rather than replace a committed entry, changing nothing', () => {
    const l = log(0, 0, [1, 1, 1], 2);
    expect(() => l.maybeAppend(1, 1, 3, [ent(2, 2), ent(3, 2)])).toThrow(
      'entry 2 conflicts with committed entry (committed 2)',
    );
    expect(held(l)).toEqual(['1/t1', '2/t1', '3/t1']);
    expect(l.committed).toBe(2);
    expect(l.stable).toBe(3);
  });

  it('replaces an uncommitted entry right after the commit index', () => {
    const l = log(0, 0, [1, 1, 1], 2);
    expect(l.maybeAppend(2, 1, 2, [ent(3, 2)])).toBe(3);
    expect(held(l)).toEqual(['1/t1', '2/t1', '3/t2']);
  });
});

describe('RaftLog.findConflictByTerm (§3.5 rejection hint)', () => {
  // 1/t1 2/t1 3/t2 4/t2 5/t4 6/t4
  const l = log(0, 0, [1, 1, 2, 2, 4, 4]);

  it('skips every entry of a term above the leader’s', () => {
    expect(l.findConflictByTerm(6, 3)).toBe(4);
    expect(l.findConflictByTerm(6, 1)).toBe(2);
  });

  it('stays at the index when its term is at or below the leader’s', () => {
    expect(l.findConflictByTerm(6, 4)).toBe(6);
    expect(l.findConflictByTerm(4, 5)).toBe(4);
  });

  it('starts from the last index when asked past it', () => {
    expect(l.findConflictByTerm(10, 4)).toBe(6);
  });

  it('falls back to the entry before the first held one', () => {
    expect(l.findConflictByTerm(6, 0)).toBe(0);
    expect(log(3, 1, [2, 2]).findConflictByTerm(5, 1)).toBe(3);
  });
});

describe('RaftLog.stableTo', () => {
  it('marks entries up to the persisted one stable', () => {
    const l = log(0, 0, []);
    l.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    l.stableTo(2, 1);
    expect(l.stable).toBe(2);
    expect(ids(l.unstableEntries())).toEqual(['3/t1']);
  });

  it('ignores a persisted entry that has been replaced since (its term no longer matches)', () => {
    const l = log(0, 0, []);
    l.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    l.maybeAppend(1, 1, 0, [ent(2, 2)]);
    l.stableTo(3, 1); // entry 3 is gone
    l.stableTo(2, 1); // entry 2 is now of term 2
    expect(l.stable).toBe(0);
    expect(ids(l.unstableEntries())).toEqual(['1/t1', '2/t2']);
    l.stableTo(2, 2);
    expect(l.stable).toBe(2);
    expect(l.unstableEntries()).toEqual([]);
  });

  it('never moves the stable index backwards', () => {
    const l = log(0, 0, [1, 1, 1]);
    l.stableTo(1, 1);
    expect(l.stable).toBe(3);
  });
});

describe('RaftLog.nextCommitted', () => {
  // Each entry is 8 bytes of data plus the per-entry overhead.
  const size = entrySize(ent(1, 1, '12345678'));

  function committedLog(): RaftLog {
    const l = new RaftLog(
      snap(0, 0),
      [1, 2, 3, 4].map((i) => ent(i, 1, '12345678')),
      3,
    );
    return l;
  }

  it('hands out committed entries not yet applied, never uncommitted ones', () => {
    expect(ids(committedLog().nextCommitted(1 << 20))).toEqual(['1/t1', '2/t1', '3/t1']);
  });

  it('stops before the entry that would exceed the byte limit', () => {
    expect(ids(committedLog().nextCommitted(2 * size))).toEqual(['1/t1', '2/t1']);
    expect(ids(committedLog().nextCommitted(2 * size + size - 1))).toEqual(['1/t1', '2/t1']);
  });

  it('hands out at least one entry, however small the limit', () => {
    expect(ids(committedLog().nextCommitted(1))).toEqual(['1/t1']);
  });

  it('starts after the applied index', () => {
    const l = committedLog();
    l.applied = 2;
    expect(ids(l.nextCommitted(1 << 20))).toEqual(['3/t1']);
    l.applied = 3;
    expect(l.nextCommitted(1 << 20)).toEqual([]);
  });
});

describe('RaftLog.slice', () => {
  it('is undefined from a compacted index', () => {
    expect(log(3, 1, [1, 1]).slice(3, 5, 1 << 20)).toBeUndefined();
  });

  it('stops at `hi` and at the last index', () => {
    const l = log(0, 0, [1, 1, 1, 1]);
    expect(ids(l.slice(2, 3, 1 << 20) ?? [])).toEqual(['2/t1', '3/t1']);
    expect(ids(l.slice(3, 9, 1 << 20) ?? [])).toEqual(['3/t1', '4/t1']);
    expect(l.slice(5, 9, 1 << 20)).toEqual([]);
  });
});

describe('RaftLog.compact (thesis §5.1)', () => {
  it('drops entries up to the snapshot index, keeping the term of the last dropped one', () => {
    const l = log(0, 0, [1, 1, 2, 2, 3, 3], 6);
    expect(l.compact(snap(4, 2), 0)).toBe(5);
    expect(held(l)).toEqual(['5/t3', '6/t3']);
    expect(l.term(4)).toBe(2);
    expect(l.term(3)).toBeUndefined();
    expect(l.snapshot.meta.index).toBe(4);
  });

  it('keeps `trailing` entries before the snapshot index for lagging followers', () => {
    const l = log(0, 0, [1, 1, 2, 2, 3, 3], 6);
    expect(l.compact(snap(5, 3), 2)).toBe(4);
    expect(held(l)).toEqual(['4/t2', '5/t3', '6/t3']);
    expect(l.term(3)).toBe(2);
    expect(l.snapshot.meta.index).toBe(5);
    expect(l.lastIndex()).toBe(6);
  });

  it('drops nothing when the trailing entries reach back past the first index', () => {
    const l = log(2, 1, [1, 2, 2], 5);
    expect(l.compact(snap(4, 2), 10)).toBe(3);
    expect(held(l)).toEqual(['3/t1', '4/t2', '5/t2']);
    expect(l.term(2)).toBe(1);
    expect(l.snapshot.meta.index).toBe(4);
  });

  it('never moves the first index backwards', () => {
    const l = log(0, 0, [1, 1, 1, 1], 4);
    l.compact(snap(3, 1), 0);
    expect(l.compact(snap(3, 1), 2)).toBe(4);
    expect(held(l)).toEqual(['4/t1']);
  });
});

describe('RaftLog.restore (§5 InstallSnapshot: discard the entire log)', () => {
  it('replaces the log by the snapshot and commits it', () => {
    const l = log(0, 0, [1, 1, 2]);
    l.append([ent(4, 2)]);
    const s = snap(10, 3);
    l.restore(s);
    expect(l.firstIndex()).toBe(11);
    expect(l.lastIndex()).toBe(10);
    expect(l.lastTerm()).toBe(3);
    expect(l.term(10)).toBe(3);
    expect(l.term(3)).toBeUndefined();
    expect(l.committed).toBe(10);
    expect(l.stable).toBe(10);
    expect(l.unstableEntries()).toEqual([]);
    expect(l.snapshot).toBe(s);
    expect(l.pendingSnapshot).toBe(s);
  });

  it('leaves the applied index for the driver to move when it has applied the snapshot', () => {
    const l = log(0, 0, [1, 1], 2);
    l.applied = 2;
    l.restore(snap(10, 3));
    expect(l.applied).toBe(2);
    expect(l.nextCommitted(1 << 20)).toEqual([]);
  });

  it('accepts the leader’s entries after the snapshot', () => {
    const l = log(0, 0, [1]);
    l.restore(snap(10, 3));
    expect(l.maybeAppend(10, 3, 11, [ent(11, 3)])).toBe(11);
    expect(l.committed).toBe(11);
  });
});
