/**
 * The Figure 8 case (Raft paper §5.4.2, thesis Figure 3.7): a leader must not commit an entry of
 * an earlier term by counting replicas, because a later leader may still overwrite it.
 * The paper's script needs no pre-vote or check-quorum; both are off so the elections are plain.
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

/** Figure 8 (a)–(c): s1 leads term 3 with s1..s3 holding index 2 of term 1, index 3 only on s1. */
function figure8UpToC(): RaftNetwork {
  const net = network();
  net.elect('s1'); // (a) s1 leads term 1; its no-op (index 1) commits everywhere.
  expect(net.node('s1').status()).toMatchObject({ term: 1, commit: 1 });

  net.isolate('s1');
  net.heal();
  for (const id of ['s3', 's4', 's5']) net.cutLink('s1', id);
  net.node('s1').propose(bytes('x')); // index 2, term 1: reaches s2 only
  net.settle();
  expect(entryTerm(net, 's2', 2)).toBe(1);

  // (b) s1 crashes; s5 leads term 2 with the votes of s3 and s4. Its no-op (index 2, term 2)
  // stays on s5.
  net.stop('s1');
  net.heal();
  net.cutLink('s5', 's2');
  net.filter = (m) => m.from === 's5' && m.type === 'append' && m.entries.length > 0;
  net.elect('s5');
  expect(net.node('s5').status()).toMatchObject({ role: 'leader', term: 2, lastIndex: 2 });

  // (c) s1 comes back and leads term 3 (s2, s3, s4 vote: its log ends 2/t1). Index 2 of term 1
  // reaches s3, a majority with s1 and s2, but index 3 (s1's no-op of term 3) reaches nobody.
  net.stop('s5');
  net.heal();
  net.start('s1');
  // Followers missing index 2 get it after a rejection; index 3 never reaches anyone.
  net.filter = (m) =>
    m.type === 'append' && m.entries.some((e) => e.index === 3) && entryTerm(net, m.to, 2) === 1;
  net.elect('s1');
  expect(net.node('s1').status()).toMatchObject({ role: 'leader', term: 3, lastIndex: 3 });
  expect(ids.map((id) => entryTerm(net, id, 2))).toEqual([1, 1, 1, 1, 2]);
  return net;
}

describe('Figure 8: commit only by counting entries of the current term (§5.4.2)', () => {
  it('does not commit an old-term entry that a majority holds', () => {
    const net = figure8UpToC();
    // A majority (s1..s4) holds index 2 of term 1, yet nothing past index 1 is committed.
    expect(net.node('s1').status().commit).toBe(1);
    for (const id of ids) expect(net.appliedData(id)).toEqual([]);
  });

  it('lets a later leader overwrite that entry, so committing it would have lost it (d)', () => {
    const net = figure8UpToC();
    net.filter = () => false;
    net.stop('s1');
    net.start('s5');
    // s5's log ends 2/t2, more up to date than 2/t1: s2, s3, s4 elect it for term 4.
    net.elect('s5');
    expect(net.node('s5').status()).toMatchObject({ role: 'leader', term: 4 });
    net.node('s5').propose(bytes('y'));
    net.settle();
    for (const id of ['s2', 's3', 's4', 's5']) {
      expect(entryTerm(net, id, 2)).toBe(2);
      expect(net.appliedData(id)).toEqual(['y']);
    }
  });

  it('commits the old entry together with one of the current term (e)', () => {
    const net = figure8UpToC();
    net.filter = () => false;
    net.tick(1, ['s1']); // the heartbeat round resends index 3
    expect(net.node('s1').status().commit).toBe(3);
    expect(net.appliedData('s1')).toEqual(['x']);
    for (const id of ['s2', 's3', 's4']) expect(net.appliedData(id)).toEqual(['x']);
  });
});
