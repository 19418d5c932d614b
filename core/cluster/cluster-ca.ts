/**
 * The cluster CA over a node's life:
 * - at bootstrap, a root CA and an intermediate are made and this node's certificate is issued
 *   from the intermediate; the root's key stays in this node's data directory (0600) and signs
 *   nothing day to day;
 * - the intermediate's certificate and key go into the replicated model (cluster settings) with
 *   the bootstrap's first batch, so that any member can sign a joining node's certificate and
 *   renew its own. Until that batch applied, a copy waits on disk (0600), removed once installed;
 * - a member signs a controller certificate for a CSR (joining, renewal) with the model's
 *   intermediate, naming the holder by what the cluster decided, never by what the CSR asked.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeleteSettingCommand, SettingCommand, SingleCommand } from '../model/commands.js';
import type { ModelDatabase } from '../model/database.js';
import { chainAbove, PKI_SETTINGS, readClusterCa, type ClusterCaRecord } from '../model/pki.js';
import {
  chainPem,
  createClusterCa,
  createKeyAndCsr,
  issueCertificate,
  type IssueOptions,
} from '../pki/ca.js';
import type { PeerTls } from '../transport/types.js';
import { writeDurably } from '../files.js';
import { credentialsDir, saveCredentials, saveRootKey } from './credentials.js';
import { intermediateRotation, rotationFinish, type Rotation } from './ca-rotation.js';
import { ClusterError } from './errors.js';

const PENDING_CA = 'intermediate.pending.json';

interface PendingCa {
  readonly rootCertPem: string;
  readonly intermediateCertPem: string;
  readonly intermediateKeyPem: string;
}

export interface ControllerName {
  readonly clusterId: string;
  readonly nodeId: string;
  /** Names and addresses the node is reached at (its certificate's DNS and IP SANs). */
  readonly hosts: readonly string[];
}

/** Creates the CA and this node's credentials, all written durably before the node starts. */
export async function bootstrapClusterCa(dataDir: string, name: ControllerName): Promise<PeerTls> {
  const ca = await createClusterCa(name.clusterId);
  const { keyPem, csrPem } = await createKeyAndCsr(name.nodeId);
  const leaf = await issueCertificate(ca.intermediate, csrPem, {
    clusterId: name.clusterId,
    kind: 'controller',
    id: name.nodeId,
    hosts: name.hosts,
  });
  await saveRootKey(dataDir, ca.root.keyPem);
  const pending: PendingCa = {
    rootCertPem: ca.root.certPem,
    intermediateCertPem: ca.intermediate.certPem,
    intermediateKeyPem: ca.intermediate.keyPem,
  };
  await writeDurably(join(credentialsDir(dataDir), PENDING_CA), JSON.stringify(pending), 0o600);
  const credentials = { key: keyPem, cert: chainPem(leaf, ca.intermediate.certPem), ca: ca.root.certPem };
  await saveCredentials(dataDir, credentials);
  return credentials;
}

/**
 * The commands that put a CA waiting on disk into the model, unless the model already holds it (a
 * restart after it applied). A restored backup's model may hold the CA of the cluster it came
 * from: this cluster's replaces it. Empty when nothing waits.
 */
export async function pendingCaCommands(
  dataDir: string,
  db: ModelDatabase,
  at: string,
): Promise<(SettingCommand | DeleteSettingCommand)[]> {
  const pending = await readPendingCa(dataDir);
  if (!pending || readClusterCa(db)?.rootCertPem === pending.rootCertPem) return [];
  return [
    { op: 'setSetting', key: PKI_SETTINGS.rootCert, value: pending.rootCertPem, at },
    { op: 'setSetting', key: PKI_SETTINGS.intermediateCert, value: pending.intermediateCertPem, at },
    { op: 'setSetting', key: PKI_SETTINGS.intermediateKey, value: pending.intermediateKeyPem, at },
    // Nothing of another cluster's rotations (a restored backup's) stays.
    { op: 'deleteSetting', key: PKI_SETTINGS.previousIntermediates },
    { op: 'deleteSetting', key: PKI_SETTINGS.nextRootCert },
    { op: 'deleteSetting', key: PKI_SETTINGS.crossCert },
  ];
}

/** Removes the copy on disk once the model holds the CA. */
export async function clearPendingCa(dataDir: string): Promise<void> {
  await rm(join(credentialsDir(dataDir), PENDING_CA), { force: true });
}

