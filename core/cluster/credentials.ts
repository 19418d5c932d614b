/**
 * A controller's own TLS credentials in its data directory, `tls/` (0700): its private key
 * `node.key` (0600; it never leaves this directory), its chain `node.pem` (leaf + intermediate)
 * and the cluster root CA `ca.pem` it trusts. The bootstrap node also keeps the root CA's key,
 * `ca-root.key` (0600), which signs nothing day to day, and the keys of roots it made later
 * (`rotate-ca --new-root`), `ca-root-<fingerprint>.key`. Each file is written durably
 * (files.ts's writeDurably), so a crash leaves the old file or the new one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readOptional, writeDurably } from '../files.js';
import { fingerprint, keyMatches } from '../pki/ca.js';
import type { PeerTls } from '../transport/types.js';

const DIR = 'tls';
const KEY = 'node.key';
const CERT = 'node.pem';
const CA = 'ca.pem';
const ROOT_KEY = 'ca-root.key';

export function credentialsDir(dataDir: string): string {
  return join(dataDir, DIR);
}

/** The cluster root CA a node trusts, as a file: what a CLI beside the node verifies its API with. */
export function clusterCaFile(dataDir: string): string {
  return join(credentialsDir(dataDir), CA);
}

/** The stored credentials, or undefined when the node has none. */
export async function loadCredentials(dataDir: string): Promise<PeerTls | undefined> {
  const dir = credentialsDir(dataDir);
  const cert = await readOptional(join(dir, CERT));
  if (cert === undefined) return undefined;
  const [key, ca] = await Promise.all([readFile(join(dir, KEY), 'utf8'), readFile(join(dir, CA), 'utf8')]);
  return { key, cert, ca };
}

/** Writes key, CA and chain; the chain last, since its presence means "has credentials". */
export async function saveCredentials(dataDir: string, credentials: PeerTls): Promise<void> {
  const dir = await ensureDir(dataDir);
  await writeDurably(join(dir, KEY), credentials.key, 0o600);
  // Certificates are public, but the data dir is the owner's alone: one rule for every file in it.
  await writeDurably(join(dir, CA), credentials.ca, 0o600);
  await writeDurably(join(dir, CERT), credentials.cert, 0o600);
}

/** The key of root `rootCertPem`, on the node that made it; undefined elsewhere. */
export async function loadRootKey(dataDir: string, rootCertPem: string): Promise<string | undefined> {
  for (const file of [rootKeyFile(rootCertPem), ROOT_KEY]) {
    const key = await readOptional(join(credentialsDir(dataDir), file));
    if (key !== undefined && keyMatches(key, rootCertPem)) return key;
  }
  return undefined;
}

/** Keeps a root's key: the bootstrap's as `ca-root.key`, a later root's (`certPem`) by fingerprint. */
export async function saveRootKey(dataDir: string, keyPem: string, certPem?: string): Promise<void> {
  const file = certPem === undefined ? ROOT_KEY : rootKeyFile(certPem);
  await writeDurably(join(await ensureDir(dataDir), file), keyPem, 0o600);
}

function rootKeyFile(certPem: string): string {
  return `ca-root-${fingerprint(certPem).replaceAll(':', '').toLowerCase()}.key`;
}

async function ensureDir(dataDir: string): Promise<string> {
  const dir = credentialsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
