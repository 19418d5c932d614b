/** A router's trust list: the controllers' word on certificates, highest applied index first. */
import { describe, expect, it } from 'vitest';
import { TrustList } from '../../../core/router/trust-list.js';

describe('TrustList', () => {
  it('trusts TLS alone until a controller spoke', () => {
    const trust = new TrustList();
    expect(trust.routerGood('r1', 'AB')).toBe(true);
    expect(trust.controllerRevoked('n3')).toBe(false);
  });

  it('takes the list of the highest index: a lagging controller brings no one back', () => {
    const trust = new TrustList();
    expect(
      trust.update({ index: 10, routers: [{ id: 'r1', serial: 'ab' }], revokedControllers: ['n3'] }),
    ).toBe(true);
    expect([
      trust.routerGood('r1', 'AB'),
      trust.routerGood('r1', 'CD'),
      trust.routerGood('r2', 'AB'),
    ]).toEqual([true, false, false]);
    expect([trust.controllerRevoked('n3'), trust.controllerRevoked('n1')]).toEqual([true, false]);
    // An older list (a controller that has not applied the removal yet) is ignored.
    expect(trust.update({ index: 9, routers: [{ id: 'r2', serial: 'AB' }], revokedControllers: [] })).toBe(
      false,
    );
    expect([trust.routerGood('r2', 'AB'), trust.controllerRevoked('n3')]).toEqual([false, true]);
  });

  it('holds every good serial of a router (a renewed one’s earlier certificate lives on)', () => {
    const trust = new TrustList();
    trust.update({
      index: 3,
      routers: [
        { id: 'r1', serial: 'AA01' },
        { id: 'r1', serial: 'AA02' },
      ],
      revokedControllers: [],
    });
    expect(['AA01', 'AA02', 'AA03'].map((s) => trust.routerGood('r1', s))).toEqual([true, true, false]);
  });
});
