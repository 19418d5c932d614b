/**
 * Joining an existing cluster (`meshdesk start --join URL`): learn the cluster's id from a
 * member's `/health` once it says up, make a key and send a CSR for this node's certificate (the
 * member signs it with the cluster's intermediate CA), start this node's listener with it, then
 * ask that member to add it. Both requests are signed with the cluster secret
 * (core/api/cluster-auth.ts), since a new node has no admin token; the member forwards the add to
 * the leader, which adds the node as a learner and promotes it to voter once it has caught up
 * (core/cluster/ops.ts).
 */
import { issuedCertificate } from '../../contract/index.js';
import { signClusterRequest } from '../api/cluster-auth.js';
import { certificatesOf, fingerprint, spiffeId, spiffeIdsOf, verifyChain } from '../pki/ca.js';
import type { IssuedCertificate } from './cluster-ca.js';

export interface JoinTarget {
  /** Base URL of any member's API, e.g. http://10.0.0.5:8440 */
  readonly url: string;
  readonly secret: string;
  /** How long to keep trying (the member may still be starting). Default 30 s. */
  readonly timeoutMs?: number;
}

export interface PreparedJoin extends JoinTarget {
  readonly clusterId: string;
}

export interface JoinRequest {
  readonly id: string;
  readonly name: string;
  /** host:port of this node's cluster listener, as the others reach it. */
  readonly address: string;
  readonly apiUrl: string;
}

export async function prepareJoin(target: JoinTarget): Promise<PreparedJoin> {
  const base = apiBase(target.url);
  const health = (await retrying(target, async () => {
    const response = await fetch(`${base}/health`);
    // Only 200 is up: a member still starting (503 `starting`) is waited for like one still down.
    if (!response.ok) {
      const body = (await response.json().catch(() => undefined)) as { status?: unknown } | undefined;
      const why = body?.status === 'starting' ? 'it is still starting' : `answered ${response.status}`;
      throw new Error(`${base}/health ${why}`);
    }
    return response.json();
  })) as { clusterId?: unknown };
  if (typeof health.clusterId !== 'string' || health.clusterId === '') {
    throw new Error(`${target.url} did not say which cluster it belongs to`);
  }
  return { ...target, clusterId: health.clusterId };
}

export interface CertificateRequest {
  readonly id: string;
  /** The host (name or IP) others reach this node at: its certificate's SAN. */
  readonly host: string;
  readonly csr: string;
}

/**
 * Asks the member to sign this node's CSR. The answer is checked before it is trusted: the chain
 * must hold together up to the root it came with and name this node of this cluster. (Which root
 * to trust is what the join token will pin; until then the caller logs its fingerprint.)
 */
export async function requestCertificate(
  join: PreparedJoin,
  request: CertificateRequest,
): Promise<IssuedCertificate & { readonly fingerprint: string }> {
  const { body } = await signedPost(join, '/cluster/certificates', request, {
    what: 'sign this node’s certificate',
    timeoutMs: 30_000,
  });
  const answer = issuedCertificate.safeParse(body);
  if (!answer.success) throw new Error(`${join.url} answered the certificate request with something else`);
  const { certificate, ca } = answer.data;
  const [leaf, intermediate] = certificatesOf(certificate);
  const expected = spiffeId(join.clusterId, 'controller', request.id);
  if (
    !leaf ||
    !intermediate ||
    !verifyChain(leaf, intermediate, ca) ||
    !spiffeIdsOf(leaf).includes(expected)
  ) {
    throw new Error(`${join.url} answered with a certificate that is not ${expected} from its CA`);
  }
  return { certificate, ca, fingerprint: fingerprint(ca) };
}

/** Asks the member to add this node; resolves once the leader has made it a voter. */
export async function requestMembership(join: PreparedJoin, member: JoinRequest): Promise<{ index: number }> {
  // Promotion waits for this node to catch up, which may take a while on a large model.
  const { body, headers } = await signedPost(join, '/cluster/members', member, {
    what: 'add this node',
    timeoutMs: 120_000,
  });
  const index = Number(headers.get('x-raft-index') ?? (body as { index?: unknown }).index ?? 0);
  return { index: Number.isFinite(index) ? index : 0 };
}

/**
 * A POST signed with the cluster secret; a refusal becomes an error naming what was asked and the
 * member's reason.
 */
async function signedPost(
  join: PreparedJoin,
  path: string,
  payload: unknown,
  ask: { readonly what: string; readonly timeoutMs: number },
): Promise<{ body: unknown; headers: Headers }> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${apiBase(join.url)}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: signClusterRequest(join.secret, body) },
    body,
    signal: AbortSignal.timeout(ask.timeoutMs),
  });
  const answer = (await response.json().catch(() => ({}))) as { detail?: unknown; title?: unknown };
  if (!response.ok) {
    const why =
      typeof answer.detail === 'string' ? answer.detail : String(answer.title ?? response.statusText);
    throw new Error(`${join.url} refused to ${ask.what} (${response.status}): ${why}`);
  }
  return { body: answer, headers: response.headers };
}

function apiBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--join needs a member's API URL such as http://10.0.0.5:8440, not '${url}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`--join needs an http(s) URL, not '${url}'`);
  }
  return `${parsed.origin}/api/v1`;
}

/** Retries while the member is unreachable (connection refused), up to the target's timeout. */
async function retrying<T>(target: JoinTarget, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (target.timeoutMs ?? 30_000);
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() + delay >= deadline)
        throw new Error(`cannot reach ${target.url}: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
