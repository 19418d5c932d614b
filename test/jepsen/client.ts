/**
 * The workloads' view of the API: one keep-alive HttpNode per node, one admin session for the run
 * (the token signing key is replicated, so a token works on every node), and the mapping from
 * answers to the outcomes history.ts defines. Answers the contract (DESIGN.md §4) does not allow
 * are kept in the history as errors starting with CONTRACT (a 5xx other than 503/504, an ETag
 * that is not the body's revision, …) or UNEXPECTED (a 4xx no correct run produces); contract.ts
 * counts them.
 */
import { HttpNode, TransportFailure, type HttpAnswer, type RequestOptions } from './http.js';

export type Completion =
  | {
      readonly outcome: 'ok';
      readonly status: number;
      readonly output?: unknown;
      /** Set when the answer said ok but broke the contract (e.g. the ETag is not the revision). */
      readonly error?: string;
    }
  | { readonly outcome: 'fail' | 'info'; readonly status?: number; readonly error: string };

export const CONTRACT = 'CONTRACT';
export const UNEXPECTED = 'UNEXPECTED';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The run's one admin login, shared by every ApiClient of the run. */
export class Session {
  token: string | undefined;
  relogin: Promise<void> | undefined;

  constructor(readonly credentials: Credentials) {}
}

export class ApiClient {
  constructor(
    readonly nodes: readonly HttpNode[],
    readonly session: Session,
  ) {}

  /** Logs in on `preferred`, else on any node that lets us (a restarted one may lag). */
  async login(preferred = 0): Promise<void> {
    const order = [preferred, ...this.nodes.keys()].filter((n, i, all) => all.indexOf(n) === i);
    let last = 'no node answered';
    for (const n of order) {
      try {
        const answer = await this.node(n).request('POST', '/api/v1/auth/login', {
          body: this.session.credentials,
        });
        const token = (answer.json as { token?: unknown } | undefined)?.token;
        if (answer.status === 200 && typeof token === 'string') {
          this.session.token = token;
          return;
        }
        last = `node ${n} answered ${answer.status}`;
      } catch (err) {
        last = `node ${n}: ${String(err)}`;
      }
    }
    throw new Error(`login failed: ${last}`);
  }

  /**
   * An authenticated request. A 401 (a restarted node that has not replayed the key yet, say) is
   * refused before anything is proposed, so logging in again and retrying once is safe.
   */
  async call(node: number, method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const session = this.session;
    const send = (): Promise<HttpAnswer> =>
      this.node(node).request(method, `/api/v1${path}`, {
        ...options,
        headers: {
          ...options.headers,
          ...(session.token ? { authorization: `Bearer ${session.token}` } : {}),
        },
      });
    const answer = await send();
    if (answer.status !== 401) return answer;
    session.relogin ??= this.login(node).finally(() => (session.relogin = undefined));
    try {
      await session.relogin;
    } catch {
      return answer;
    }
    return send();
  }

  node(i: number): HttpNode {
    const node = this.nodes[i];
    if (!node) throw new Error(`no node ${i}`);
    return node;
  }

  close(): void {
    for (const node of this.nodes) node.close();
  }
}

function problemCode(answer: HttpAnswer): string {
  const code = (answer.json as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : `HTTP_${answer.status}`;
}

/** An answer that is not the success asked for, as history.ts maps it. */
export function refusal(answer: HttpAnswer): Completion {
  const { status } = answer;
  const code = problemCode(answer);
  // 412: a compare-and-set the state machine refused. 503/429 promise: never proposed.
  if (status === 412 || status === 503 || status === 429) return { outcome: 'fail', status, error: code };
  // 504: proposed, outcome unknown.
  if (status === 504) return { outcome: 'info', status, error: code };
  // Any other 5xx breaks the contract; it may still have happened.
  if (status >= 500) return { outcome: 'info', status, error: `${CONTRACT}: ${status} ${code}` };
  if (status === 401) return { outcome: 'fail', status, error: code };
  // A 4xx (validation, auth) is a refusal before anything applied; none is expected here.
  return { outcome: 'fail', status, error: `${UNEXPECTED}: ${status} ${code}` };
}

/** No answer: refused before sending is a certain `fail`, anything after sending `info`. */
export function lost(err: TransportFailure): Completion {
  return { outcome: err.sent ? 'info' : 'fail', error: err.code };
}

export interface Expected {
  /** The statuses that mean success (200, 201). */
  readonly ok: readonly number[];
  /** Builds the output from a success; returns an error string too when it breaks the contract. */
  readonly output: (answer: HttpAnswer) => { output?: unknown; error?: string };
}

/** One request, mapped to a Completion. */
export async function perform(
  api: ApiClient,
  node: number,
  method: string,
  path: string,
  options: RequestOptions,
  expected: Expected,
): Promise<Completion> {
  let answer: HttpAnswer;
  try {
    answer = await api.call(node, method, path, options);
  } catch (err) {
    if (err instanceof TransportFailure) return lost(err);
    throw err;
  }
  if (!expected.ok.includes(answer.status)) return refusal(answer);
  const { output, error } = expected.output(answer);
  return {
    outcome: 'ok',
    status: answer.status,
    ...(output !== undefined ? { output } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

/** The ETag must be the body's revision (`"n"`); a mismatch is a contract problem. */
export function etagProblem(answer: HttpAnswer, revision: unknown): string | undefined {
  const etag = answer.headers.etag;
  if (etag === `"${String(revision)}"`) return undefined;
  return `${CONTRACT}: ETag ${etag ?? '(none)'} but body revision ${String(revision)}`;
}

/** Writes must answer X-Raft-Index (DESIGN.md §4). */
export function raftIndexProblem(answer: HttpAnswer): string | undefined {
  const index = answer.headers['x-raft-index'];
  return typeof index === 'string' && /^\d+$/.test(index)
    ? undefined
    : `${CONTRACT}: no X-Raft-Index on a write answer`;
}
