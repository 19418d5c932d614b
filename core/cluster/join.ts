/**
 * Joining an existing cluster (`meshdesk start --join URL`): learn the cluster's id from a
 * member's `/health` once it says up, start this node's listener, then ask that member to add it.
 * The request is signed with the cluster secret (core/api/cluster-auth.ts), since a new node has
 * no admin token; the member forwards it to the leader, which adds the node as a learner and
 * promotes it to voter once it has caught up (core/cluster/ops.ts).
 */
import { signClusterRequest } from '../api/cluster-auth.js';

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

/** Asks the member to add this node; resolves once the leader has made it a voter. */
export async function requestMembership(join: PreparedJoin, member: JoinRequest): Promise<{ index: number }> {
  const base = apiBase(join.url);
  const body = JSON.stringify(member);
  // Promotion waits for this node to catch up, which may take a while on a large model.
  const response = await fetch(`${base}/cluster/members`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: signClusterRequest(join.secret, body) },
    body,
    signal: AbortSignal.timeout(120_000),
  });
  const answer = (await response.json().catch(() => ({}))) as {
    index?: unknown;
    detail?: unknown;
    title?: unknown;
  };
  if (!response.ok) {
    const why =
      typeof answer.detail === 'string' ? answer.detail : String(answer.title ?? response.statusText);
    throw new Error(`${join.url} refused to add this node (${response.status}): ${why}`);
  }
  const index = Number(response.headers.get('x-raft-index') ?? answer.index ?? 0);
  return { index: Number.isFinite(index) ? index : 0 };
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
