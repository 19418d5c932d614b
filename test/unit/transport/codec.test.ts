/**
 * The wire codec without sockets: frames through the real msgpack parser, the schemas' verdicts,
 * and the back-off.
 */
import msgpackParser from 'socket.io-msgpack-parser';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../core/raft/types.js';
import { Backoff } from '../../../core/transport/backoff.js';
import {
  decodeFrame,
  encodeFrame,
  estimateMessageBytes,
  fromWireValue,
  toWireValue,
} from '../../../core/transport/codec.js';
import { everyMessage, firstAppend, heartbeat } from '../../support/transport-nodes.js';

/** Encodes a frame as a socket.io event packet and decodes it again, as the two ends would. */
function overTheWire(data: unknown): unknown {
  const [bytes] = new msgpackParser.Encoder().encode({
    type: 2,
    nsp: '/raft',
    data: ['raft', data],
  }) as unknown as [Buffer];
  let decoded: { data: [string, unknown] } | undefined;
  const decoder = new msgpackParser.Decoder();
  decoder.on('decoded', (packet: { data: [string, unknown] }) => (decoded = packet));
  decoder.add(bytes);
  return decoded?.data[1];
}

describe('codec', () => {
  it('round-trips every message type through msgpack', () => {
    const messages = everyMessage('n1', 'n2');
    const decoded = decodeFrame(overTheWire(encodeFrame(messages)), 'n1', 'n2');
    expect(decoded.malformed).toBe(0);
    expect(decoded.messages).toEqual(messages);
  });

  it('sends only the bytes of a view, not its whole buffer', () => {
    const backing = Uint8Array.from({ length: 100 }, (_, i) => i);
    const view = backing.subarray(10, 14);
    const m = firstAppend('n1', 'n2', view);
    const [decoded] = decodeFrame(overTheWire(encodeFrame([m])), 'n1', 'n2').messages;
    expect(decoded?.type === 'append' && decoded.entries[0]?.data).toEqual(Uint8Array.of(10, 11, 12, 13));
  });

  it('estimates no less than the encoded size, so that split frames stay under the limit', () => {
    const wide = (s: string): string => s.repeat(40);
    const messages: Message[] = [
      ...everyMessage('n1', 'n2'),
      ...everyMessage(wide('ñ😀'), wide('ü')),
      {
        type: 'heartbeat',
        from: 'n1',
        to: 'n2',
        term: Number.MAX_SAFE_INTEGER,
        commit: Number.MAX_SAFE_INTEGER,
        context: wide('€'),
      },
    ];
    for (const m of messages) {
      const encoded = new msgpackParser.Encoder().encode({
        type: 2,
        nsp: '/raft',
        data: ['raft', encodeFrame([m])],
      }) as unknown as Buffer[];
      const bytes = encoded.reduce((sum, b) => sum + b.byteLength, 0);
      expect(estimateMessageBytes(m), m.type).toBeGreaterThanOrEqual(bytes);
    }
  });

  it('counts what is not a valid message from this peer to us', () => {
    const good = heartbeat('n1', 'n2', 1);
    const frame = [
      good,
      { ...good, type: 'nope' },
      { ...good, from: 'n3' },
      { ...good, to: 'n3' },
      { ...good, term: Number.NaN },
      { ...good, commit: 2 ** 60 },
      { type: 'vote', from: 'n1', to: 'n2', term: 1, index: 1 },
      {
        type: 'snapshot',
        from: 'n1',
        to: 'n2',
        term: 1,
        meta: { index: 1, term: 1 },
        offset: 0,
        total: 0,
        data: new Uint8Array(),
      },
      'string',
      7,
    ];
    expect(decodeFrame(frame, 'n1', 'n2')).toEqual({ messages: [good], malformed: 9 });
    expect(decodeFrame({ 0: good }, 'n1', 'n2')).toEqual({ messages: [], malformed: 1 });
    expect(decodeFrame(undefined, 'n1', 'n2')).toEqual({ messages: [], malformed: 1 });
  });

  it('carries request values with binary as plain Uint8Arrays and without prototype tricks', () => {
    const value = { a: Uint8Array.of(1, 2), b: [Uint8Array.of(3)], c: 'x', d: null };
    const back = fromWireValue(overTheWire(toWireValue(value))) as typeof value;
    expect(back).toEqual(value);
    expect(Object.getPrototypeOf(back.a)).toBe(Uint8Array.prototype);
    const hostile = fromWireValue(JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}')) as Record<
      string,
      unknown
    >;
    expect(hostile).toEqual({ ok: 1 });
    expect(Object.getPrototypeOf(hostile)).toBe(Object.prototype);
  });
});

describe('reconnect back-off', () => {
  it('doubles from the minimum, stays under the cap, jitters, and resets', () => {
    const always = (r: number) => new Backoff(100, 1_000, () => r, 0.5);
    const high = always(0); // no jitter taken off: the base itself
    expect([1, 2, 3, 4, 5, 6].map(() => high.next())).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    const low = always(0.999_999);
    expect([1, 2, 3, 4, 5].map(() => low.next())).toEqual([50, 100, 200, 400, 500]);
    high.reset();
    expect(high.next()).toBe(100);
    let r = 0;
    const spread = new Backoff(100, 1_000, () => (r = (r + 0.37) % 1));
    const delays = Array.from({ length: 200 }, () => spread.next()).slice(10);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1_000);
    expect(new Set(delays).size).toBeGreaterThan(5);
  });
});
