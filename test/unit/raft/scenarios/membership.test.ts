/**
 * Membership scenarios (thesis §4.1–§4.2): learners, snapshots for newcomers, removing the leader.
 * Clusters start from bootstrap entries 1..3 (term 1); the first leader's no-op is index 4 of term 2.
 */
import { describe, expect, it } from 'vitest';
import { RaftNetwork, bytes } from '../../../support/raft-network.js';

describe('removing the leader', () => {
  it('steps the leader down once its removal applies; the others elect a leader and it stays quiet', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    const { index } = net.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'a' });
    expect(index).toBe(5);
    net.settle();
    expect(net.node('a').status()).toMatchObject({ role: 'follower', leader: '', term: 2, applied: 5 });
    expect(net.node('a').status().conf).toEqual({ voters: ['b', 'c'], learners: [] });
    const next = net.electAmong(['a', 'b', 'c']);
    expect(['b', 'c']).toContain(next.id);
    expect(next.status()).toMatchObject({ term: 3, conf: { voters: ['b', 'c'], learners: [] } });
    // The removed node never campaigns, and its answers are dropped as from an unknown sender.
    net.trace.length = 0;
    net.tick(60, ['a']);
    expect(net.trace).toEqual([]);
    const result = next.step({ type: 'heartbeatResponse', from: 'a', to: next.id, term: 3 });
    expect(result).toEqual({ ok: false, reason: 'UNKNOWN_SENDER' });
    next.propose(bytes('after'));
    net.settle();
    expect(net.appliedData(next.id)).toEqual(['after']);
  });
});

describe('adding a learner that needs a snapshot', () => {
  it('sends the snapshot in chunks, then the log; the learner is promoted once caught up', () => {
    const net = new RaftNetwork(['a', 'b', 'c'], { snapshotChunkBytes: 16, snapshotWindow: 2 });
    net.elect('a');
    for (let i = 0; i < 10; i++) net.node('a').propose(bytes(`v${i}`));
    net.settle();
    const a = net.node('a');
    const data = bytes(JSON.stringify(net.appliedData('a'))); // the "state machine": 51 bytes
    const snapshot = a.createSnapshot(a.status().applied, data);
    expect(snapshot.meta).toEqual({ index: 14, term: 2, conf: { voters: ['a', 'b', 'c'], learners: [] } });
    expect(a.compact(snapshot, 0)).toBe(15);

    net.addNode('d');
    a.proposeConfChange({ type: 'addLearner', nodeId: 'd', context: 'd.example:8441' });
    net.trace.length = 0;
    net.settle();
    const chunks = net.trace.filter((l) => l.startsWith('a->d snapshot'));
    expect(chunks).toEqual([
      `a->d snapshot t2 snap 14/t2 0+16/${data.length}`,
      `a->d snapshot t2 snap 14/t2 16+16/${data.length}`,
      `a->d snapshot t2 snap 14/t2 32+16/${data.length}`,
      `a->d snapshot t2 snap 14/t2 48+3/${data.length}`,
    ]);
    const d = net.node('d');
    expect(net.stored.get('d')?.snapshot?.data).toEqual(data);
    expect(d.status()).toMatchObject({
      role: 'follower',
      leader: 'a',
      commit: 15,
      applied: 15,
      conf: { voters: ['a', 'b', 'c'], learners: ['d'], context: { d: 'd.example:8441' } },
    });
    expect(a.status().progress.d).toMatchObject({ match: 15, state: 'replicate', learner: true });

    // A learner answers vote requests but never campaigns itself.
    net.trace.length = 0;
    net.tick(40, ['d']);
    expect(net.trace).toEqual([]);

    a.proposeConfChange({ type: 'addVoter', nodeId: 'd' });
    net.settle();
    expect(d.status().conf).toMatchObject({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    a.transferLeader('d');
    net.settle();
    expect(d.status()).toMatchObject({ role: 'leader', term: 3 });
  });

  it('keeps the membership in snapshots, so a restarted node knows it without its log', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.addNode('d');
    net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    net.settle();
    const b = net.node('b');
    const snapshot = b.createSnapshot(b.status().applied, new Uint8Array());
    expect(snapshot.meta.conf).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    net.stored.get('b')!.snapshot = snapshot;
    net.stored.get('b')!.entries = [];
    net.stop('b');
    expect(net.start('b').status().conf).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
  });
});

describe('a slow follower after compaction', () => {
  function laggingFollower(trailing: number): RaftNetwork {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.elect('a');
    net.isolate('c');
    for (let i = 0; i < 20; i++) net.node('a').propose(bytes(`v${i}`));
    net.settle();
    const a = net.node('a');
    a.compact(a.createSnapshot(24, bytes('state at 24')), trailing);
    net.heal();
    net.trace.length = 0;
    return net;
  }

  it('catches up by snapshot when the entries it needs are gone', () => {
    const net = laggingFollower(5);
    net.tick(1, ['a']);
    expect(net.trace).toContain('a->c snapshot t2 snap 24/t2 0+11/11');
    expect(net.node('c').status()).toMatchObject({
      commit: 24,
      applied: 24,
      snapshotIndex: 24,
      lastIndex: 24,
    });
    expect(net.node('a').status().progress.c).toMatchObject({ match: 24, state: 'replicate' });
  });

  it('catches up from the trailing entries when they reach back far enough', () => {
    const net = laggingFollower(20);
    net.tick(1, ['a']);
    expect(net.trace.some((l) => l.includes('snapshot'))).toBe(false);
    expect(net.node('c').status()).toMatchObject({ commit: 24, applied: 24, snapshotIndex: 0 });
    expect(net.appliedData('c')).toHaveLength(20);
  });
});

describe('check-quorum right after a member is added', () => {
  it('counts a new member as active for one round, then steps down if it never answers', () => {
    const net = new RaftNetwork(['a'], { checkQuorum: true });
    net.elect('a');
    net.addNode('b');
    net.isolate('b');
    net.node('a').proposeConfChange({ type: 'addVoter', nodeId: 'b', context: 'b:8441' });
    net.settle();
    expect(net.node('a').status().conf.voters).toEqual(['a', 'b']);
    // The first round after the change: b has had no chance to answer yet, a keeps leading.
    net.tick(10, ['a']);
    expect(net.node('a').status().role).toBe('leader');
    // A whole round in which b stayed silent: a has lost its quorum and steps down.
    net.tick(10, ['a']);
    expect(net.node('a').status()).toMatchObject({ role: 'follower', leader: '' });
  });
});
