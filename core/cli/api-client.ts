/**
 * The CLI's use of the shared API client (client/api-client.ts): it logs in (token from --token /
 * MESHDESK_TOKEN, or username and password, waiting through a node that is still starting, as
 * Retry-After says, within a bound), and turns every failure into one line for a person.
 */
import type { z } from 'zod';
import { ApiClient, type Fetch } from '../../client/api-client.js';
import { ApiError, isCertificateRefusal } from '../../client/problem.js';

export class ApiClientError extends Error {
  override readonly name = 'ApiClientError';
}

export interface Credentials {
  readonly token?: string;
  readonly username?: string;
  readonly password?: string;
}

export interface CliClientOptions {
  /** How long to keep waiting for a node that is still starting (default 60 s). */
  readonly startingWaitMs?: number;
  /** How to reach the node: for HTTPS, a fetch that verifies it (api-target.ts). Default: fetch. */
  readonly fetch?: Fetch;
}

/** A request may take this long (a member being added waits for it to catch up). */
const REQUEST_TIMEOUT_MS = 120_000;

export class CliClient {
  private token: string | undefined;
  private readonly api: ApiClient;
  private readonly startingWaitMs: number;

  constructor(
    readonly baseUrl: string,
    private readonly credentials: Credentials,
    options: CliClientOptions = {},
  ) {
    this.token = credentials.token;
    this.startingWaitMs = options.startingWaitMs ?? 60_000;
    this.api = new ApiClient({
      baseUrl,
      getToken: () => this.token ?? null,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  async request<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<{ data: T; index?: number }> {
    if (!this.token) await this.login();
    try {
      const request = {
        method,
        path,
        timeoutMs: REQUEST_TIMEOUT_MS,
        ...(body === undefined ? {} : { body }),
      };
      const { body: data, raftIndex } = await this.api.send<T>(request);
      return { data, ...(raftIndex !== null ? { index: raftIndex } : {}) };
    } catch (err) {
      throw this.explained(method, path, err);
    }
  }

  /** A GET of a route that needs no login (the cluster CA), its answer parsed by the contract's schema. */
  async anonymous<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    try {
      return (
        await this.api.send({ method: 'GET', path, auth: false, timeoutMs: REQUEST_TIMEOUT_MS }, schema)
      ).body;
    } catch (err) {
      throw this.explained('GET', path, err);
    }
  }

  /** A GET whose answer is not JSON (a backup's bytes). */
  async raw(path: string): Promise<Response> {
    if (!this.token) await this.login();
    try {
      return await this.api.raw({ method: 'GET', path, timeoutMs: REQUEST_TIMEOUT_MS });
    } catch (err) {
      throw this.explained('GET', path, err);
    }
  }

  private async login(): Promise<void> {
    const { username = 'admin', password } = this.credentials;
    if (!password) {
      throw new ApiClientError(
        'no credentials: pass --token (or MESHDESK_TOKEN) or --password (or MESHDESK_ADMIN_PASSWORD)',
      );
    }
    try {
      const answer = await this.api.loginWhenReady(username, password, { timeoutMs: this.startingWaitMs });
      this.token = answer.token;
    } catch (err) {
      throw this.explained('POST', '/auth/login', err);
    }
  }

  /** One line for a person: what was asked, and why it failed. */
  private explained(method: string, path: string, err: unknown): unknown {
    if (!(err instanceof ApiError)) return err;
    if (isCertificateRefusal(err)) {
      return new ApiClientError(
        `${this.baseUrl} presents a certificate that the cluster CA given does not vouch for (${err.problem.code}): refusing it`,
      );
    }
    if (err.kind === 'network')
      return new ApiClientError(`cannot reach ${this.baseUrl}: ${err.problem.detail}`);
    const why = err.problem.detail ?? err.problem.title;
    return new ApiClientError(`${method} ${path} failed (${err.status}): ${why}`);
  }
}
