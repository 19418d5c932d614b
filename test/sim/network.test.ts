import { describe, expect, it } from 'vitest';
import { CALM_LINKS, Network, type LinkConditions } from './network.js';
import { SimRng } from './rng.js';

interface Msg {
  readonly from: string;
  readonly to: string;
  readonly n: number;
}

const STEADY: LinkConditions = { ...CALM_LINKS, longDelayChance: 0 };

function drain(net: Network<Msg>): { n: number; at: number; cut: boolean }[] {
  const out: { n: number; at: number; cut: boolean }[] = [];
  for (let d = net.deliverNext(); d; d = net.deliverNext())
    out.push({ n: d.message.n, at: d.at, cut: d.cut });
  return out;
}

describe('Network', () => {
  it('delivers every message within the delay range, reordering some', () => {
    const net = new Network<Msg>(new SimRng(1), STEADY);
    for (let n = 0; n < 200; n++) net.send(1000, { from: 'a', to: 'b', n });
    const got = drain(net);
    expect(got).toHaveLength(200);
    for (const g of got) {
      expect(g.at).toBeGreaterThanOrEqual(1000 + STEADY.minDelayMs);
      expect(g.at).toBeLessThanOrEqual(1000 + STEADY.maxDelayMs);
    }
    const order = got.map((g) => g.n);
    expect(order).not.toEqual([...order].sort((x, y) => x - y));
    expect(got.map((g) => g.at)).toEqual(got.map((g) => g.at).sort((x, y) => x - y));
  });

  it('partitions symmetrically, cuts one way, and heals', () => {
    const net = new Network<Msg>(new SimRng(2), STEADY);
    const p = net.addFault({ kind: 'partition', groups: [['a'], ['b', 'c']] });
    expect(net.isCut('a', 'b')).toBe(true);
    expect(net.isCut('b', 'a')).toBe(true);
    expect(net.isCut('b', 'c')).toBe(false);
    expect(net.isCut('a', 'z')).toBe(false);
    expect(net.send(0, { from: 'a', to: 'b', n: 1 }).kind).toBe('cut');
    net.removeFault(p);
    expect(net.isCut('a', 'b')).toBe(false);
    net.addFault({ kind: 'cut', from: 'a', to: 'b' });
    expect(net.isCut('a', 'b')).toBe(true);
    expect(net.isCut('b', 'a')).toBe(false);
    net.healAll();
    expect(net.isCut('a', 'b')).toBe(false);
  });

  it('loses in-flight messages when a partition starts before they arrive', () => {
    const net = new Network<Msg>(new SimRng(3), STEADY);
    net.send(0, { from: 'a', to: 'b', n: 1 });
    net.addFault({ kind: 'cut', from: 'a', to: 'b' });
    expect(drain(net)).toEqual([expect.objectContaining({ n: 1, cut: true })]);
  });

  it('drops and duplicates during a burst, and stops when it ends', () => {
    const net = new Network<Msg>(new SimRng(4), STEADY);
    const burst = net.addFault({ kind: 'conditions', conditions: { dropChance: 0.5, duplicateChance: 0.5 } });
    let lost = 0;
    for (let n = 0; n < 400; n++) if (net.send(0, { from: 'a', to: 'b', n }).kind === 'lost') lost++;
    const got = drain(net);
    expect(lost).toBeGreaterThan(100);
    expect(got.length).toBeGreaterThan(400 - lost);
    net.removeFault(burst);
    expect(net.conditions).toEqual(STEADY);
    for (let n = 0; n < 100; n++) net.send(0, { from: 'a', to: 'b', n });
    expect(drain(net)).toHaveLength(100);
  });
});
