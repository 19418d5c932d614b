/**
 * The cluster PKI: a root CA (its key stays with the bootstrap node, offline from then on), an
 * intermediate CA that the controllers share to sign with, and leaf certificates naming their
 * holder by SPIFFE id (`spiffe://<cluster-id>/<kind>/<id>`), good for both ends of mutual TLS.
 * Keys are EC P-256, signatures ECDSA with SHA-256; everything crosses this module as PEM.
 */
// @peculiar/x509 declares its ASN.1 schemas with decorators that read reflect metadata.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { isIP } from 'node:net';
import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  webcrypto,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';

// Node's own WebCrypto, set once, so the library never depends on what globalThis offers.
x509.cryptoProvider.set(webcrypto as unknown as typeof globalThis.crypto);

export interface CertifiedKey {
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
}

export interface ClusterCa {
  readonly root: CertifiedKey;
  readonly intermediate: CertifiedKey;
}

export type CertKind = 'controller' | 'router' | 'identity';

const KINDS: readonly CertKind[] = ['controller', 'router', 'identity'];
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates start a little in the past, so a peer whose clock runs behind accepts them at once. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const ROOT_DAYS = 3650;
const LEAF_DAYS = 90;

export interface CaOptions {
  readonly now?: Date;
  /** The root's validity (default 10 years); the intermediate gets half of it. */
  readonly validityDays?: number;
}

/**
 * A root's path length: it signs intermediates (which sign only leaves) and, once, the next
 * root, whose cross-certificate sits between it and that root's intermediates (crossCertify).
 */
const ROOT_PATH_LENGTH = 2;

export async function createClusterCa(clusterId: string, options: CaOptions = {}): Promise<ClusterCa> {
  const now = options.now ?? new Date();
  const rootDays = options.validityDays ?? ROOT_DAYS;
  const root = await createRoot(`meshdesk root CA ${clusterId}`, now, rootDays);
  return {
    root,
    intermediate: await createIntermediate(clusterId, root, { now, validityDays: rootDays / 2 }),
  };
}

/**
 * A new root for a cluster that has one (`meshdesk cluster rotate-ca --new-root`): named apart
 * from the earlier ones (its creation time), so that no chain builder confuses them.
 */
export function createNextRoot(clusterId: string, options: CaOptions = {}): Promise<CertifiedKey> {
  const now = options.now ?? new Date();
  return createRoot(
    `meshdesk root CA ${clusterId} ${now.toISOString()}`,
    now,
    options.validityDays ?? ROOT_DAYS,
  );
}

async function createRoot(commonName: string, now: Date, days: number): Promise<CertifiedKey> {
  const rootKeys = await generateKeys();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    keys: rootKeys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, ROOT_PATH_LENGTH, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  return { certPem: pem(root.toString('pem')), keyPem: await privateKeyPem(rootKeys.privateKey) };
}

/** Whether `rootPem` may vouch for a next root (roots made before version 14 allowed no room). */
export function canCrossCertify(rootPem: string): boolean {
  const constraints = new x509.X509Certificate(rootPem).getExtension(x509.BasicConstraintsExtension);
  return constraints?.pathLength === undefined || constraints.pathLength >= ROOT_PATH_LENGTH;
}

/**
 * `next` (a root) certified by `current` (the root everyone trusts now): the same name and key
 * as `next`, issued by `current`. Carried at the end of chains while a new root is introduced,
 * so that a party that trusts only `current` verifies leaf ← intermediate ← cross ← current,
 * and one that trusts `next` stops at it: nobody needs both roots at once.
 */
export async function crossCertify(next: string, current: CertifiedKey): Promise<string> {
  const subject = new x509.X509Certificate(next);
  const issuer = new x509.X509Certificate(current.certPem);
  const cross = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subject.subjectName,
    issuer: issuer.subjectName,
    notBefore: subject.notBefore,
    notAfter: new Date(Math.min(subject.notAfter.getTime(), issuer.notAfter.getTime())),
    publicKey: subject.publicKey,
    signingKey: await importPrivateKey(current.keyPem),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      // Below it: the next root's intermediates, and their leaves.
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(await subject.publicKey.export()),
      authorityKeyId(issuer),
    ],
  });
  if (!(await cross.verify({ publicKey: issuer.publicKey, signatureOnly: true }))) {
    throw new Error('the root key does not match the root certificate');
  }
  return pem(cross.toString('pem'));
}

