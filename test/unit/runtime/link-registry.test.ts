/** The router's link registry: one link per peer, repeated dials answered with it, duplicates resolved alike at both ends. */
import { describe, expect, it } from 'vitest';
import { LinkRegistry, keptLink, type RouterLink } from '../../../core/router/link-registry.js';

const link = (
  id: string,
  dialer: string,
  acceptor: string,
  self: string,
): RouterLink & { closed: boolean } => {
  const l = {
    id,
    dialer,
    acceptor,
    peer: dialer === self ? acceptor : dialer,
    latencyMs: 0,
    closed: false,
    close: () => void (l.closed = true),
  };
  return l;
};

describe('link registry', () => {
  it('dials a peer once, however many controllers ask at the same time', async () => {
    const registry = new LinkRegistry();
    let dials = 0;
    const dial = async () => {
      dials += 1;
      await new Promise((resolve) => setImmediate(resolve));
      const l = link(`l${dials}`, 'a', 'b', 'a');
      registry.add(l);
      return l;
    };
    const answers = await Promise.all([registry.dialOnce('b', dial), registry.dialOnce('b', dial)]);
    const third = await registry.dialOnce('b', dial);
    expect(dials).toBe(1);
    expect(answers.map((a) => a.existing)).toEqual([false, true]);
    expect(third).toMatchObject({ existing: true, link: { id: 'l1' } });
  });

  it('keeps the same one of two simultaneous links at both ends', () => {
    const fromA = { id: 'zz', dialer: 'a' };
    const fromB = { id: 'aa', dialer: 'b' };
    expect(keptLink(fromA, fromB)).toBe(fromA);
    expect(keptLink(fromB, fromA)).toBe(fromA);
    // At router a: its own dial registered first, then b's arrives.
    const atA = new LinkRegistry();
    const mine = link('zz', 'a', 'b', 'a');
    const theirs = link('aa', 'b', 'a', 'a');
    atA.add(mine);
    expect(atA.add(theirs)).toEqual({ kept: mine, closed: theirs });
    // At router b, in the other order: the same link survives.
    const atB = new LinkRegistry();
    const bMine = link('aa', 'b', 'a', 'b');
    const bTheirs = link('zz', 'a', 'b', 'b');
    atB.add(bMine);
    expect(atB.add(bTheirs)).toEqual({ kept: bTheirs, closed: bMine });
    expect(atB.toPeer('a')?.id).toBe('zz');
    expect(atB.get('aa')).toBeUndefined();
  });
});
