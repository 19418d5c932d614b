/**
 * Joining an existing cluster with a one-time join token (`meshdesk start --join TOKEN`). The
 * token names the member to ask, the cluster and the SHA-256 fingerprint of its root CA; the
 * joiner trusts nothing it has not been told by it:
 *   1. fetch the member's root CA and pin it only if its fingerprint is the token's (the one
 *      request whose TLS is not verified: its answer is checked instead); from here on every
 *      request to an HTTPS member is verified against that CA;
 *   2. wait for the member's `/health` to say up, in the token's cluster;
 *   3. spend the token for this node's certificate (`POST /cluster/join` with a CSR; the key stays
 *      here) and check the answer chains to the pinned root and names this node;
 *   4. once this node's listener runs with that certificate, ask to be added as a member with a
 *      request signed by its own key (node-signature.ts); the leader adds it as a learner and
 *      promotes it to voter once it has caught up (core/cluster/ops.ts).
 * The token is a credential: it is sent once, to the member it names, and never logged.
 */
import { ApiClient } from '../../client/api-client.js';
import { ApiError } from '../../client/problem.js';
import { issuedCertificate } from '../../contract/index.js';
import { fetchTrusting, pinnedCa, UntrustedCaError } from '../client/server-trust.js';
import { certificatesOf, fingerprint, spiffeId, spiffeIdsOf, verifyChain } from '../pki/ca.js';
import type { InvitationKind } from '../model/commands.js';
import type { IssuedCertificate } from './cluster-ca.js';
import { parseJoinToken, signedBy } from './join-token.js';
import { signNodeRequest, type NodeKey } from './node-signature.js';

export interface JoinTarget {
  /** The join token from `meshdesk cluster invite` (or the Cluster page's "Invite a member"). */
  readonly token: string;
  /** How long to keep trying (the member may still be starting). Default 30 s. */
  readonly timeoutMs?: number;
}

export interface PreparedJoin {
  readonly token: string;
  /** The member's API origin, from the token, e.g. http://10.0.0.5:8440 */
  readonly member: string;
  readonly clusterId: string;
  /** The cluster root CA, PEM, pinned by the token's fingerprint. */
  readonly ca: string;
  /** The member's API, an HTTPS member verified against `ca`. */
  readonly api: ApiClient;
  readonly timeoutMs: number;
}

export interface JoinRequest {
  readonly id: string;
  readonly name: string;
  /** host:port of this node's cluster listener, as the others reach it. */
  readonly address: string;
  readonly apiUrl: string;
}

/**
 * Reads the token, waits for its member and pins the cluster's CA; throws one line on any doubt.
 * `resume` finishes a join whose token was already spent for this node's certificate, so the
 * token's expiry no longer matters.
 */
export async function prepareJoin(
  target: JoinTarget,
  options: { readonly now?: number; readonly resume?: boolean; readonly kind?: InvitationKind } = {},
): Promise<PreparedJoin> {
  const { payload } = parseJoinToken(target.token);
  const kind = options.kind ?? 'controller';
  if (payload.kind !== kind) {
    throw new Error(`this token is for a ${payload.kind}, not a ${kind}`);
  }
  if (!options.resume && Date.parse(payload.expiresAt) <= (options.now ?? Date.now())) {
    throw new Error(
      `the ${kind === 'router' ? 'enrollment' : 'join'} token expired at ${payload.expiresAt}: ask an admin for a new one (${kind === 'router' ? "'meshdesk router invite'" : "'meshdesk cluster invite'"})`,
    );
  }
  const member = new URL(payload.member).origin;
  const timeoutMs = target.timeoutMs ?? 30_000;
  const ca = await retrying(member, timeoutMs, () =>
    pinnedCa(member, { fingerprint: payload.caFingerprint, from: "the join token's" }),
  );
  const api = new ApiClient({ baseUrl: member, fetch: fetchTrusting(ca) });
  const health = await retrying(member, timeoutMs, async () => {
    const answer = await api.health();
    // Only up counts: a member still starting is waited for like one still down.
    if (answer.status === 'starting') throw new Error('it is still starting');
    return answer;
  });
  if (health.clusterId !== payload.clusterId) {
    throw new Error(
      `${member} belongs to cluster ${String(health.clusterId)}, but the join token is for ${payload.clusterId}`,
    );
  }
  return { token: target.token, member, clusterId: payload.clusterId, ca, api, timeoutMs };
}

