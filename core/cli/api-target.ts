/**
 * Where the CLI's `--api` points and how it trusts it. A loopback node may be plain HTTP; any
 * other node speaks HTTPS, verified against the cluster CA from `--ca FILE`, from
 * `--ca-fingerprint SHA256` (the CA is fetched once and kept only if it matches), or from the
 * data directory of a node on this machine (`tls/ca.pem`). Without one of those the command stops
 * with one line saying so: verification is never skipped, and credentials never go out in clear.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fetchTrusting, pinnedCa, type Fetch } from '../client/server-trust.js';
import { clusterCaFile } from '../cluster/credentials.js';
import { defaultDataDir } from '../files.js';
import { isLoopback } from '../hosts.js';
import { certificatesOf } from '../pki/ca.js';
import { httpUrl, text, UsageError } from './args.js';

export const DEFAULT_API = 'http://127.0.0.1:8440';

/** parseArgs options every command with `--api` takes. */
export const TRUST_OPTIONS = {
  ca: { type: 'string' },
  'ca-fingerprint': { type: 'string' },
} as const;

export const TRUST_USAGE = `  --ca FILE        the cluster CA that an https:// --api is verified with (default: the
                   data directory's tls/ca.pem, when a node of the cluster runs here)
  --ca-fingerprint SHA256
                   or the CA's SHA-256 fingerprint ('meshdesk cluster ca' prints it)`;

export interface ApiTarget {
  /** The node's origin, e.g. https://10.0.0.5:8440 */
  readonly url: string;
  readonly fetch: Fetch;
}

export async function apiTarget(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Promise<ApiTarget> {
  const url = httpUrl('api', text(values, 'api') ?? DEFAULT_API);
  const { protocol, hostname, host } = new URL(url);
  if (protocol === 'http:') {
    if (!isLoopback(hostname)) {
      throw new UsageError(
        `--api ${url} is plain HTTP beyond loopback, which would send credentials in clear; nodes there serve HTTPS (https://${host})`,
      );
    }
    return { url, fetch: (input, init) => fetch(input, init) };
  }
  return { url, fetch: fetchTrusting(await clusterCa(url, values, env)) };
}

async function clusterCa(
  url: string,
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const file = text(values, 'ca');
  const expected = text(values, 'ca-fingerprint');
  if (file !== undefined && expected !== undefined) {
    throw new UsageError('--ca and --ca-fingerprint exclude each other');
  }
  if (file !== undefined) return readCa(file, '--ca');
  if (expected !== undefined) {
    if (!/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/.test(expected)) {
      throw new UsageError(`--ca-fingerprint must be a SHA-256 fingerprint (64 hex digits, colons optional)`);
    }
    return pinnedCa(url, { fingerprint: expected, from: 'the --ca-fingerprint' });
  }
  const beside = clusterCaFile(env.MESHDESK_DATA_DIR || defaultDataDir(env));
  if (existsSync(beside)) return readCa(beside, 'the data directory');
  throw new UsageError(
    `${url} is HTTPS and there is no cluster CA to verify it with: pass --ca FILE or --ca-fingerprint SHA256 ('meshdesk cluster ca' on a member prints both)`,
  );
}

async function readCa(file: string, from: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file} (${from}): ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (certificatesOf(pem).length === 0) throw new Error(`${file} (${from}) holds no PEM certificate`);
  return pem;
}
