/**
 * RaftCore's refusals: each request it cannot serve throws a RaftError with a stable code before
 * changing anything, and each message it does not act on is dropped with a reason. Every test
 * checks both the answer and that the node is exactly as it was.
 */
import { describe, expect, it } from 'vitest';

import { RaftError, type RaftErrorCode } from '../../../core/raft/errors.js';
import type { RaftCore } from '../../../core/raft/raft.js';
import type { ConfChange, Message } from '../../../core/raft/types.js';
import { bytes, RaftNetwork } from '../../support/raft-network.js';

/** Runs `fn`, which must throw a RaftError, and returns it. */
function raftError(fn: () => unknown): RaftError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RaftError) return e;
    throw e;
  }
  throw new Error('expected a RaftError, but nothing was thrown');
}

/**
 * Runs `fn` on `node`, which must refuse it with `code`, and checks that the refusal changed
 * nothing: the same status and the same (absent or pending) Ready. Returns the error's message.
 */
function expectRefused(node: RaftCore, code: RaftErrorCode, fn: () => unknown): string {
  const before = node.status();
  const hadReady = node.hasReady();
  const error = raftError(fn);
  expect(error.code).toBe(code);
  expect(node.status()).toEqual(before);
  expect(node.hasReady()).toBe(hadReady);
  return error.message;
}

/** Steps `m` into its recipient, which must drop it, and checks that nothing changed. */
function expectDropped(node: RaftCore, m: Message): string {
  const before = node.status();
  expect(node.hasReady()).toBe(false);
  const result = node.step(m);
  expect(node.status()).toEqual(before);
  expect(node.hasReady()).toBe(false);
  return result.ok ? 'OK' : result.reason;
}

/** The messages `node` has queued, taking its Ready (for a node outside the network's loop). */
function sent(node: RaftCore): Message[] {
  if (!node.hasReady()) return [];
  const rd = node.ready();
  node.advance();
  return [...rd.messages];
}

/** Three voters a, b, c with a elected (term 2: the bootstrap entries 1..3 are term 1). */
function electedCluster(): RaftNetwork {
  const net = new RaftNetwork(['a', 'b', 'c']);
  net.elect('a');
  return net;
}

describe('propose / proposeBatch', () => {
  it('a follower refuses a proposal with NOT_LEADER, naming the leader (§3.3: clients go to the leader)', () => {
    const net = electedCluster();
    const b = net.node('b');
    const message = expectRefused(b, 'NOT_LEADER', () => b.propose(bytes('x')));
    expect(message).toBe('the leader is a');
    expect(b.status()).toMatchObject({ role: 'follower', leader: 'a', term: 2, lastIndex: 4 });
  });

  it('a follower that knows no leader refuses a proposal with NOT_LEADER', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.settle();
    const b = net.node('b');
    expect(expectRefused(b, 'NOT_LEADER', () => b.proposeBatch([bytes('x')]))).toBe('no leader is known');
  });

  it('the leader refuses an empty batch with INVALID_REQUEST', () => {
    const a = electedCluster().node('a');
    expectRefused(a, 'INVALID_REQUEST', () => a.proposeBatch([]));
    expect(a.status().lastIndex).toBe(4);
  });

  it('the leader refuses proposals during a leadership transfer with TRANSFER_IN_PROGRESS (§3.10)', () => {
    const net = electedCluster();
    const a = net.node('a');
    a.transferLeader('b');
    expect(a.status().leadTransferee).toBe('b');
    expectRefused(a, 'TRANSFER_IN_PROGRESS', () => a.propose(bytes('x')));
    expectRefused(a, 'TRANSFER_IN_PROGRESS', () => a.proposeBatch([bytes('y')]));
    expectRefused(a, 'TRANSFER_IN_PROGRESS', () => a.proposeConfChange({ type: 'addLearner', nodeId: 'd' }));
    net.settle();
    expect(net.node('b').status()).toMatchObject({ role: 'leader', term: 3, lastIndex: 5 });
    expect(net.appliedData('b')).toEqual([]);
  });
});

