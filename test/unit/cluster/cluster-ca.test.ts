/**
 * The cluster CA over a node's life, with real files and a real model: bootstrap writes the
 * credentials and the root key owner-only and leaves the intermediate waiting until the model
 * holds it; a member signs joining nodes' CSRs with the model's intermediate (refusing a current
 * member's id and a CSR that does not verify); renewal happens at two thirds of a certificate's
 * life, driven by an injected clock, and hands the new credentials over without a restart.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bootstrapClusterCa,
  clearPendingCa,
  createCertificateAuthority,
  hasPendingCa,
  issueControllerCertificate,
  pendingCaCommands,
} from '../../../core/cluster/cluster-ca.js';
import { credentialsDir, loadCredentials } from '../../../core/cluster/credentials.js';
import { ClusterError } from '../../../core/cluster/errors.js';
import { CertificateRenewal } from '../../../core/cluster/renewal.js';
import { renewalTime } from '../../../core/pki/renewal-schedule.js';
import { encodeCommand } from '../../../core/model/commands.js';
import { readClusterCa } from '../../../core/model/pki.js';
import { ModelStateMachine } from '../../../core/model/state-machine.js';
import { certificatesOf, createKeyAndCsr, spiffeIdsOf, verifyChain } from '../../../core/pki/ca.js';
import type { PeerTls } from '../../../core/transport/types.js';

const CLUSTER = 'c-ca-test';
const DAY_MS = 24 * 60 * 60 * 1000;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-ca-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A model that applied the bootstrap's CA commands, as the first batch does. */
async function modelWithCa(dataDir: string): Promise<ModelStateMachine> {
  const model = await ModelStateMachine.create();
  const commands = await pendingCaCommands(dataDir, model.model, new Date().toISOString());
  model.apply([{ index: 1, term: 1, data: encodeCommand({ op: 'batch', commands }) }], 1);
  return model;
}

function mode(path: string): Promise<number> {
  return stat(path).then((s) => s.mode & 0o777);
}

describe('bootstrap', () => {
  it('writes the node’s credentials and the root key owner-only, and the intermediate until the model holds it', async () => {
    const tls = await bootstrapClusterCa(dir, { clusterId: CLUSTER, nodeId: 'n1', hosts: ['10.0.0.5'] });
    expect(await loadCredentials(dir)).toEqual(tls);
    const tlsDir = credentialsDir(dir);
    expect((await readdir(tlsDir)).sort()).toEqual([
      'ca-root.key',
      'ca.pem',
      'intermediate.pending.json',
      'node.key',
      'node.pem',
    ]);
    expect(await mode(tlsDir)).toBe(0o700);
    for (const secret of ['ca-root.key', 'node.key', 'intermediate.pending.json']) {
      expect(await mode(join(tlsDir, secret)), secret).toBe(0o600);
    }
    const [leaf, intermediate] = certificatesOf(tls.cert) as [string, string];
    expect(verifyChain(leaf, intermediate, tls.ca)).toBe(true);
    expect(new X509Certificate(leaf).subjectAltName).toBe(
      'URI:spiffe://c-ca-test/controller/n1, IP Address:10.0.0.5',
    );

    const model = await modelWithCa(dir);
    const ca = readClusterCa(model.model);
    expect(ca?.rootCertPem).toBe(tls.ca);
    expect(ca?.intermediateCertPem).toBe(intermediate);
    // Installed: no commands the second time; the copy on disk can go.
    expect(await pendingCaCommands(dir, model.model, new Date().toISOString())).toEqual([]);
    await clearPendingCa(dir);
    expect(await hasPendingCa(dir)).toBe(false);
    expect(await pendingCaCommands(dir, model.model, new Date().toISOString())).toEqual([]);
  });

  it('replaces a restored backup’s CA with the new cluster’s', async () => {
    const old = join(dir, 'old');
    await bootstrapClusterCa(old, { clusterId: 'c-old', nodeId: 'n1', hosts: ['127.0.0.1'] });
    const model = await modelWithCa(old);
    // The old cluster was in the middle of introducing a new root.
    const at = new Date().toISOString();
    const rotating = ['pki.nextRootCert', 'pki.crossCert', 'pki.previousIntermediates'].map(
      (key) => ({ op: 'setSetting', key, value: 'of the old cluster', at }) as const,
    );
    model.apply([{ index: 2, term: 1, data: encodeCommand({ op: 'batch', commands: rotating }) }], 2);
    const fresh = join(dir, 'fresh');
    const tls = await bootstrapClusterCa(fresh, { clusterId: CLUSTER, nodeId: 'n9', hosts: ['127.0.0.1'] });
    const commands = await pendingCaCommands(fresh, model.model, new Date().toISOString());
    expect(commands.map((c) => c.key)).toEqual([
      'pki.rootCert',
      'pki.intermediateCert',
      'pki.intermediateKey',
      'pki.previousIntermediates',
      'pki.nextRootCert',
      'pki.crossCert',
    ]);
    model.apply([{ index: 3, term: 1, data: encodeCommand({ op: 'batch', commands }) }], 3);
    const ca = readClusterCa(model.model);
    expect(ca?.rootCertPem).toBe(tls.ca);
    expect([ca?.nextRootCertPem, ca?.crossCertPem]).toEqual([undefined, undefined]);
  });
});

