/**
 * Certificates for tests: one cluster CA per cluster id per test process (made once: key
 * generation is the slow part), and node credentials issued by it on demand.
 */
import { mintJoinToken, newInvitationSecret } from '../../core/cluster/join-token.js';
import {
  chainPem,
  createClusterCa,
  createKeyAndCsr,
  fingerprint,
  issueCertificate,
  type ClusterCa,
} from '../../core/pki/ca.js';
import type { CredentialSource } from '../../core/node.js';
import type { PeerTls } from '../../core/transport/types.js';

const cas = new Map<string, Promise<ClusterCa>>();

export function testCa(clusterId: string): Promise<ClusterCa> {
  let ca = cas.get(clusterId);
  if (!ca) cas.set(clusterId, (ca = createClusterCa(clusterId)));
  return ca;
}

export interface TestCertOptions {
  readonly kind?: 'controller' | 'router';
  readonly validityDays?: number;
  readonly now?: Date;
  /** Another cluster's CA issues it (the node then trusts that CA, not ours). */
  readonly ca?: ClusterCa;
  /** The SPIFFE id names this node instead (a certificate stolen from another node). */
  readonly namedAs?: string;
}

export async function testTls(
  clusterId: string,
  nodeId: string,
  options: TestCertOptions = {},
): Promise<PeerTls> {
  const ca = options.ca ?? (await testCa(clusterId));
  const { keyPem, csrPem } = await createKeyAndCsr(nodeId);
  const leaf = await issueCertificate(ca.intermediate, csrPem, {
    clusterId,
    kind: options.kind ?? 'controller',
    id: options.namedAs ?? nodeId,
    hosts: ['127.0.0.1', 'localhost'],
    ...(options.validityDays !== undefined ? { validityDays: options.validityDays } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return { key: keyPem, cert: chainPem(leaf, ca.intermediate.certPem), ca: ca.root.certPem };
}

/** A node's credentials from the test CA of its cluster, as createNode asks for them. */
export const testCredentials: CredentialSource = async (identity) => {
  const tls = await testTls(identity.clusterId, identity.nodeId);
  return () => tls;
};

/** A join token of the test CA of `clusterId`, as a member would mint it (no invitation behind it). */
export async function testJoinToken(
  clusterId: string,
  overrides: { readonly member?: string; readonly expiresAt?: string; readonly id?: string } = {},
): Promise<string> {
  const ca = await testCa(clusterId);
  return mintJoinToken(
    {
      v: 1,
      kind: 'controller',
      clusterId,
      member: overrides.member ?? 'http://192.168.1.20:8440',
      caFingerprint: fingerprint(ca.root.certPem),
      id: overrides.id ?? 'inv-test',
      secret: newInvitationSecret(),
      expiresAt: overrides.expiresAt ?? new Date(Date.now() + 3_600_000).toISOString(),
    },
    ca.intermediate.keyPem,
  );
}