describe('proposeConfChange (thesis §4.1 single-server changes)', () => {
  it('refuses a second change while one is not yet applied with CONF_CHANGE_PENDING', () => {
    const net = electedCluster();
    const a = net.node('a');
    expect(a.proposeConfChange({ type: 'addLearner', nodeId: 'd' })).toEqual({ index: 5, term: 2 });
    const message = expectRefused(a, 'CONF_CHANGE_PENDING', () =>
      a.proposeConfChange({ type: 'addLearner', nodeId: 'e' }),
    );
    expect(message).toBe('membership change at index 5 is not applied yet');
    net.settle();
    expect(a.status()).toMatchObject({
      lastIndex: 5,
      applied: 5,
      conf: { voters: ['a', 'b', 'c'], learners: ['d'] },
    });
    // Once the first change is applied, the next one is accepted.
    expect(a.proposeConfChange({ type: 'addLearner', nodeId: 'e' })).toEqual({ index: 6, term: 2 });
  });

  it('a new leader refuses a change until it commits an entry of its term with LEADER_NOT_READY', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.filter = (m) => m.type === 'append' && m.from === 'a';
    net.elect('a');
    const a = net.node('a');
    expect(a.status()).toMatchObject({ role: 'leader', term: 2, commit: 3, lastIndex: 4 });
    const message = expectRefused(a, 'LEADER_NOT_READY', () =>
      a.proposeConfChange({ type: 'addLearner', nodeId: 'd' }),
    );
    expect(message).toBe('the leader has not committed an entry of term 2 yet');
    // Its no-op commits once its appends get through; then the change is accepted.
    net.filter = () => false;
    net.tick(1, ['a']);
    expect(a.status().commit).toBe(4);
    expect(a.proposeConfChange({ type: 'addLearner', nodeId: 'd' })).toEqual({ index: 5, term: 2 });
  });

  it.each<[string, ConfChange, string]>([
    ['adding an existing voter', { type: 'addVoter', nodeId: 'b' }, 'b is already a voter'],
    ['removing a non-member', { type: 'removeNode', nodeId: 'z' }, 'z is not a member'],
    [
      'demoting a voter',
      { type: 'addLearner', nodeId: 'c' },
      'c is a voter; demoting a voter is not supported',
    ],
  ])('refuses %s with INVALID_CONF_CHANGE', (_what, cc, why) => {
    const net = electedCluster();
    const a = net.node('a');
    expect(expectRefused(a, 'INVALID_CONF_CHANGE', () => a.proposeConfChange(cc))).toBe(why);
    // Nothing was recorded as pending: a valid change goes through at once.
    expect(a.proposeConfChange({ type: 'addLearner', nodeId: 'd' })).toEqual({ index: 5, term: 2 });
  });

  it('refuses removing the last voter with INVALID_CONF_CHANGE', () => {
    const net = new RaftNetwork(['a']);
    net.elect('a');
    const a = net.node('a');
    const message = expectRefused(a, 'INVALID_CONF_CHANGE', () =>
      a.proposeConfChange({ type: 'removeNode', nodeId: 'a' }),
    );
    expect(message).toBe('a is the last voter');
    expect(a.status().conf).toEqual({ voters: ['a'], learners: [] });
  });

  it('a follower refuses a change with NOT_LEADER', () => {
    const net = electedCluster();
    const c = net.node('c');
    expectRefused(c, 'NOT_LEADER', () => c.proposeConfChange({ type: 'addLearner', nodeId: 'd' }));
  });
});

describe('transferLeader (thesis §3.10)', () => {
  it('refuses a learner as target with INVALID_TRANSFER_TARGET', () => {
    const net = electedCluster();
    net.addNode('d');
    const a = net.node('a');
    a.proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    net.settle();
    expect(a.status().conf.learners).toEqual(['d']);
    expect(expectRefused(a, 'INVALID_TRANSFER_TARGET', () => a.transferLeader('d'))).toBe(
      'd is a learner and cannot lead',
    );
    expect(a.status().leadTransferee).toBe('');
  });

  it('refuses an unknown node as target with INVALID_TRANSFER_TARGET', () => {
    const a = electedCluster().node('a');
    expect(expectRefused(a, 'INVALID_TRANSFER_TARGET', () => a.transferLeader('z'))).toBe(
      'z is not a member and cannot lead',
    );
  });

  it('a follower refuses a transfer with NOT_LEADER', () => {
    const b = electedCluster().node('b');
    expectRefused(b, 'NOT_LEADER', () => b.transferLeader('c'));
  });
});

