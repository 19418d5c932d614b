/**
 * The cluster CA as the replicated model holds it: the root certificate, the intermediate's
 * certificate and the intermediate's private key (PEM, in cluster settings written by the
 * bootstrap node's first batch), so that any member can sign a joining node's certificate and
 * renew its own. The root CA's key is never in the model (it stays on the bootstrap node's disk).
 */
import type { ModelDatabase } from './database.js';
import { readSetting } from './settings.js';

/** The settings that hold the cluster CA (PEM text). */
export const PKI_SETTINGS = {
  rootCert: 'pki.rootCert',
  intermediateCert: 'pki.intermediateCert',
  intermediateKey: 'pki.intermediateKey',
  /** JSON: fingerprints of earlier intermediates still trusted until a rotation is finished. */
  previousIntermediates: 'pki.previousIntermediates',
  /** A new root being introduced (`rotate-ca --new-root`): it becomes `rootCert` when finished. */
  nextRootCert: 'pki.nextRootCert',
  /**
   * The latest new root certified by the root before it: carried at the end of chains (during
   * the change, and after it for those that were away), until the next new root replaces it.
   */
  crossCert: 'pki.crossCert',
} as const;

export interface ClusterCaRecord {
  /** The root everyone trusts now. */
  readonly rootCertPem: string;
  readonly intermediateCertPem: string;
  readonly intermediateKeyPem: string;
  /** While a new root is introduced: that root, which signed the intermediate. */
  readonly nextRootCertPem?: string;
  /** The latest new root's certificate from the root before it, which chains carry last. */
  readonly crossCertPem?: string;
}

/** The cluster CA, or undefined until all three settings exist. */
export function readClusterCa(db: ModelDatabase): ClusterCaRecord | undefined {
  const rootCertPem = readSetting(db, PKI_SETTINGS.rootCert);
  const intermediateCertPem = readSetting(db, PKI_SETTINGS.intermediateCert);
  const intermediateKeyPem = readSetting(db, PKI_SETTINGS.intermediateKey);
  if (rootCertPem === undefined || intermediateCertPem === undefined || intermediateKeyPem === undefined) {
    return undefined;
  }
  const nextRootCertPem = readSetting(db, PKI_SETTINGS.nextRootCert);
  const crossCertPem = readSetting(db, PKI_SETTINGS.crossCert);
  return {
    rootCertPem,
    intermediateCertPem,
    intermediateKeyPem,
    ...(nextRootCertPem !== undefined ? { nextRootCertPem } : {}),
    ...(crossCertPem !== undefined ? { crossCertPem } : {}),
  };
}

/** The CA certificates a chain the model's intermediate signs carries after its leaf. */
export function chainAbove(ca: ClusterCaRecord): string[] {
  return ca.crossCertPem === undefined ? [ca.intermediateCertPem] : [ca.intermediateCertPem, ca.crossCertPem];
}

/** The root that signs intermediates now: the one being introduced, else the one trusted. */
export function signingRoot(ca: ClusterCaRecord): string {
  return ca.nextRootCertPem ?? ca.rootCertPem;
}
