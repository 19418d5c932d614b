/**
 * The Figure 8 case (Raft paper §5.4.2, thesis Figure 3.7): a leader must not commit an entry of
 * an earlier term by counting replicas, because a later leader may still overwrite it.
 * The paper's script needs no pre-vote or check-quorum; both are off so the elections are plain.
 * The bootstrap entries take indexes 1..5 (term 1), so the paper's index 1 is our 6, and its
 * terms 1, 2, 3, 4 are our 2, 3, 4, 5.
 */
import { describe, expect, it } from 'vitest';
import { RaftNetwork, bytes } from '../../../support/raft-network.js';

const ids = ['s1', 's2', 's3', 's4', 's5'];

/** One entry per append, so that a test can drop exactly the message that carries one index. */
function network(): RaftNetwork {
  return new RaftNetwork([...ids], { preVote: false, checkQuorum: false, maxMessageBytes: 1 });
}

function entryTerm(net: RaftNetwork, id: string, index: number): number | undefined {
  return net.stored.get(id)?.entries.find((e) => e.index === index)?.term;
}

/** Figure 8 (a)–(c): s1 leads term 4 with s1..s4 holding index 7 of term 2, index 8 only on s1. */
function figure8UpToC(): RaftNetwork {
  const net = network();
  net.elect('s1'); // (a) s1 leads term 2; its no-op (index 6) commits everywhere.
  expect(net.node('s1').status()).toMatchObject({ term: 2, commit: 6 });

  net.isolate('s1');
  net.heal();
  for (const id of ['s3', 's4', 's5']) net.cutLink('s1', id);
  net.node('s1').propose(bytes('x')); // index 7, term 2: reaches s2 only
  net.settle();
  expect(entryTerm(net, 's2', 7)).toBe(2);

  // (b) s1 crashes; s5 leads term 3 with the votes of s3 and s4. Its no-op (index 7, term 3)
  // stays on s5.
  net.stop('s1');
  net.heal();
  net.cutLink('s5', 's2');
  net.filter = (m) => m.from === 's5' && m.type === 'append' && m.entries.length > 0;
  net.elect('s5');
  expect(net.node('s5').status()).toMatchObject({ role: 'leader', term: 3, lastIndex: 7 });

  // (c) s1 comes back and leads term 4 (s2, s3, s4 vote: its log ends 7/t2). Index 7 of term 2
  // reaches s3 and s4, a majority with s1 and s2, but index 8 (s1's no-op of term 4) reaches nobody.
  net.stop('s5');
  net.heal();
  net.start('s1');
  // Followers missing index 7 get it after a rejection; index 8 never reaches anyone.
  net.filter = (m) =>
    m.type === 'append' && m.entries.some((e) => e.index === 8) && entryTerm(net, m.to, 7) === 2;
  net.elect('s1');
  expect(net.node('s1').status()).toMatchObject({ role: 'leader', term: 4, lastIndex: 8 });
  expect(ids.map((id) => entryTerm(net, id, 7))).toEqual([2, 2, 2, 2, 3]);
  return net;
}

describe('Figure 8: commit only by counting entries of the current term (§5.4.2)', () => {
  it('does not commit an old-term entry that a majority holds', () => {
    const net = figure8UpToC();
    // A majority (s1..s4) holds index 7 of term 2, yet nothing past index 6 is committed.
    expect(net.node('s1').status().commit).toBe(6);
    for (const id of ids) expect(net.appliedData(id)).toEqual([]);
  });

  it('lets a later leader overwrite that entry, so committing it would have lost it (d)', () => {
    const net = figure8UpToC();
    net.filter = () => false;
    net.stop('s1');
    net.start('s5');
    // s5's log ends 7/t3, more up to date than 7/t2: s2, s3, s4 elect it for term 5.
    net.elect('s5');
    expect(net.node('s5').status()).toMatchObject({ role: 'leader', term: 5 });
    net.node('s5').propose(bytes('y'));
    net.settle();
    for (const id of ['s2', 's3', 's4', 's5']) {
      expect(entryTerm(net, id, 7)).toBe(3);
      expect(net.appliedData(id)).toEqual(['y']);
    }
  });

  it('commits the old entry together with one of the current term (e)', () => {
    const net = figure8UpToC();
    net.filter = () => false;
    net.tick(1, ['s1']); // the heartbeat round resends index 8
    expect(net.node('s1').status().commit).toBe(8);
    expect(net.appliedData('s1')).toEqual(['x']);
    for (const id of ['s2', 's3', 's4']) expect(net.appliedData(id)).toEqual(['x']);
  });
});