/**
 * A new intermediate CA signed by `root` (at bootstrap, and when the intermediate is rotated:
 * leaves it signs chain to the same root, so nothing that trusts the root needs to change).
 * Valid for `validityDays` (default 5 years), never beyond the root.
 */
export async function createIntermediate(
  clusterId: string,
  root: CertifiedKey,
  options: CaOptions = {},
): Promise<CertifiedKey> {
  const now = options.now ?? new Date();
  const rootCert = new x509.X509Certificate(root.certPem);
  const wanted = now.getTime() + (options.validityDays ?? ROOT_DAYS / 2) * DAY_MS;
  const intermediateKeys = await generateKeys();
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [`meshdesk intermediate CA ${clusterId}`] }],
    issuer: rootCert.subjectName,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(Math.min(wanted, rootCert.notAfter.getTime())),
    publicKey: intermediateKeys.publicKey,
    signingKey: await importPrivateKey(root.keyPem),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey),
      authorityKeyId(rootCert),
    ],
  });
  // A root key that is not the root certificate's would make an intermediate nobody trusts.
  if (!(await intermediate.verify({ publicKey: rootCert.publicKey, signatureOnly: true }))) {
    throw new Error('the root key does not match the root certificate');
  }
  return {
    certPem: pem(intermediate.toString('pem')),
    keyPem: await privateKeyPem(intermediateKeys.privateKey),
  };
}

/** A fresh key and a request for it; the key never leaves the node that made it. */
export async function createKeyAndCsr(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await generateKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName] }],
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
  });
  return { keyPem: await privateKeyPem(keys.privateKey), csrPem: pem(csr.toString('pem')) };
}

export interface IssueOptions {
  readonly clusterId: string;
  readonly kind: CertKind;
  readonly id: string;
  /** Addresses the holder is reached at: IP literals become IP SANs, the rest DNS SANs. */
  readonly hosts?: readonly string[];
  readonly validityDays?: number;
  readonly now?: Date;
}

/**
 * Signs a leaf for the CSR's key. The names come from `options` alone: what the requester asked
 * to be called is ignored, so the caller decides (after its own checks) who the holder is.
 */
export async function issueCertificate(
  issuer: CertifiedKey,
  csrPem: string,
  options: IssueOptions,
): Promise<string> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (cause) {
    throw new Error('the certificate request is not a PKCS#10 request', { cause });
  }
  // Proof that the requester holds the key it asks us to certify.
  if (!(await csr.verify())) throw new Error("the certificate request's signature does not verify");

  const issuerCert = new x509.X509Certificate(issuer.certPem);
  const now = options.now ?? new Date();
  const names: x509.JsonGeneralName[] = [
    { type: 'url', value: spiffeId(options.clusterId, options.kind, options.id) },
  ];
  for (const host of options.hosts ?? []) names.push({ type: isIP(host) ? 'ip' : 'dns', value: host });

  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [options.id] }],
    issuer: issuerCert.subjectName,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + (options.validityDays ?? LEAF_DAYS) * DAY_MS),
    publicKey: csr.publicKey,
    signingKey: await importPrivateKey(issuer.keyPem),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      authorityKeyId(issuerCert),
    ],
  });
  // Catches an issuer whose key and certificate do not belong together before anyone trusts it.
  if (!(await leaf.verify({ publicKey: issuerCert.publicKey, signatureOnly: true }))) {
    throw new Error("the issuer's key does not match its certificate");
  }
  return pem(leaf.toString('pem'));
}

export function spiffeId(clusterId: string, kind: CertKind, id: string): string {
  return `spiffe://${clusterId}/${kind}/${id}`;
}

/** The URI SANs of a certificate (the first one of a chain). */
export function spiffeIdsOf(certPem: string): string[] {
  // node:crypto picks the first certificate of a chain; @peculiar/x509 reads the SANs unescaped.
  const cert = new x509.X509Certificate(new X509Certificate(certPem).raw);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return (san?.names.items ?? []).filter((name) => name.type === 'url').map((name) => name.value);
}

