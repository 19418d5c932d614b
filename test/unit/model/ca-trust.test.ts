/**
 * The cluster CA's rotation in the model: installing a new intermediate keeps the one it
 * replaces trusted; finishing retires every earlier one only once every router holds a
 * certificate of the current one, forgets the routers' certificates of retired (or unknown)
 * intermediates, and refuses against an intermediate that changed meanwhile. Controllers record
 * the certificate they use; a removed controller's record goes. Every node applies alike, and
 * no result carries the intermediate's key.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { controllerCertificate, previousIntermediates } from '../../../core/model/ca-trust.js';
import { encodeCommand, type ModelCommand, type SingleCommand } from '../../../core/model/commands.js';
import { readClusterCa } from '../../../core/model/pki.js';
import { routerCertificates } from '../../../core/model/router-certificates.js';
import { ModelStateMachine } from '../../../core/model/state-machine.js';
import { createClusterCa, createIntermediate, fingerprint, type ClusterCa } from '../../../core/pki/ca.js';

const T0 = '2026-12-08T10:00:00.000Z';
const T1 = '2026-12-08T10:05:00.000Z';
const EXPIRES = '2027-03-08T10:00:00.000Z';

interface Result {
  ok: boolean;
  error?: { code: string; message: string };
  retired?: string[];
  written?: boolean;
  fingerprint?: string;
}

async function machine() {
  const sm = await ModelStateMachine.create();
  let index = 0;
  const apply = (command: ModelCommand) => {
    index++;
    return sm.apply([{ index, term: 1, data: encodeCommand(command) }], index)[0] as Result;
  };
  return { sm, apply, db: () => sm.model };
}

let ca: ClusterCa;
let next: { certPem: string; keyPem: string };
let third: { certPem: string; keyPem: string };
beforeAll(async () => {
  ca = await createClusterCa('c1');
  next = await createIntermediate('c1', ca.root);
  third = await createIntermediate('c1', ca.root);
});

const bootstrap = (): ModelCommand => ({
  op: 'batch',
  commands: [
    { op: 'setSetting', key: 'pki.rootCert', value: ca.root.certPem, at: T0 },
    { op: 'setSetting', key: 'pki.intermediateCert', value: ca.intermediate.certPem, at: T0 },
    { op: 'setSetting', key: 'pki.intermediateKey', value: ca.intermediate.keyPem, at: T0 },
  ],
});
const install = (
  i: { certPem: string; keyPem: string },
  root?: { certificate: string; cross: string },
): SingleCommand => ({
  op: 'installIntermediate',
  certificate: i.certPem,
  key: i.keyPem,
  at: T1,
  ...(root ? { root } : {}),
});
const finish = (issuer: string): SingleCommand => ({ op: 'finishCaRotation', issuer, at: T1 });
const router = (id: string): ModelCommand => ({
  op: 'create',
  collection: 'routers',
  id,
  at: T0,
  data: { name: `edge-${id}` },
});
const enroll = (routerId: string, serial: string, issuer?: string): ModelCommand => ({
  op: 'batch',
  commands: [
    {
      op: 'createInvitation',
      id: `inv-${serial}`,
      kind: 'router',
      secretHash: 'a'.repeat(64),
      at: T0,
      expiresAt: EXPIRES,
      subject: routerId,
    },
    {
      op: 'redeemInvitation',
      id: `inv-${serial}`,
      secretHash: 'a'.repeat(64),
      at: T0,
      by: routerId,
      certificate: { serial, expiresAt: EXPIRES, ...(issuer ? { issuer } : {}) },
    },
  ],
});
const renew = (routerId: string, previousSerial: string, serial: string, issuer: string): ModelCommand => ({
  op: 'renewRouterCertificate',
  routerId,
  previousSerial,
  certificate: { serial, expiresAt: EXPIRES, issuer },
  at: T1,
});

describe('the cluster CA rotation in the model', () => {
  it('keeps the replaced intermediate trusted until finished, then forgets its router certificates', async () => {
    const nodes = [await machine(), await machine()];
    const old = fingerprint(ca.intermediate.certPem);
    const current = fingerprint(next.certPem);
    const commands: ModelCommand[] = [
      bootstrap(),
      router('r1'),
      router('r2'),
      enroll('r1', 'AA01', old),
      enroll('r2', 'BB01'), // enrolled before issuers were recorded
      install(next),
    ];
    for (const node of nodes) for (const c of commands) expect(node.apply(c).ok).toBe(true);
    const [one, other] = nodes as [Awaited<ReturnType<typeof machine>>, Awaited<ReturnType<typeof machine>>];
    expect(readClusterCa(one.db())?.intermediateCertPem).toBe(next.certPem);
    expect(previousIntermediates(one.db())).toEqual([old]);

    // r1 renewed from the new intermediate, r2 not yet: finishing names r2 and changes nothing.
    one.apply(renew('r1', 'AA01', 'AA02', current));
    other.apply(renew('r1', 'AA01', 'AA02', current));
    const refused = one.apply(finish(current));
    expect(refused.error).toMatchObject({ code: 'ROTATION_UNFINISHED' });
    expect(refused.error?.message).toContain('router edge-r2 (r2)');
    expect(refused.error?.message).not.toContain('edge-r1');
    expect(previousIntermediates(one.db())).toEqual([old]);
    expect(other.apply(finish(current)).error?.code).toBe('ROTATION_UNFINISHED');

    for (const node of nodes) node.apply(renew('r2', 'BB01', 'BB02', current));
    const finished = nodes.map((node) => node.apply(finish(current)));
    expect(finished[0]).toEqual({ ok: true, op: 'finishCaRotation', retired: [old] });
    expect(finished[1]).toEqual(finished[0]);
    // Only the current intermediate's certificates are left: the earlier ones are revoked.
    expect(routerCertificates(one.db(), 'r1').map((c) => c.serial)).toEqual(['AA02']);
    expect(routerCertificates(one.db(), 'r2').map((c) => c.serial)).toEqual(['BB02']);
    expect(previousIntermediates(one.db())).toEqual([]);
    const state = (m: Awaited<ReturnType<typeof machine>>) =>
      JSON.stringify([
        m.db().rows('SELECT * FROM router_certificates ORDER BY serial'),
        m.db().rows("SELECT key, value FROM settings WHERE key LIKE 'pki.%' ORDER BY key"),
      ]);
    expect(state(one)).toBe(state(other));

    // Finishing again retires nothing and changes nothing.
    const before = state(one);
    expect(one.apply(finish(current))).toEqual({ ok: true, op: 'finishCaRotation', retired: [] });
    expect(state(one)).toBe(before);
  });

  it('refuses to finish against an intermediate that is no longer the current one', async () => {
    const { apply, db } = await machine();
    apply(bootstrap());
    apply(install(next));
    apply(install(third));
    // Two rotations: both earlier intermediates stay trusted.
    expect(previousIntermediates(db())).toEqual([
      fingerprint(ca.intermediate.certPem),
      fingerprint(next.certPem),
    ]);
    const result = apply(finish(fingerprint(next.certPem)));
    expect(result.error?.code).toBe('CA_CHANGED');
    expect(previousIntermediates(db())).toHaveLength(2);
    // Installing the same intermediate again keeps the list as it is.
    apply(install(third));
    expect(previousIntermediates(db())).toHaveLength(2);
  });

  it('answers an install with the fingerprint, never the key; a refusal in a batch names the CA', async () => {
    const { apply } = await machine();
    apply(bootstrap());
    const installed = apply(install(next));
    expect(installed).toEqual({
      ok: true,
      op: 'installIntermediate',
      fingerprint: fingerprint(next.certPem),
    });
    const result = apply({ op: 'batch', commands: [install(third), finish(fingerprint(next.certPem))] });
    expect(result.error?.message).toMatch(/^operation 1 \(finishCaRotation the cluster CA\): /);
    expect(JSON.stringify(result)).not.toContain('PRIVATE KEY');
  });

  it('makes a new root the root when finished, and keeps its cross-certificate in chains', async () => {
    const { apply, db } = await machine();
    apply(bootstrap());
    const nextRoot = (await createClusterCa('c1')).root.certPem;
    apply(install(next, { certificate: nextRoot, cross: third.certPem }));
    expect(readClusterCa(db())).toMatchObject({
      rootCertPem: ca.root.certPem,
      nextRootCertPem: nextRoot,
      crossCertPem: third.certPem,
    });
    expect(apply(finish(fingerprint(next.certPem)))).toEqual({
      ok: true,
      op: 'finishCaRotation',
      retired: [fingerprint(ca.intermediate.certPem)],
      root: fingerprint(nextRoot),
    });
    const after = readClusterCa(db());
    expect(after?.rootCertPem).toBe(nextRoot);
    expect(after?.nextRootCertPem).toBeUndefined();
    expect(after?.crossCertPem).toBe(third.certPem);
  });

  it('records the certificate a controller uses, and forgets it when the controller is removed', async () => {
    const { apply, db } = await machine();
    const held = { serial: 'CC01', expiresAt: EXPIRES, issuer: fingerprint(next.certPem) };
    const record = (certificate = held): ModelCommand => ({
      op: 'recordControllerCertificate',
      nodeId: 'n2',
      certificate,
      at: T0,
    });
    expect(apply(record())).toMatchObject({ ok: true, written: true });
    expect(apply(record())).toMatchObject({ ok: true, written: false });
    expect(controllerCertificate(db(), 'n2')).toEqual(held);
    const renewed = { ...held, serial: 'CC02' };
    expect(apply(record(renewed))).toMatchObject({ ok: true, written: true });
    expect(controllerCertificate(db(), 'n2')).toEqual(renewed);
    apply({ op: 'retireController', nodeId: 'n2', at: T1 });
    expect(controllerCertificate(db(), 'n2')).toBeUndefined();
  });
});