describe('readIndex (thesis §6.4)', () => {
  it('a follower with no leader refuses a read with NO_LEADER', () => {
    const net = new RaftNetwork(['a', 'b', 'c']);
    net.settle();
    const b = net.node('b');
    expect(b.status()).toMatchObject({ role: 'follower', leader: '' });
    expect(expectRefused(b, 'NO_LEADER', () => b.readIndex('r1'))).toBe(
      'no leader is known to confirm the read',
    );
  });
});

describe('createSnapshot / compact (thesis §5.1)', () => {
  it('refuses a snapshot beyond the applied index with INVALID_REQUEST', () => {
    const a = electedCluster().node('a');
    expect(a.status().applied).toBe(4);
    expect(expectRefused(a, 'INVALID_REQUEST', () => a.createSnapshot(5, bytes('s')))).toBe(
      'snapshot index 5 is outside [0, applied 4]',
    );
  });

  it('refuses compacting beyond the applied index with INVALID_REQUEST', () => {
    const a = electedCluster().node('a');
    const beyond = { meta: { index: 5, term: 2, conf: a.status().conf }, data: bytes('s') };
    expect(expectRefused(a, 'INVALID_REQUEST', () => a.compact(beyond, 0))).toBe(
      'cannot compact to 5: applied is 4',
    );
  });

  it('refuses compacting to a snapshot whose term does not match the log with INVALID_REQUEST', () => {
    const a = electedCluster().node('a');
    const wrong = { meta: { index: 4, term: 1, conf: a.status().conf }, data: bytes('s') };
    expect(expectRefused(a, 'INVALID_REQUEST', () => a.compact(wrong, 0))).toBe(
      'snapshot 4/1 does not match the log',
    );
  });

  it('refuses a snapshot below the current snapshot with INVALID_REQUEST', () => {
    const a = electedCluster().node('a');
    expect(a.compact(a.createSnapshot(4, bytes('s')), 0)).toBe(5);
    expect(expectRefused(a, 'INVALID_REQUEST', () => a.createSnapshot(3, bytes('s')))).toBe(
      'snapshot index 3 is outside [4, applied 4]',
    );
    const older = { meta: { index: 3, term: 1, conf: a.status().conf }, data: bytes('s') };
    expectRefused(a, 'INVALID_REQUEST', () => a.compact(older, 0));
    expect(a.status()).toMatchObject({ firstIndex: 5, snapshotIndex: 4 });
  });
});

