/**
 * A peer that completed the handshake and then sends garbage: every bad frame or message is
 * counted and dropped, nothing bad reaches Raft, and the transport keeps working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawPeer, closeAll, heartbeat, startMesh, type TestNode } from '../../support/transport-nodes.js';
import { waitFor } from '../../support/wait.js';

/** msgpack of { type: 99, nsp: '/raft' }: decodes, but is no socket.io packet type. */
const NOT_A_PACKET = Buffer.concat([
  Buffer.of(0x82, 0xa4),
  Buffer.from('type'),
  Buffer.of(0x63, 0xa3),
  Buffer.from('nsp'),
  Buffer.of(0xa5),
  Buffer.from('/raft'),
]);

let nodes: TestNode[] = [];
let raw: RawPeer | undefined;
afterEach(async () => {
  raw?.close();
  raw = undefined;
  await closeAll(nodes);
  nodes = [];
});

describe('malformed input from an authenticated peer', () => {
  it('is counted and dropped, never delivered, and the transport keeps working', async () => {
    nodes = await startMesh(['n1', 'n3']);
    const [a, c] = nodes as [TestNode, TestNode];
    raw = await RawPeer.certified('n2', a);
    await raw.waitConnected();
    const good = heartbeat('n2', 'n1', 1);
    const cases: [string, () => void, number][] = [
      ['bytes that are not msgpack', () => raw?.sendRawBytes(Uint8Array.of(0xc1, 0xc1, 0xc1)), 1],
      ['msgpack that is not a socket.io packet', () => raw?.sendRawBytes(NOT_A_PACKET), 1],
      ['a frame that is not an array', () => raw?.socket.emit('raft', 'hello'), 1],
      ['an unknown message type', () => raw?.socket.emit('raft', [{ ...good, type: 'bogus' }]), 1],
      ['a number as a string', () => raw?.socket.emit('raft', [{ ...good, commit: '5' }]), 1],
      ['a negative term', () => raw?.socket.emit('raft', [{ ...good, term: -1 }]), 1],
      ['a fractional index', () => raw?.socket.emit('raft', [{ ...good, commit: 1.5 }]), 1],
      [
        'an entry whose data is a string',
        () =>
          raw?.socket.emit('raft', [
            {
              type: 'append',
              from: 'n2',
              to: 'n1',
              term: 1,
              index: 0,
              logTerm: 0,
              commit: 0,
              entries: [{ term: 1, index: 1, type: 'normal', data: 'not bytes' }],
            },
          ]),
        1,
      ],
      ['a message forged as from n3', () => raw?.socket.emit('raft', [heartbeat('n3', 'n1', 1)]), 1],
      ['a message for another node', () => raw?.socket.emit('raft', [heartbeat('n2', 'n9', 1)]), 1],
      ['an unknown event', () => raw?.socket.emit('gossip', { hello: 1 }), 1],
      ['null', () => raw?.socket.emit('raft', [null]), 1],
    ];
    let expected = 0;
    for (const [what, send, count] of cases) {
      send();
      expected += count;
      await waitFor(() => a.transport.stats().malformed === expected, `${what} to be counted as malformed`);
    }
    expect(a.received).toEqual([]);

    // A frame mixing good and bad messages: the good ones go through.
    raw.socket.emit('raft', [good, { ...good, type: 'bogus' }, heartbeat('n2', 'n1', 2)]);
    await waitFor(() => a.received.length === 2, 'the valid messages of a mixed frame');
    expect(a.received).toEqual([good, heartbeat('n2', 'n1', 2)]);
    expect(a.transport.stats().malformed).toBe(expected + 1);

    // The same connection and the real peers still work.
    expect(raw.disconnected).toBe(false);
    c.transport.send([heartbeat('n3', 'n1', 3)]);
    a.transport.send([heartbeat('n1', 'n3', 4)]);
    await waitFor(() => a.received.length === 3 && c.received.length === 1, 'traffic between real peers');
    expect(a.logs.some((l) => l.message === 'dropped malformed raft messages')).toBe(true);
    expect(a.logs.some((l) => l.message === 'dropped a frame that does not decode')).toBe(true);
  });

  it('strips fields Raft does not know and copies bytes into plain Uint8Arrays', async () => {
    nodes = await startMesh(['n1']);
    const [a] = nodes as [TestNode];
    raw = await RawPeer.certified('n2', a);
    await raw.waitConnected();
    raw.socket.emit('raft', [
      { ...heartbeat('n2', 'n1', 1), extra: 'ignored' },
      {
        type: 'snapshot',
        from: 'n2',
        to: 'n1',
        term: 1,
        meta: { index: 3, term: 1, conf: { voters: ['n1', 'n2'], learners: [] } },
        offset: 0,
        total: 3,
        data: Buffer.from([1, 2, 3]),
      },
    ]);
    await waitFor(() => a.received.length === 2, 'both messages');
    expect(a.received[0]).toEqual(heartbeat('n2', 'n1', 1));
    expect(a.received[0]).not.toHaveProperty('extra');
    const snapshot = a.received[1];
    expect(snapshot?.type === 'snapshot' && Object.getPrototypeOf(snapshot.data)).toBe(Uint8Array.prototype);
  });
});