export interface CertificateRequest {
  readonly id: string;
  /** The host (name or IP) others reach this node at: its certificate's SAN. */
  readonly host: string;
  /** More names and addresses for the certificate (the API's, the machine's name). */
  readonly hosts?: readonly string[];
  readonly csr: string;
}

/**
 * Spends the token for this node's certificate. The answer is trusted only if its chain holds
 * together up to the pinned root, names this node of this cluster, and its intermediate signed
 * the token (so the member that answered is the cluster that invited).
 */
export async function requestCertificate(
  join: PreparedJoin,
  request: CertificateRequest,
): Promise<IssuedCertificate & { readonly fingerprint: string }> {
  const answer = await ask(join, 'accept the join token', () =>
    join.api.send(
      {
        method: 'POST',
        path: '/cluster/join',
        body: { token: join.token, ...request },
        auth: false,
        timeoutMs: 30_000,
      },
      issuedCertificate,
    ),
  );
  const { certificate } = answer.body;
  const [leaf, intermediate, ...above] = certificatesOf(certificate);
  const expected = spiffeId(join.clusterId, 'controller', request.id);
  if (
    !leaf ||
    !intermediate ||
    !verifyChain(leaf, [intermediate, ...above], join.ca) ||
    !spiffeIdsOf(leaf).includes(expected) ||
    !signedBy(parseJoinToken(join.token), intermediate)
  ) {
    throw new Error(`${join.member} answered with a certificate that is not ${expected} from the pinned CA`);
  }
  return { certificate, ca: join.ca, fingerprint: fingerprint(join.ca) };
}

/** Asks the member to add this node, signed by its new key; resolves once the leader made it a voter. */
export async function requestMembership(
  join: PreparedJoin,
  member: JoinRequest,
  key: NodeKey,
): Promise<{ index: number }> {
  const path = '/cluster/members';
  // The signature covers the body exactly as it is sent (JSON.stringify of the same object).
  const signature = signNodeRequest(key, {
    method: 'POST',
    path: `/api/v1${path}`,
    body: JSON.stringify(member),
  });
  // Promotion waits for this node to catch up, which may take a while on a large model.
  const answer = await ask(join, 'add this node', () =>
    join.api.send<{ index?: unknown }>({
      method: 'POST',
      path,
      body: member,
      headers: signature,
      auth: false,
      timeoutMs: 120_000,
    }),
  );
  const index = answer.raftIndex ?? Number(answer.body.index ?? 0);
  return { index: Number.isFinite(index) ? index : 0 };
}

/** A request to the member; a refusal becomes one line naming what was asked and the member's reason. */
export async function ask<R>(join: PreparedJoin, what: string, send: () => Promise<R>): Promise<R> {
  try {
    return await send();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.kind === 'network')
      throw new Error(`cannot reach ${join.member} to ${what}: ${err.problem.detail}`);
    const why = err.problem.detail ?? err.problem.title;
    throw new Error(`${join.member} refused to ${what} (${err.status}): ${why}`);
  }
}

/** Retries while the member is unreachable or starting, up to `timeoutMs`. */
async function retrying<T>(member: string, timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof UntrustedCaError) throw err;
      if (Date.now() + delay >= deadline) {
        const cause =
          err instanceof ApiError
            ? (err.problem.detail ?? err.message)
            : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
        throw new Error(`cannot reach ${member}, the member the join token names: ${cause}`);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
