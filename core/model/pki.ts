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
} as const;

export interface ClusterCaRecord {
  readonly rootCertPem: string;
  readonly intermediateCertPem: string;
  readonly intermediateKeyPem: string;
}

/** The cluster CA, or undefined until all three settings exist. */
export function readClusterCa(db: ModelDatabase): ClusterCaRecord | undefined {
  const rootCertPem = readSetting(db, PKI_SETTINGS.rootCert);
  const intermediateCertPem = readSetting(db, PKI_SETTINGS.intermediateCert);
  const intermediateKeyPem = readSetting(db, PKI_SETTINGS.intermediateKey);
  if (rootCertPem === undefined || intermediateCertPem === undefined || intermediateKeyPem === undefined) {
    return undefined;
  }
  return { rootCertPem, intermediateCertPem, intermediateKeyPem };
}
