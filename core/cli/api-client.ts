/**
 * The CLI's client of a node's REST API: logs in (token from --token / MESHDESK_TOKEN, or
 * username and password), sends JSON, and turns a problem+json answer into one line. A node that
 * is still starting answers login 503 STARTING; the client waits as its Retry-After says, within
 * a bound, so a command run right after `meshdesk start` does not fail for it.
 */
import type { Fetch } from '../client/server-trust.js';

export class ApiClientError extends Error {
  override readonly name = 'ApiClientError';
}

export interface Credentials {
  readonly token?: string;
  readonly username?: string;
  readonly password?: string;
}

export interface ApiClientOptions {
  /** How long to keep waiting for a node that is still starting (default 60 s). */
  readonly startingWaitMs?: number;
  /** How to reach the node: for HTTPS, a fetch that verifies it (api-target.ts). Default: fetch. */
  readonly fetch?: Fetch;
}

export class ApiClient {
  private token: string | undefined;
  private readonly startingWaitMs: number;
  private readonly fetch: Fetch;

  constructor(
    readonly baseUrl: string,
    private readonly credentials: Credentials,
    options: ApiClientOptions = {},
  ) {
    this.token = credentials.token;
    this.startingWaitMs = options.startingWaitMs ?? 60_000;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<{ data: T; index?: number }> {
    if (!this.token) await this.login();
    const response = await this.send(method, path, body);
    const data = (await response.json().catch(() => undefined)) as T;
    if (!response.ok) throw new ApiClientError(describeProblem(method, path, response.status, data));
    const index = response.headers.get('x-raft-index');
    return { data, ...(index ? { index: Number(index) } : {}) };
  }

  async raw(path: string): Promise<Response> {
    if (!this.token) await this.login();
    const response = await this.send('GET', path);
    if (!response.ok) {
      const data = await response.json().catch(() => undefined);
      throw new ApiClientError(describeProblem('GET', path, response.status, data));
    }
    return response;
  }

  private async login(): Promise<void> {
    const { username = 'admin', password } = this.credentials;
    if (!password) {
      throw new ApiClientError(
        'no credentials: pass --token (or MESHDESK_TOKEN) or --password (or MESHDESK_ADMIN_PASSWORD)',
      );
    }
    const deadline = Date.now() + this.startingWaitMs;
    for (;;) {
      const response = await this.send('POST', '/auth/login', { username, password });
      const data = (await response.json().catch(() => undefined)) as
        { token?: string; code?: string } | undefined;
      const waitMs = retryAfterMs(response);
      if (response.status === 503 && data?.code === 'STARTING' && Date.now() + waitMs <= deadline) {
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        continue;
      }
      if (!response.ok || !data?.token) {
        throw new ApiClientError(describeProblem('POST', '/auth/login', response.status, data));
      }
      this.token = data.token;
      return;
    }
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const url = `${this.baseUrl}/api/v1${path}`;
    try {
      return await this.fetch(url, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(120_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      if (/CERT|SIGNATURE|SELF_SIGNED|ALTNAME|ISSUER/.test(cause)) {
        throw new ApiClientError(
          `${this.baseUrl} presents a certificate that the cluster CA given does not vouch for (${cause}): refusing it`,
        );
      }
      throw new ApiClientError(`cannot reach ${this.baseUrl}: ${cause}`);
    }
  }
}

/** Retry-After in its seconds form, as milliseconds (1 s when absent). */
function retryAfterMs(response: Response): number {
  const value = response.headers.get('retry-after')?.trim() ?? '';
  return /^\d+$/.test(value) ? Number(value) * 1000 : 1000;
}

function describeProblem(method: string, path: string, status: number, body: unknown): string {
  const p = (body ?? {}) as { title?: unknown; detail?: unknown };
  const why =
    typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : `HTTP ${status}`;
  return `${method} ${path} failed (${status}): ${why}`;
}
