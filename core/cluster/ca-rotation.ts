/**
 * Rotating the cluster's intermediate CA, in two steps:
 * 1. `meshdesk cluster rotate-ca` (`POST /cluster/ca/rotate`): the node that holds the root CA's
 *    key (the one that bootstrapped the cluster, `DATA/tls/ca-root.key`) signs a new intermediate
 *    and puts it in the model in one write. Everything chains to the same root and the earlier
 *    intermediate stays trusted (core/model/ca-trust.ts), so nothing breaks while certificates
 *    are replaced: from that apply on, every member signs with the new one, renews its own
 *    certificate at once (`ScheduledRenewal.outdated`) and records it, and tells its routers
 *    (`peers.issuer`), which renew theirs.
 * 2. `meshdesk cluster rotate-ca --finish` (`POST /cluster/ca/finish-rotation`): once every
 *    member and router holds a certificate of the new intermediate, the earlier ones are retired:
 *    a certificate they signed opens nothing any more, and connections still on one close. A
 *    member or router that has not re-issued (one that is down) makes it refuse, naming it,
 *    rather than be locked out.
 */
import { X509Certificate } from 'node:crypto';
import { controllerCertificate } from '../model/ca-trust.js';
import type { SingleCommand as Command } from '../model/commands.js';
import type { ModelDatabase } from '../model/database.js';
import { signingRoot, type ClusterCaRecord } from '../model/pki.js';
import { canCrossCertify, createIntermediate, createNextRoot, crossCertify, fingerprint } from '../pki/ca.js';
import { loadRootKey, saveRootKey } from './credentials.js';
import { ClusterError } from './errors.js';

export interface Rotation {
  readonly commands: Command[];
  /** The new intermediate's SHA-256 fingerprint. */
  readonly fingerprint: string;
  readonly notAfter: string;
  /** With a new root: its fingerprint. */
  readonly root?: string;
}

/**
 * The write that installs a new intermediate, signed here with the root key. With `newRoot`, a
 * new root signs it; that root's key is kept here first (so a committed write never names a
 * root whose key is lost), and the root everyone trusts now certifies it (crossCertify).
 */
export async function intermediateRotation(
  dataDir: string,
  ca: ClusterCaRecord,
  clusterId: string,
  now: Date,
  newRoot = false,
): Promise<Rotation> {
  const at = now.toISOString();
  if (!newRoot) {
    const root = { certPem: signingRoot(ca), keyPem: await rootKey(dataDir, signingRoot(ca)) };
    const next = await createIntermediate(clusterId, root, { now });
    return rotation([{ op: 'installIntermediate', certificate: next.certPem, key: next.keyPem, at }], next);
  }
  const current = { certPem: ca.rootCertPem, keyPem: await rootKey(dataDir, ca.rootCertPem) };
  if (!canCrossCertify(current.certPem)) {
    throw new ClusterError(
      'ROOT_TOO_OLD',
      "this cluster's root was made before roots could certify their successor; rotate the intermediate instead",
    );
  }
  const root = await createNextRoot(clusterId, { now });
  await saveRootKey(dataDir, root.keyPem, root.certPem);
  const cross = await crossCertify(root.certPem, current);
  const next = await createIntermediate(clusterId, root, { now });
  const command: Command = {
    op: 'installIntermediate',
    certificate: next.certPem,
    key: next.keyPem,
    at,
    root: { certificate: root.certPem, cross },
  };
  return { ...rotation([command], next), root: fingerprint(root.certPem) };
}

function rotation(commands: Command[], next: { certPem: string }): Rotation {
  return {
    commands,
    fingerprint: fingerprint(next.certPem),
    notAfter: new Date(new X509Certificate(next.certPem).validTo).toISOString(),
  };
}

async function rootKey(dataDir: string, rootCertPem: string): Promise<string> {
  const key = await loadRootKey(dataDir, rootCertPem);
  if (key === undefined) {
    throw new ClusterError(
      'NO_ROOT_KEY',
      "this node does not hold the root CA's key; ask the node that bootstrapped the cluster (its data directory has tls/ca-root.key)",
    );
  }
  return key;
}

/**
 * The write that finishes a rotation, once every member (`members`, ids) recorded a certificate
 * of the current intermediate; the routers are checked by the write itself (the model holds
 * their certificates). ROTATION_UNFINISHED names the members that have not.
 */
export function rotationFinish(
  db: ModelDatabase,
  ca: ClusterCaRecord,
  members: readonly string[],
  now: Date,
): Command {
  const issuer = fingerprint(ca.intermediateCertPem);
  const behind = members.filter((id) => controllerCertificate(db, id)?.issuer !== issuer);
  if (behind.length > 0) {
    throw new ClusterError(
      'ROTATION_UNFINISHED',
      `${behind.map((id) => `member ${id}`).join(', ')} has not renewed its certificate from the current intermediate CA yet: start it if it is down (it renews at once), or remove it from the cluster`,
    );
  }
  return { op: 'finishCaRotation', issuer, at: now.toISOString() };
}
