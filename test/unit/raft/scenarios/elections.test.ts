/**
 * Election scenarios: the vote restriction, pre-vote, check-quorum and an old leader returning.
 * Every cluster starts from its bootstrap entries (indexes 1..3, term 1), so the first leader
 * leads term 2 and its no-op is index 4.
 */
import { describe, expect, it } from 'vitest';
import { RaftNetwork, bytes } from '../../../support/raft-network.js';

describe('a vote goes only to a candidate whose log is at least as up-to-date (§5.4.1)', () => {
  // Plain elections (no pre-vote, no lease) so the vote requests themselves are on the wire.
  const plain = { preVote: false, checkQuorum: false };

  it('refuses a candidate with a shorter log', () => {
    const net = new RaftNetwork(['a', 'b', 'c'], plain);
    net.elect('a');
    net.isolate('c');
    net.node('a').propose(bytes('x')); // index 5 on a and b only
    net.settle();
    net.stop('a');
    net.heal();
    net.trace.length = 0;
    net.node('c').tick(); // keep c's clock moving until it campaigns
    for (let i = 0; i < 100 && net.node('c').status().role === 'follower'; i++) net.tick(1, ['c']);
    expect(net.trace).toEqual(['c->b vote t3 last 4/t2', 'b->c voteResponse t3 reject']);
    expect(net.node('c').status()).toMatchObject({ role: 'candidate', term: 3 });
    expect(net.node('b').status()).toMatchObject({ term: 3, vote: '' });
    net.elect('b');
    expect(net.node('b').status()).toMatchObject({ role: 'leader', term: 4 });
    expect(net.appliedData('c')).toEqual(['x']);
  });

  it('refuses a candidate whose longer log ends in an older term', () => {
    const net = new RaftNetwork(['a', 'b', 'c'], plain);
    net.elect('a');
    net.isolate('a');
    for (let i = 0; i < 3; i++) net.node('a').propose(bytes(`stale${i}`)); // a: up to 7, term 2
    net.settle();
    net.elect('b'); // term 3, b and c: up to 5, the last of term 3
    expect(net.node('b').status()).toMatchObject({ term: 3, lastIndex: 5 });
    net.stop('b');
    net.stop('a'); // a crashes and restarts as a follower of term 2
    net.start('a');
    net.heal();
    net.trace.length = 0;
    // In term 3 c has voted already; from term 4 on its vote is free, so only the logs decide.
    for (let i = 0; i < 100 && net.node('a').status().term < 4; i++) net.tick(1, ['a']);
    // a's log (7/t2) is longer but older than c's (5/t3): c refuses.
    expect(net.trace).toContain('a->c vote t4 last 7/t2');
    expect(net.trace).toContain('c->a voteResponse t4 reject');
    expect(net.node('a').status().role).not.toBe('leader');
  });
});

describe('pre-vote (thesis §9.6)', () => {
  it('keeps a partitioned node from inflating its term and disrupting the leader when it returns', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.isolate('c');
    net.tick(50, ['a', 'b', 'c']); // c times out again and again, alone
    expect(net.node('c').status()).toMatchObject({ term: 2, role: 'preCandidate' });
    net.node('a').propose(bytes('x'));
    net.heal();
    net.tick(30, ['a', 'b', 'c']);
    expect(net.node('a').status()).toMatchObject({ role: 'leader', term: 2 });
    expect(net.node('c').status()).toMatchObject({ role: 'follower', leader: 'a', term: 2 });
    expect(net.appliedData('c')).toEqual(['x']);
  });

  it('without it, the returning node forces an election (the disruption pre-vote prevents)', () => {
    const net = new RaftNetwork(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    net.elect('a');
    net.isolate('c');
    net.tick(50, ['c']);
    const inflated = net.node('c').status().term;
    expect(inflated).toBeGreaterThan(3);
    net.heal();
    net.tick(20, ['c']); // c campaigns again, with a term higher than the leader's
    expect(net.node('a').status().role).toBe('follower');
    expect(net.node('a').status().term).toBeGreaterThan(inflated);
  });
});

describe('check-quorum (thesis §6.2)', () => {
  it('keeps the leader while a flapping node comes and goes, and ignores its vote requests', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    const drops: string[] = [];
    for (let round = 0; round < 10; round++) {
      net.cutLink('a', 'c');
      net.tick(25, ['a', 'b', 'c']); // long enough for c to campaign: b is in a's lease
      net.heal();
      net.tick(3, ['a', 'b', 'c']);
    }
    for (const line of net.trace) if (line.startsWith('c->b preVote')) drops.push(line);
    expect(drops.length).toBeGreaterThan(0);
    expect(net.trace.some((l) => l.startsWith('b->c preVoteResponse') && l.endsWith('granted'))).toBe(false);
    expect(net.node('a').status()).toMatchObject({ role: 'leader', term: 2 });
  });

  it('makes a leader that lost its quorum step down within an election timeout', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.isolate('a');
    net.tick(10, ['a']);
    expect(net.node('a').status()).toMatchObject({ role: 'leader', term: 2 }); // first check: heard from all
    net.tick(10, ['a']);
    expect(net.node('a').status()).toMatchObject({ role: 'follower', leader: '', term: 2 });
    expect(() => net.node('a').propose(bytes('x'))).toThrow(/no leader is known/);
  });
});

describe('an old leader partitioned away and coming back', () => {
  it('loses its uncommitted entries to the new leader and follows it', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.isolate('a');
    const lost = net.node('a').propose(bytes('lost'));
    expect(lost).toEqual({ index: 5, term: 2 });
    net.settle();
    const b = net.electAmong(['b', 'c']);
    expect(b.status()).toMatchObject({ term: 3, lastIndex: 5 });
    b.propose(bytes('kept'));
    net.settle();
    net.heal();
    net.tick(1, [b.id]);
    expect(net.node('a').status()).toMatchObject({ role: 'follower', term: 3, leader: b.id, commit: 6 });
    // The driver learns the proposal was lost: index 5 now holds an entry of another term.
    const atFive = net.applied.get('a')?.find((e) => e.index === 5);
    expect(atFive?.term).toBe(3);
    expect(net.appliedData('a')).toEqual(['kept']);
  });
});