export async function hasPendingCa(dataDir: string): Promise<boolean> {
  return (await readPendingCa(dataDir)) !== undefined;
}

async function readPendingCa(dataDir: string): Promise<PendingCa | undefined> {
  try {
    return JSON.parse(await readFile(join(credentialsDir(dataDir), PENDING_CA), 'utf8')) as PendingCa;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A controller certificate as a member issues it: the chain (leaf + intermediate) and the root. */
export interface IssuedCertificate {
  readonly certificate: string;
  readonly ca: string;
}

/** The model's cluster CA; until this node has applied it (it is starting), NO_CLUSTER_CA (503). */
export function requireClusterCa(db: ModelDatabase): ClusterCaRecord {
  const ca = readClusterCa(db);
  if (!ca)
    throw new ClusterError('NO_CLUSTER_CA', 'this node does not hold the cluster CA yet; retry shortly');
  return ca;
}

/** Signs a controller certificate for `csrPem` with the model's intermediate. */
export function issueControllerCertificate(
  db: ModelDatabase,
  name: ControllerName,
  csrPem: string,
  now?: Date,
): Promise<IssuedCertificate> {
  return issueFromModel(db, csrPem, {
    clusterId: name.clusterId,
    kind: 'controller',
    id: name.nodeId,
    hosts: name.hosts,
    ...(now ? { now } : {}),
  });
}

/**
 * Signs a router certificate (`spiffe://<cluster>/router/<id>`) for `csrPem`. It names no host:
 * routers are checked by their SPIFFE id, wherever they are reached.
 */
export function issueRouterCertificate(
  db: ModelDatabase,
  clusterId: string,
  routerId: string,
  csrPem: string,
  now?: Date,
): Promise<IssuedCertificate> {
  return issueFromModel(db, csrPem, { clusterId, kind: 'router', id: routerId, ...(now ? { now } : {}) });
}

async function issueFromModel(
  db: ModelDatabase,
  csrPem: string,
  options: IssueOptions,
): Promise<IssuedCertificate> {
  const ca = requireClusterCa(db);
  let leaf: string;
  try {
    leaf = await issueCertificate(
      { certPem: ca.intermediateCertPem, keyPem: ca.intermediateKeyPem },
      csrPem,
      options,
    );
  } catch (err) {
    throw new ClusterError('BAD_CERTIFICATE_REQUEST', (err as Error).message);
  }
  return { certificate: chainPem(leaf, ...chainAbove(ca)), ca: ca.rootCertPem };
}

export interface JoinCertificateRequest {
  readonly id: string;
  readonly host: string;
  /** More names and addresses the node is reached at (its API's, its machine name). */
  readonly hosts?: readonly string[];
  readonly csr: string;
}

/** Signing a joining controller's CSR, for the API (it knows the members). */
export interface CertificateAuthority {
  /** Signs a joining node's CSR; a node that is already a member is refused (409). */
  issueForJoin(request: JoinCertificateRequest): Promise<IssuedCertificate>;
  /**
   * The write that rotates the intermediate, under a new root with `newRoot`
   * (cluster/ca-rotation.ts); NO_ROOT_KEY where the root key is not.
   */
  rotateIntermediate(now: Date, newRoot?: boolean): Promise<Rotation>;
  /** The write that retires earlier intermediates; ROTATION_UNFINISHED while a member has not renewed. */
  finishRotation(now: Date): SingleCommand;
}

export function createCertificateAuthority(o: {
  readonly clusterId: string;
  /** This node's data directory: the root key, where this node bootstrapped the cluster. */
  readonly dataDir: string;
  readonly db: () => ModelDatabase;
  /** The current members' ids. */
  readonly members: () => readonly string[];
}): CertificateAuthority {
  return {
    async issueForJoin(request) {
      if (o.members().includes(request.id)) {
        throw new ClusterError(
          'MEMBERSHIP_CONFLICT',
          `${request.id} is already a member and keeps its certificate`,
        );
      }
      const hosts = [...new Set([request.host, ...(request.hosts ?? [])])];
      const name = { clusterId: o.clusterId, nodeId: request.id, hosts };
      return issueControllerCertificate(o.db(), name, request.csr);
    },
    rotateIntermediate: (now, newRoot) =>
      intermediateRotation(o.dataDir, requireClusterCa(o.db()), o.clusterId, now, newRoot),
    finishRotation: (now) => rotationFinish(o.db(), requireClusterCa(o.db()), o.members(), now),
  };
}
