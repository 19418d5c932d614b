/**
 * One-time join tokens in the model: a token works once in the whole cluster (two members'
 * redemptions apply in log order, the second refused on every node alike), not after it expires
 * by the command's own time, not once revoked, and not with a wrong secret, which reads like no
 * token at all. Nothing refused changes the model; no read shows a secret's hash.
 */
import { describe, expect, it } from 'vitest';
import { invitationSecretHash, newInvitationSecret } from '../../../core/cluster/join-token.js';
import { encodeCommand, type ModelCommand } from '../../../core/model/commands.js';
import { listInvitations, view } from '../../../core/model/invitations.js';
import { retiredControllers } from '../../../core/model/retired-controllers.js';
import { certificateCurrent, routerCertificates } from '../../../core/model/router-certificates.js';
import { ModelStateMachine } from '../../../core/model/state-machine.js';

const T0 = '2026-12-07T10:00:00.000Z';
const T1 = '2026-12-07T10:05:00.000Z';
const EXPIRES = '2026-12-07T11:00:00.000Z';
const LATER = '2026-12-07T11:00:00.000Z';

async function machine() {
  const sm = await ModelStateMachine.create();
  let index = 0;
  const apply = (command: ModelCommand) => {
    index++;
    return sm.apply([{ index, term: 1, data: encodeCommand(command) }], index)[0] as {
      ok: boolean;
      error?: { code: string; message: string };
      invitation?: { state: string };
    };
  };
  const rows = () => JSON.stringify(sm.model.rows('SELECT * FROM invitations ORDER BY id'));
  return { sm, apply, rows };
}

const secret = newInvitationSecret();
const hash = invitationSecretHash(secret);
const create = (id = 'inv-1'): ModelCommand => ({
  op: 'createInvitation',
  id,
  kind: 'controller',
  secretHash: hash,
  at: T0,
  expiresAt: EXPIRES,
  createdBy: 'admin-1',
});
const redeem = (by: string, at = T1, secretHash = hash, id = 'inv-1'): ModelCommand => ({
  op: 'redeemInvitation',
  id,
  secretHash,
  at,
  by,
});

