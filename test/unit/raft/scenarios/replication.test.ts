/**
 * Replication scenarios: a lagging commit index, transfer to a lagging node, lost proposals, ReadIndex.
 * Clusters start from bootstrap entries 1..3 (term 1); the first leader's no-op is index 4 of term 2.
 */
import { describe, expect, it } from 'vitest';
import { RaftError } from '../../../../core/raft/errors.js';
import { RaftNetwork, bytes } from '../../../support/raft-network.js';

describe('a lagging commit index', () => {
  it('reaches a follower through the next heartbeat when the append that carried it was lost', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    // c gets the entry but not the append that announces its commitment.
    let seen = false;
    net.filter = (m) => {
      if (m.type !== 'append' || m.to !== 'c') return false;
      if (m.entries.length > 0) return (seen = false);
      seen = true;
      return true;
    };
    net.node('a').propose(bytes('x'));
    net.settle();
    expect(seen).toBe(true);
    expect(net.node('a').status().commit).toBe(5);
    expect(net.node('c').status()).toMatchObject({ lastIndex: 5, commit: 4 });
    net.filter = () => false;
    net.trace.length = 0;
    net.tick(1, ['a']);
    expect(net.trace).toContain('a->c heartbeat t2 c5');
    expect(net.node('c').status().commit).toBe(5);
    expect(net.appliedData('c')).toEqual(['x']);
  });

  it('never tells a follower to commit past what it holds', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.filter = (m) => m.type === 'append' && m.to === 'c';
    net.node('a').propose(bytes('x'));
    net.settle();
    net.trace.length = 0;
    net.tick(1, ['a']);
    expect(net.trace).toContain('a->c heartbeat t2 c4');
    expect(net.node('c').status()).toMatchObject({ lastIndex: 4, commit: 4 });
  });
});

describe('leadership transfer to a lagging node (thesis §3.10)', () => {
  it('catches the target up first, refuses proposals meanwhile, then sends TimeoutNow', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.isolate('c');
    net.node('a').propose(bytes('x'));
    net.settle();
    net.heal();
    net.trace.length = 0;
    const a = net.node('a');
    a.transferLeader('c');
    expect(() => a.propose(bytes('y'))).toThrow(expect.objectContaining({ code: 'TRANSFER_IN_PROGRESS' }));
    net.settle();
    expect(net.trace).toEqual([
      'a->c append t2 i5/t2 [] c5',
      'c->a appendResponse t2 i5 reject hint 4/t2',
      'a->c append t2 i4/t2 [5/t2] c5',
      'c->a appendResponse t2 i5',
      'a->c timeoutNow t2',
      'c->a vote t3 last 5/t2 transfer',
      'c->b vote t3 last 5/t2 transfer',
      'a->c voteResponse t3 granted',
      'b->c voteResponse t3 granted',
      'c->a append t3 i5/t2 [6/t3] c5',
      'c->b append t3 i5/t2 [6/t3] c5',
      'a->c appendResponse t3 i6',
      'b->c appendResponse t3 i6',
      'c->a append t3 i6/t3 [] c6',
      'c->b append t3 i6/t3 [] c6',
      'a->c appendResponse t3 i6',
      'b->c appendResponse t3 i6',
    ]);
    expect(net.node('c').status()).toMatchObject({ role: 'leader', term: 3 });
    expect(a.status()).toMatchObject({ role: 'follower', leader: 'c', term: 3 });
  });

  it('gives up after an election timeout when the target never catches up', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.isolate('c');
    const a = net.node('a');
    a.transferLeader('c');
    expect(a.status().leadTransferee).toBe('c');
    net.tick(10, ['a', 'b']);
    expect(a.status()).toMatchObject({ role: 'leader', leadTransferee: '' });
    expect(a.propose(bytes('y')).index).toBe(5);
  });

  it('refuses a learner as target', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.addNode('d');
    net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    net.settle();
    expect(() => net.node('a').transferLeader('d')).toThrow(RaftError);
    expect(() => net.node('a').transferLeader('d')).toThrow('d is a learner and cannot lead');
  });
});