export function parseSpiffeId(uri: string): { clusterId: string; kind: CertKind; id: string } | undefined {
  const match = /^spiffe:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(uri);
  if (!match) return undefined;
  const [, clusterId, kind, id] = match as unknown as [string, string, string, string];
  if (!(KINDS as readonly string[]).includes(kind)) return undefined;
  return { clusterId, kind: kind as CertKind, id };
}

/** SHA-256 of the DER, "AB:CD:…" (node's X509Certificate.fingerprint256). */
export function fingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** The fingerprint of the intermediate a chain (leaf first) carries: which one signed the leaf. */
export function issuerOf(chainPem: string): string | undefined {
  const intermediate = certificatesOf(chainPem)[1];
  return intermediate ? fingerprint(intermediate) : undefined;
}

/** Whether `keyPem` (PKCS#8) is the private key of the certificate `certPem`. */
export function keyMatches(keyPem: string, certPem: string): boolean {
  try {
    const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
    return spki(createPublicKey(createPrivateKey(keyPem))).equals(
      spki(new X509Certificate(certPem).publicKey),
    );
  } catch {
    return false;
  }
}

/** Uppercase hex, as revocation lists and node:tls's peer certificates name it. */
export function serialOf(certPem: string): string {
  return new X509Certificate(certPem).serialNumber.toUpperCase();
}

/**
 * A certificate as the model records one in use: its serial, when it expires (ISO) and, of a
 * chain (leaf first), the fingerprint of the intermediate that signed it.
 */
export function enrolledCertificate(chainPem: string): {
  serial: string;
  expiresAt: string;
  issuer?: string;
} {
  const cert = new X509Certificate(chainPem);
  const issuer = issuerOf(chainPem);
  return {
    serial: cert.serialNumber.toUpperCase(),
    expiresAt: new Date(cert.validTo).toISOString(),
    ...(issuer ? { issuer } : {}),
  };
}

/** PEM text with its trailing newline, so that PEMs concatenate into a valid bundle. */
export function pem(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** A bundle, leaf first (as TLS sends a chain). */
export function chainPem(...pems: readonly string[]): string {
  return pems.map(pem).join('');
}

/** The certificates of a PEM bundle, in order, each as its own PEM. */
export function certificatesOf(bundle: string): string[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(pem);
}

/**
 * Whether leaf ← intermediate ← root hold together at `now`: names and key ids match, each
 * signature verifies, the CAs are CAs and the leaf is not, and all are within validity. `cas`
 * are the CA certificates a chain carries after its leaf (a list or a PEM bundle): the
 * intermediate and, while a new root is introduced, the cross-certificate (crossCertify) that
 * links it to `rootPem`; the chain ends at the first certificate `rootPem` issued.
 */
export function verifyChain(
  leafPem: string,
  cas: string | readonly string[],
  rootPem: string,
  now: Date = new Date(),
): boolean {
  try {
    const leaf = new X509Certificate(leafPem);
    const root = new X509Certificate(rootPem);
    const t = now.getTime();
    const current = (c: X509Certificate) => Date.parse(c.validFrom) <= t && t <= Date.parse(c.validTo);
    const issued = (child: X509Certificate, parent: X509Certificate) =>
      parent.ca && child.checkIssued(parent) && child.verify(parent.publicKey) && current(parent);
    const above = typeof cas === 'string' ? certificatesOf(cas) : cas;
    if (!root.ca || !issued(root, root) || leaf.ca || !current(leaf) || above.length === 0) return false;
    let child = leaf;
    for (const pem of above) {
      const parent = new X509Certificate(pem);
      if (!issued(child, parent)) return false;
      if (issued(parent, root)) return true;
      child = parent;
    }
    return false;
  } catch {
    return false; // not a certificate at all
  }
}

function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  // Extractable, since the private key is handed out as PKCS#8.
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return pem(x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY'));
}

function importPrivateKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), KEY_ALGORITHM, false, [
    'sign',
  ]);
}

/** 16 random bytes, the top bit clear (a positive INTEGER) and the next set (no leading zero). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/** The issuer's own subject key id, so that the two always match (RFC 5280 4.2.1.1). */
function authorityKeyId(issuer: x509.X509Certificate): x509.AuthorityKeyIdentifierExtension {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error('the issuer certificate has no subject key identifier');
  return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
}