describe('invitations', () => {
  it('are spent by the first redemption; the second is refused alike on every node', async () => {
    const nodes = [await machine(), await machine()];
    const commands = [create(), redeem('n2'), redeem('n3')];
    const results = nodes.map((node) => commands.map((c) => node.apply(c)));
    expect(results[0]).toEqual(results[1]);
    const [created, first, second] = results[0] as [
      { ok: boolean; invitation?: { state: string } },
      { ok: boolean; invitation?: { state: string; usedBy?: string } },
      { ok: boolean; error?: { code: string } },
    ];
    expect(created.invitation?.state).toBe('pending');
    expect(first).toMatchObject({ ok: true, invitation: { state: 'used', usedBy: 'n2', usedAt: T1 } });
    expect(second).toMatchObject({ ok: false, error: { code: 'INVITATION_USED' } });
    expect(nodes[0]?.rows()).toBe(nodes[1]?.rows());
  });

  it('refuse a wrong secret or an unknown id the same way, and change nothing', async () => {
    const { apply, rows } = await machine();
    apply(create());
    const before = rows();
    const wrong = apply(redeem('n2', T1, invitationSecretHash(newInvitationSecret())));
    const unknown = apply(redeem('n2', T1, hash, 'inv-nope'));
    expect(wrong.error).toEqual(unknown.error);
    expect(wrong.error?.code).toBe('INVITATION_UNKNOWN');
    expect(rows()).toBe(before);
    expect(apply(redeem('n2')).ok).toBe(true); // still usable by its holder
  });

  it('expire by the time in the redeeming command, not by any clock of the applying node', async () => {
    const { sm, apply, rows } = await machine();
    apply(create());
    const before = rows();
    expect(apply(redeem('n2', LATER)).error).toMatchObject({
      code: 'INVITATION_EXPIRED',
      message: `the invitation expired at ${EXPIRES}; ask for a new one`,
    });
    expect(rows()).toBe(before);
    expect(view(sm.model, 'inv-1', T1)?.state).toBe('pending');
    expect(view(sm.model, 'inv-1', LATER)?.state).toBe('expired');
  });

  it('can be revoked until used, and are refused once revoked', async () => {
    const { apply } = await machine();
    apply(create('a'));
    apply(create('b'));
    expect(apply({ op: 'revokeInvitation', id: 'a', at: T1 })).toMatchObject({
      ok: true,
      invitation: { state: 'revoked' },
    });
    expect(apply(redeem('n2', T1, hash, 'a')).error?.code).toBe('INVITATION_REVOKED');
    expect(apply(redeem('n2', T1, hash, 'b')).ok).toBe(true);
    expect(apply({ op: 'revokeInvitation', id: 'b', at: T1 }).error?.code).toBe('INVITATION_USED');
    expect(apply({ op: 'revokeInvitation', id: 'zz', at: T1 }).error?.code).toBe('NOT_FOUND');
  });

  it('list newest first with their state and never their secret’s hash', async () => {
    const { sm, apply } = await machine();
    apply(create('a'));
    apply({ ...(create('b') as object), at: T1 } as ModelCommand);
    apply(redeem('n2', T1, hash, 'a'));
    const listed = listInvitations(sm.model, T1);
    expect(listed.map((i) => [i.id, i.state])).toEqual([
      ['b', 'pending'],
      ['a', 'used'],
    ]);
    expect(JSON.stringify(listed)).not.toContain(hash);
    expect(listed[1]).toEqual({
      id: 'a',
      kind: 'controller',
      createdAt: T0,
      createdBy: 'admin-1',
      expiresAt: EXPIRES,
      usedAt: T1,
      usedBy: 'n2',
      revokedAt: null,
      subject: null,
      state: 'used',
    });
  });

  it('refuse a second invitation with the same id, one that expires before it is made, and a malformed hash', async () => {
    const { apply } = await machine();
    apply(create());
    expect(apply(create()).error?.code).toBe('ID_TAKEN');
    expect(apply({ ...(create('c') as object), expiresAt: T0 } as ModelCommand).error?.code).toBe('INVALID');
    expect(apply({ ...(create('d') as object), secretHash: 'not-a-hash' } as ModelCommand).error?.code).toBe(
      'INVALID',
    );
  });

  describe('for a router', () => {
    const router = (id: string): ModelCommand => ({
      op: 'create',
      collection: 'routers',
      id,
      at: T0,
      data: { name: `edge-${id}` },
    });
    const forRouter = (id: string, subject?: string): ModelCommand =>
      ({ ...(create(id) as object), kind: 'router', ...(subject ? { subject } : {}) }) as ModelCommand;

    it('name the router they enroll, which must exist and be enabled; a controller’s names none', async () => {
      const { apply } = await machine();
      apply(router('r1'));
      expect(apply(forRouter('a', 'r1'))).toMatchObject({
        ok: true,
        invitation: { subject: 'r1', kind: 'router' },
      });
      expect(apply(forRouter('b')).error).toMatchObject({
        code: 'INVALID',
        message: 'a router invitation names the router it enrolls',
      });
      expect(apply(forRouter('c', 'r-none')).error).toMatchObject({ code: 'NOT_FOUND' });
      apply({ op: 'patch', collection: 'routers', id: 'r1', at: T0, data: { disabled: true } });
      expect(apply(forRouter('d', 'r1')).error?.code).toBe('ROUTER_DISABLED');
      expect(apply({ ...(create('e') as object), subject: 'r1' } as ModelCommand).error?.code).toBe(
        'INVALID',
      );
    });

    it('are spent only by their own router, and only while it exists and is enabled', async () => {
      const { apply, rows } = await machine();
      apply(router('r1'));
      apply(router('r2'));
      apply(forRouter('a', 'r1'));
      apply(forRouter('b', 'r2'));
      const before = rows();
      // Another router's id: refused like a wrong secret, and nothing changes.
      expect(apply(redeem('r2', T1, hash, 'a')).error).toMatchObject({
        code: 'INVITATION_UNKNOWN',
        message: 'the invitation enrolls another router',
      });
      expect(rows()).toBe(before);
      apply({ op: 'patch', collection: 'routers', id: 'r2', at: T0, data: { disabled: true } });
      expect(apply(redeem('r2', T1, hash, 'b')).error?.code).toBe('ROUTER_DISABLED');
      expect(rows()).toBe(before);
      expect(apply(enroll('r1', 'a', 'AA01'))).toMatchObject({
        ok: true,
        invitation: { state: 'used', usedBy: 'r1' },
      });
    });

    const enroll = (by: string, id: string, serial: string, at = T1): ModelCommand =>
      ({
        ...(redeem(by, at, hash, id) as object),
        certificate: { serial, expiresAt: '2027-03-07T10:00:00.000Z' },
      }) as ModelCommand;

    it('record the certificate a router enrolled for; enrolling again, disabling or deleting revokes it', async () => {
      const nodes = [await machine(), await machine()];
      const commands: ModelCommand[] = [
        router('r1'),
        router('r2'),
        forRouter('a', 'r1'),
        enroll('r1', 'a', 'AA01'),
        forRouter('b', 'r1'),
        enroll('r1', 'b', 'AA02'),
        forRouter('c', 'r2'),
        enroll('r2', 'c', 'BB01'),
      ];
      for (const node of nodes) for (const c of commands) expect(node.apply(c).ok).toBe(true);
      const [one, other] = nodes as [
        Awaited<ReturnType<typeof machine>>,
        Awaited<ReturnType<typeof machine>>,
      ];
      const db = () => one.sm.model;
      // Only the latest enrollment's certificate is good.
      expect(certificateCurrent(db(), 'r1', 'AA01')).toBe(false);
      expect(certificateCurrent(db(), 'r1', 'aa02')).toBe(true);
      expect(certificateCurrent(db(), 'r2', 'AA02')).toBe(false); // another router's
      expect(routerCertificates(db(), 'r1')).toEqual([
        { serial: 'AA02', issuedAt: T1, expiresAt: '2027-03-07T10:00:00.000Z' },
      ]);
      const certs = (sm: ModelStateMachine) =>
        JSON.stringify(sm.model.rows('SELECT * FROM router_certificates ORDER BY serial'));
      expect(certs(one.sm)).toBe(certs(other.sm));

      // Renaming changes nothing; disabling revokes, and enabling again does not bring it back.
      one.apply({ op: 'patch', collection: 'routers', id: 'r1', at: T1, data: { name: 'edge-new' } });
      expect(certificateCurrent(db(), 'r1', 'AA02')).toBe(true);
      one.apply({ op: 'patch', collection: 'routers', id: 'r1', at: T1, data: { disabled: true } });
      one.apply({ op: 'patch', collection: 'routers', id: 'r1', at: T1, data: { disabled: false } });
      expect(certificateCurrent(db(), 'r1', 'AA02')).toBe(false);
      expect(one.apply({ op: 'delete', collection: 'routers', id: 'r2' }).ok).toBe(true);
      expect(certificateCurrent(db(), 'r2', 'BB01')).toBe(false);
      expect(certs(one.sm)).toBe('[]');
    });

    it('renew a router’s certificate on one of its good ones; earlier ones stay good until revoked or long expired', async () => {
      const { apply, sm } = await machine();
      const db = () => sm.model;
      apply(router('r1'));
      apply(forRouter('a', 'r1'));
      apply(enroll('r1', 'a', 'AA01'));
      const renew = (
        previousSerial: string,
        serial: string,
        at: string,
        expiresAt: string,
      ): ModelCommand => ({
        op: 'renewRouterCertificate',
        routerId: 'r1',
        previousSerial,
        certificate: { serial, expiresAt },
        at,
      });
      // At two thirds of its life: both are good (connections made on the first carry on).
      expect(
        apply(renew('AA01', 'AA02', '2027-01-06T10:00:00.000Z', '2027-04-06T10:00:00.000Z')),
      ).toMatchObject({
        ok: true,
        op: 'renewRouterCertificate',
        serial: 'AA02',
      });
      expect(['AA01', 'AA02'].map((serial) => certificateCurrent(db(), 'r1', serial))).toEqual([true, true]);
      expect(routerCertificates(db(), 'r1').map((c) => c.serial)).toEqual(['AA02', 'AA01']);
      // Renewing on an unknown or another router's serial is refused.
      expect(
        apply(renew('FF00', 'AA03', '2027-01-07T10:00:00.000Z', '2027-04-07T10:00:00.000Z')).error,
      ).toMatchObject({
        code: 'CERTIFICATE_REVOKED',
      });
      // Much later, the first (expired over 30 days before) is forgotten; the second stays.
      apply(renew('AA02', 'AA03', '2027-04-20T10:00:00.000Z', '2027-07-20T10:00:00.000Z'));
      expect(routerCertificates(db(), 'r1').map((c) => c.serial)).toEqual(['AA03', 'AA02']);
      // Disabling revokes every one: the router cannot renew its way back.
      apply({ op: 'patch', collection: 'routers', id: 'r1', at: T1, data: { disabled: true } });
      apply({ op: 'patch', collection: 'routers', id: 'r1', at: T1, data: { disabled: false } });
      expect(
        apply(renew('AA03', 'AA04', '2027-05-01T10:00:00.000Z', '2027-08-01T10:00:00.000Z')).error?.code,
      ).toBe('CERTIFICATE_REVOKED');
      expect(routerCertificates(db(), 'r1')).toEqual([]);
    });

    it('are spent for a certificate only: a router’s redemption names one, a controller’s none', async () => {
      const { apply } = await machine();
      apply(router('r1'));
      apply(forRouter('a', 'r1'));
      expect(apply(redeem('r1', T1, hash, 'a')).error).toMatchObject({
        code: 'INVALID',
        message: 'a router is enrolled for a certificate: the command names none',
      });
      apply(create('k'));
      expect(apply(enroll('n2', 'k', 'CC01')).error?.code).toBe('INVALID');
      expect(apply(enroll('r1', 'a', 'AA01')).ok).toBe(true);
    });
  });

  it('survive a snapshot and restore', async () => {
    const { sm, apply } = await machine();
    apply(create());
    apply(redeem('n2'));
    const copy = await ModelStateMachine.create();
    copy.restore(sm.snapshot());
    expect(listInvitations(copy.model, T1)).toEqual(listInvitations(sm.model, T1));
  });
});

