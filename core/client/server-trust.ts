/**
 * How a client trusts a node's API. Plain HTTP is only ever loopback (the node refuses anything
 * else); HTTPS is verified against the cluster root CA, which the client has in one of three ways:
 * a file it was given (`--ca`, the data dir's tls/ca.pem), or the CA's SHA-256 fingerprint
 * (`--ca-fingerprint`, a join token), in which case it fetches the CA once and keeps it only if the
 * fingerprint matches, as kubeadm's `--discovery-token-ca-cert-hash` does. Nothing skips
 * verification: the one unverified request fetches a public document whose content is then pinned.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { clusterCa } from '../../contract/index.js';
import { fingerprint } from '../pki/ca.js';
import type { Fetch } from '../../client/api-client.js';

export type { Fetch } from '../../client/api-client.js';

/** A fetch that trusts exactly this root CA (PEM) for https: URLs and nothing else. */
export function fetchTrusting(ca: string): Fetch {
  return fetchWith(new Agent({ connect: { ca, rejectUnauthorized: true } }));
}

/** The CA a node presented is not the one the client was told to expect: never worth a retry. */
export class UntrustedCaError extends Error {
  override readonly name = 'UntrustedCaError';
}

/**
 * The cluster root CA that `origin` presents at GET /api/v1/cluster/ca, kept only if its SHA-256
 * fingerprint is the one expected (colons and case do not matter). Throws UntrustedCaError when it is
 * not, and a plain error when the node does not answer it (yet).
 */
export async function pinnedCa(
  origin: string,
  expected: { readonly fingerprint: string; readonly from: string },
  timeoutMs = 30_000,
): Promise<string> {
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    const response = await fetchWith(agent)(`${origin}/api/v1/cluster/ca`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`it answered ${response.status}`);
    const answer = clusterCa.safeParse(await response.json().catch(() => undefined));
    const ca = answer.success ? answer.data.certificate : undefined;
    if (!ca || !sameFingerprint(fingerprint(ca), expected.fingerprint)) {
      throw new UntrustedCaError(
        `${origin} presents a cluster CA whose fingerprint is ${ca ? fingerprint(ca) : 'unreadable'}, not ${expected.from} ${expected.fingerprint}: refusing to trust it`,
      );
    }
    return ca;
  } finally {
    await agent.close();
  }
}

function sameFingerprint(a: string, b: string): boolean {
  return a.replace(/:/g, '').toUpperCase() === b.replace(/:/g, '').toUpperCase();
}

function fetchWith(dispatcher: Agent): Fetch {
  // undici's own fetch: the global one cannot take a dispatcher from another undici version.
  return (url, init) => undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}