describe('step: messages dropped', () => {
  it('drops a message from a node that is not a member: UNKNOWN_SENDER (thesis §4.2.3)', () => {
    const b = electedCluster().node('b');
    const answer: Message = { type: 'readIndex', from: 'z', to: 'b', term: 2, context: 'r' };
    expect(expectDropped(b, answer)).toBe('UNKNOWN_SENDER');
    expect(b.status()).toMatchObject({ term: 2, vote: 'a', leader: 'a' });
  });

  it('weighs a vote request from a node outside its membership, which the lease then ignores', () => {
    const b = electedCluster().node('b');
    const vote: Message = { type: 'vote', from: 'z', to: 'b', term: 9, index: 99, logTerm: 9 };
    expect(expectDropped(b, vote)).toBe('IN_LEASE');
    expect(b.status()).toMatchObject({ term: 2, vote: 'a', leader: 'a' });
  });

  it('the leader drops an answer from a node that is not a member: UNKNOWN_SENDER', () => {
    const a = electedCluster().node('a');
    const answer: Message = { type: 'heartbeatResponse', from: 'z', to: 'a', term: 2 };
    expect(expectDropped(a, answer)).toBe('UNKNOWN_SENDER');
  });

  it('a node with an empty membership accepts an append from a leader it does not know', () => {
    const net = electedCluster();
    const d = net.addNode('d');
    expect(d.status().conf).toEqual({ voters: [], learners: [] });
    const append: Message = {
      type: 'append',
      from: 'a',
      to: 'd',
      term: 2,
      index: 0,
      logTerm: 0,
      entries: [],
      commit: 0,
    };
    expect(d.step(append)).toEqual({ ok: true });
    expect(d.status()).toMatchObject({ role: 'follower', term: 2, leader: 'a' });
    expect(sent(d)).toEqual([
      {
        type: 'appendResponse',
        from: 'd',
        to: 'a',
        term: 2,
        index: 0,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      },
    ]);
  });

  it('drops a message addressed to another node: WRONG_RECIPIENT', () => {
    const b = electedCluster().node('b');
    const heartbeat: Message = { type: 'heartbeat', from: 'a', to: 'c', term: 3, commit: 4 };
    expect(expectDropped(b, heartbeat)).toBe('WRONG_RECIPIENT');
  });

  it('drops a message that claims to come from the node itself: WRONG_RECIPIENT', () => {
    const b = electedCluster().node('b');
    const heartbeat: Message = { type: 'heartbeat', from: 'b', to: 'b', term: 3, commit: 4 };
    expect(expectDropped(b, heartbeat)).toBe('WRONG_RECIPIENT');
  });

  it('drops a message of an older term: STALE_TERM (§3.3)', () => {
    const c = electedCluster().node('c');
    const vote: Message = { type: 'vote', from: 'b', to: 'c', term: 1, index: 9, logTerm: 1 };
    expect(expectDropped(c, vote)).toBe('STALE_TERM');
  });

  it('answers a stale append with an appendResponse carrying its higher term (§3.3)', () => {
    const c = electedCluster().node('c');
    const before = c.status();
    const append: Message = {
      type: 'append',
      from: 'b',
      to: 'c',
      term: 1,
      index: 4,
      logTerm: 1,
      entries: [{ index: 5, term: 1, type: 'normal', data: bytes('stale') }],
      commit: 5,
    };
    expect(c.step(append)).toEqual({ ok: false, reason: 'STALE_TERM' });
    expect(c.status()).toEqual(before);
    expect(sent(c)).toEqual([
      {
        type: 'appendResponse',
        from: 'c',
        to: 'b',
        term: 2,
        index: 0,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      },
    ]);
  });

  it('answers a stale pre-vote with a rejection in its higher term', () => {
    // After a transfer to b, c is in term 3: a pre-vote for term 2 is stale.
    const net = electedCluster();
    net.node('a').transferLeader('b');
    net.settle();
    const c = net.node('c');
    expect(c.status()).toMatchObject({ role: 'follower', term: 3, leader: 'b' });
    const before = c.status();
    const preVote: Message = { type: 'preVote', from: 'a', to: 'c', term: 2, index: 9, logTerm: 2 };
    expect(c.step(preVote)).toEqual({ ok: false, reason: 'STALE_TERM' });
    expect(c.status()).toEqual(before);
    expect(sent(c)).toEqual([{ type: 'preVoteResponse', from: 'c', to: 'a', term: 3, reject: true }]);
  });

  it('a stale leader steps down on the answer to its heartbeat (§3.3, thesis §6.2)', () => {
    const net = electedCluster();
    net.isolate('a');
    for (let i = 0; i < 100 && net.node('c').status().role !== 'leader'; i++) net.tick(1, ['b', 'c']);
    expect(net.node('c').status()).toMatchObject({ role: 'leader', term: 3 });
    expect(net.node('a').status()).toMatchObject({ role: 'leader', term: 2 });
    net.heal();
    const start = net.trace.length;
    net.tick(1, ['a']);
    expect(net.trace.slice(start)).toEqual([
      'a->b heartbeat t2 c4',
      'a->c heartbeat t2 c4',
      'b->a appendResponse t3 i0',
      'c->a appendResponse t3 i0',
    ]);
    expect(net.node('a').status()).toMatchObject({ role: 'follower', term: 3, leader: '', lastIndex: 4 });
  });
});