describe('retired controllers', () => {
  it('are recorded once, idempotently, alike on every node, and kept in a snapshot', async () => {
    const nodes = [await machine(), await machine()];
    const commands: ModelCommand[] = [
      { op: 'retireController', nodeId: 'n3', at: T0 },
      { op: 'retireController', nodeId: 'n3', at: T1 },
    ];
    const results = nodes.map((node) => commands.map((c) => node.apply(c)));
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toEqual([
      { ok: true, op: 'retireController', nodeId: 'n3', written: true },
      { ok: true, op: 'retireController', nodeId: 'n3', written: false },
    ]);
    const restored = await machine();
    restored.sm.restore(nodes[0]!.sm.snapshot());
    expect(retiredControllers(restored.sm.model)).toEqual(['n3']);
  });

  it('cannot join again with their old node id', async () => {
    const { apply, rows } = await machine();
    apply({ op: 'retireController', nodeId: 'n3', at: T0 });
    apply(create());
    const before = rows();
    const refused = apply(redeem('n3'));
    expect(refused.error?.code).toBe('CONTROLLER_RETIRED');
    expect(refused.error?.message).toMatch(/join the machine afresh/);
    expect(rows()).toBe(before);
    // Another node may use the same token.
    expect(apply(redeem('n4')).ok).toBe(true);
  });
});