describe('signing for a joining node', () => {
  it('names the node by the request, refuses a current member and a CSR that does not verify', async () => {
    await bootstrapClusterCa(dir, { clusterId: CLUSTER, nodeId: 'n1', hosts: ['127.0.0.1'] });
    const model = await modelWithCa(dir);
    const authority = createCertificateAuthority({
      clusterId: CLUSTER,
      dataDir: dir,
      db: () => model.model,
      members: () => ['n1'],
    });
    const { csrPem } = await createKeyAndCsr('mallory'); // the CSR's own name is ignored
    const issued = await authority.issueForJoin({ id: 'n2', host: 'node2.lan', csr: csrPem });
    const [leaf, intermediate] = certificatesOf(issued.certificate) as [string, string];
    expect(verifyChain(leaf, intermediate, issued.ca)).toBe(true);
    expect(issued.ca).toBe(readClusterCa(model.model)?.rootCertPem);
    expect(spiffeIdsOf(leaf)).toEqual(['spiffe://c-ca-test/controller/n2']);
    expect(new X509Certificate(leaf).subjectAltName).toContain('DNS:node2.lan');

    await expect(authority.issueForJoin({ id: 'n1', host: 'x', csr: csrPem })).rejects.toMatchObject({
      code: 'MEMBERSHIP_CONFLICT',
    });
    await expect(authority.issueForJoin({ id: 'n3', host: 'x', csr: 'not a csr' })).rejects.toMatchObject({
      code: 'BAD_CERTIFICATE_REQUEST',
    });
  });

  it('refuses while this node’s model does not hold the CA', async () => {
    const model = await ModelStateMachine.create();
    const { csrPem } = await createKeyAndCsr('n2');
    const attempt = issueControllerCertificate(
      model.model,
      { clusterId: CLUSTER, nodeId: 'n2', hosts: [] },
      csrPem,
    );
    await expect(attempt).rejects.toBeInstanceOf(ClusterError);
    await expect(attempt).rejects.toMatchObject({ code: 'NO_CLUSTER_CA' });
  });
});

describe('renewal', () => {
  it('renews at two thirds of the certificate’s life with a new key, saves it, and hands it over', async () => {
    const first = await bootstrapClusterCa(dir, { clusterId: CLUSTER, nodeId: 'n1', hosts: ['127.0.0.1'] });
    const model = await modelWithCa(dir);
    let current: PeerTls = first;
    const installed: PeerTls[] = [];
    let now = new Date();
    const renewal = new CertificateRenewal({
      dataDir: dir,
      name: { clusterId: CLUSTER, nodeId: 'n1', hosts: ['127.0.0.1'] },
      db: () => model.model,
      current: () => current,
      install: (tls) => {
        current = tls;
        installed.push(tls);
      },
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
    const due = renewalTime(first.cert);
    const leaf = new X509Certificate(first.cert);
    const life = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
    expect(due.getTime() - Date.parse(leaf.validFrom)).toBe(Math.round((life * 2) / 3));
    expect(life).toBe(90 * DAY_MS + 5 * 60 * 1000); // 90 days, starting five minutes back

    now = new Date(due.getTime() - 1000);
    expect(await renewal.check()).toBe(false);
    expect(installed).toEqual([]);

    now = new Date(due.getTime() + 1000);
    expect(await renewal.check()).toBe(true);
    expect(installed).toHaveLength(1);
    const renewed = installed[0] as PeerTls;
    expect(renewed.key).not.toBe(first.key);
    expect(renewed.ca).toBe(first.ca);
    const [newLeaf, intermediate] = certificatesOf(renewed.cert) as [string, string];
    expect(verifyChain(newLeaf, intermediate, renewed.ca, now)).toBe(true);
    expect(spiffeIdsOf(newLeaf)).toEqual(['spiffe://c-ca-test/controller/n1']);
    expect(Date.parse(new X509Certificate(newLeaf).validTo)).toBeGreaterThan(Date.parse(leaf.validTo));
    expect(await loadCredentials(dir)).toEqual(renewed);
    // Not due again until two thirds of the new certificate's life.
    expect(await renewal.check()).toBe(false);
  });
});
