/**
 * Rotating the cluster's intermediate CA (`meshdesk cluster rotate-ca`, `POST
 * /cluster/ca/rotate`): the node that holds the root CA's key (the one that bootstrapped the
 * cluster, `DATA/tls/ca-root.key`) signs a new intermediate and puts it in the model in one
 * write. Everything chains to the same root, so nothing that trusts the root changes, and
 * certificates of the earlier intermediate keep working while they are replaced: from that apply
 * on, every member signs with the new one, renews its own certificate at once
 * (`ScheduledRenewal.outdated`), and tells its routers (`peers.issuer`), which renew theirs.
 */
import { X509Certificate } from 'node:crypto';
import type { SingleCommand } from '../model/commands.js';
import { PKI_SETTINGS, type ClusterCaRecord } from '../model/pki.js';
import { createIntermediate, fingerprint } from '../pki/ca.js';
import { loadRootKey } from './credentials.js';
import { ClusterError } from './errors.js';

export interface Rotation {
  readonly commands: SingleCommand[];
  /** The new intermediate's SHA-256 fingerprint. */
  readonly fingerprint: string;
  readonly notAfter: string;
}

/** The write that installs a new intermediate, signed here with the root key. */
export async function intermediateRotation(
  dataDir: string,
  ca: ClusterCaRecord,
  clusterId: string,
  now: Date,
): Promise<Rotation> {
  const rootKey = await loadRootKey(dataDir);
  if (rootKey === undefined) {
    throw new ClusterError(
      'NO_ROOT_KEY',
      "this node does not hold the root CA's key; ask the node that bootstrapped the cluster (its data directory has tls/ca-root.key)",
    );
  }
  const next = await createIntermediate(clusterId, { certPem: ca.rootCertPem, keyPem: rootKey }, { now });
  const at = now.toISOString();
  return {
    commands: [
      { op: 'setSetting', key: PKI_SETTINGS.intermediateCert, value: next.certPem, at },
      { op: 'setSetting', key: PKI_SETTINGS.intermediateKey, value: next.keyPem, at },
    ],
    fingerprint: fingerprint(next.certPem),
    notAfter: new Date(new X509Certificate(next.certPem).validTo).toISOString(),
  };
}