describe('proposals dropped during an election', () => {
  it('are refused while there is no leader, and overwritten when their leader lost its term', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.isolate('a');
    const lost = net.node('a').propose(bytes('lost'));
    net.settle();
    // b and c hold an election; until one wins, both refuse proposals.
    net.tick(12, ['b', 'c']);
    const waiting = ['b', 'c'].map((id) => net.node(id)).filter((n) => n.status().role !== 'leader');
    for (const n of waiting)
      expect(() => n.propose(bytes('z'))).toThrow(expect.objectContaining({ code: 'NOT_LEADER' }));
    const leader = net.electAmong(['b', 'c']);
    net.heal();
    net.tick(1, [leader.id]);
    const applied = net.applied.get('a')?.find((e) => e.index === lost.index);
    expect(applied).toMatchObject({ index: 5, term: 3 }); // not the term it was proposed in: lost
    expect(net.appliedData('a')).toEqual([]);
  });
});

describe('ReadIndex (thesis §6.4)', () => {
  it('answers on the leader after a heartbeat quorum, at the commit index', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.node('a').propose(bytes('x'));
    net.settle();
    net.trace.length = 0;
    net.node('a').readIndex('r1');
    net.settle();
    expect(net.trace.slice(0, 4)).toEqual([
      'a->b heartbeat t2 c5 ctx r1',
      'a->c heartbeat t2 c5 ctx r1',
      'b->a heartbeatResponse t2 ctx r1',
      'c->a heartbeatResponse t2 ctx r1',
    ]);
    expect(net.readStates.get('a')).toEqual([{ index: 5, context: 'r1' }]);
  });

  it('serves a follower through the leader', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.node('b').readIndex('r1');
    net.settle();
    expect(net.trace).toContain('b->a readIndex t2 ctx r1');
    expect(net.trace).toContain('a->b readIndexResponse t2 ctx r1 i4');
    expect(net.readStates.get('b')).toEqual([{ index: 4, context: 'r1' }]);
  });

  it('waits until a new leader has committed an entry of its term', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.stop('a');
    net.filter = (m) => m.type === 'append' && m.entries.length > 0; // the no-op cannot commit
    const leader = net.electAmong(['b', 'c']);
    expect(leader.status()).toMatchObject({ term: 3, commit: 4, lastIndex: 5 });
    leader.readIndex('r1');
    net.settle();
    expect(net.readStates.get(leader.id)).toEqual([]);
    net.filter = () => false;
    net.tick(1, [leader.id]);
    expect(net.readStates.get(leader.id)).toEqual([{ index: 5, context: 'r1' }]);
  });

  it('across a leader change: the old request dies with the old leader and the retry sees newer writes', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.cutLink('a', 'c');
    net.filter = (m) => m.type === 'heartbeatResponse' && m.to === 'a';
    net.node('b').readIndex('r1'); // reaches a, which cannot confirm its leadership
    net.settle();
    expect(net.readStates.get('b')).toEqual([]);
    net.filter = () => false;
    net.isolate('a');
    const leader = net.electAmong(['b', 'c']);
    leader.propose(bytes('w'));
    net.settle();
    const written = leader.status().commit;
    net.node('b').readIndex('r2');
    net.settle();
    net.heal();
    net.tick(2, ['a', leader.id]);
    // a learned the new term and dropped r1: only the retry is answered, and it sees the write.
    expect(net.node('a').status().role).toBe('follower');
    expect(net.readStates.get('b')).toEqual([{ index: written, context: 'r2' }]);
    // A late answer from the old term cannot be taken for the retry.
    const stale = net
      .node('b')
      .step({ type: 'readIndexResponse', from: 'a', to: 'b', term: 2, context: 'r2', index: 4 });
    expect(stale).toEqual({ ok: false, reason: 'STALE_TERM' });
  });
});
