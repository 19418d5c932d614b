/**
 * One in-process controller node with its REST API on 127.0.0.1 (port 0): a real replica over
 * real storage in a temporary directory, the real model, bootstrapped with a first admin (or, with
 * `startBareApiNode`, not yet). Tests talk to it over HTTP with `call`.
 */
import pino from 'pino';
import { firstAdminCommand } from '../../core/api/bootstrap.js';
import type { ApiContext } from '../../core/api/context.js';
import { openTokenKeyStore } from '../../core/api/token-keys.js';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../core/api/server.js';
import { createCertificateAuthority } from '../../core/cluster/cluster-ca.js';
import { createClusterOps } from '../../core/cluster/ops.js';
import { encodeCommand } from '../../core/model/commands.js';
import { PKI_SETTINGS } from '../../core/model/pki.js';
import { ModelStateMachine } from '../../core/model/state-machine.js';
import { createNode, type ControllerNode } from '../../core/node.js';
import { testCa, testCredentials } from './test-pki.js';

export const ADMIN = { username: 'admin', password: 'correct horse battery' } as const;

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly contentType: string;
}

export interface CallOptions {
  /** Sent as JSON unless `raw` is given. */
  readonly body?: unknown;
  /** Sent as is, with content-type application/json unless headers say otherwise. */
  readonly raw?: string;
  readonly headers?: Record<string, string>;
  /** The bearer token; the admin's by default, null for none. */
  readonly token?: string | null;
}

export interface ApiNode {
  /** The server's base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly node: ControllerNode;
  readonly model: ModelStateMachine;
  /** The admin's token (logged in once). */
  readonly token: string;
  login(username?: string, password?: string): Promise<string>;
  /** A request to `/api/v1` + path. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON bodies loosely
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

/**
 * The same node before bootstrap has finished: the API serves, but the model holds no admin until
 * `createFirstAdmin()` proposes it (as `meshdesk start --bootstrap` does once it leads).
 * `started` stands for the composition root's own start (a joining node catching up).
 */
export interface BareApiNode {
  readonly url: string;
  readonly server: ApiServer;
  readonly node: ControllerNode;
  readonly model: ModelStateMachine;
  createFirstAdmin(): Promise<void>;
  /** A request to `/api/v1` + path, without a token unless the options give one. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON bodies loosely
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

export async function startBareApiNode(
  dataDir: string,
  options: Partial<ApiServerOptions> = {},
  started?: () => boolean,
): Promise<BareApiNode> {
  const model = await ModelStateMachine.create();
  const logger = pino({ level: process.env.MESHDESK_TEST_LOG ?? 'silent' });
  const node = await createNode({
    dataDir,
    cluster: { host: '127.0.0.1', port: 0 },
    credentials: testCredentials,
    bootstrap: {},
    stateMachine: model,
    logger,
  });
  const ctx: ApiContext = {
    nodeId: node.id,
    clusterId: node.clusterId,
    name: node.name,
    replica: node.replica,
    model,
    cluster: createClusterOps({
      clusterId: node.clusterId,
      replica: node.replica,
      transport: node.transport,
      logger: node.logger,
    }),
    certificates: createCertificateAuthority({
      clusterId: node.clusterId,
      dataDir,
      db: () => model.model,
      members: () => [...node.replica.status().conf.voters],
    }),
    tokenKeys: await openTokenKeyStore(dataDir),
    logger: node.logger,
    ...(started ? { started } : {}),
  };
  let server;
  try {
    server = await createApiServer(ctx, { host: '127.0.0.1', port: 0, ...options });
  } catch (err) {
    await node.stop();
    throw err;
  }
  const url = server.url;
  return {
    url,
    server,
    node,
    model,
    async createFirstAdmin() {
      // As the bootstrap's first batch does: the admin and the cluster CA (the test CA of this
      // cluster id, which issued the node's own certificate).
      const first = await firstAdminCommand(ADMIN);
      const ca = await testCa(node.clusterId);
      const at = new Date().toISOString();
      const commands = [
        ...(first.op === 'batch' ? first.commands : [first]),
        { op: 'setSetting' as const, key: PKI_SETTINGS.rootCert, value: ca.root.certPem, at },
        { op: 'setSetting' as const, key: PKI_SETTINGS.intermediateCert, value: ca.intermediate.certPem, at },
        { op: 'setSetting' as const, key: PKI_SETTINGS.intermediateKey, value: ca.intermediate.keyPem, at },
      ];
      await node.replica.propose(encodeCommand({ op: 'batch', commands }));
    },
    call: (method, path, o = {}) => callApi(url, method, path, { token: null, ...o }),
    async stop() {
      await server.close();
      await node.stop();
    },
  };
}

export async function startApiNode(
  dataDir: string,
  options: Partial<ApiServerOptions> = {},
): Promise<ApiNode> {
  const bare = await startBareApiNode(dataDir, options);
  try {
    await bare.createFirstAdmin();
  } catch (err) {
    await bare.stop();
    throw err;
  }
  const call = async <T>(method: string, path: string, o: CallOptions = {}): Promise<ApiResponse<T>> =>
    callApi<T>(bare.url, method, path, { ...o, token: o.token === undefined ? api.token : o.token });
  const login = async (username: string = ADMIN.username, password: string = ADMIN.password) => {
    const res = await call<{ token: string }>('POST', '/auth/login', {
      body: { username, password },
      token: null,
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token;
  };
  const api: { token: string } & Omit<ApiNode, 'token'> = {
    url: bare.url,
    node: bare.node,
    model: bare.model,
    token: '',
    login,
    call,
    stop: () => bare.stop(),
  };
  api.token = await login();
  return api;
}

async function callApi<T>(
  url: string,
  method: string,
  path: string,
  o: CallOptions,
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token && headers.authorization === undefined) headers.authorization = `Bearer ${o.token}`;
  let body: string | undefined;
  if (o.raw !== undefined || o.body !== undefined) {
    body = o.raw ?? JSON.stringify(o.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let parsed: unknown = text;
  if (contentType.includes('json') && text !== '') parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, contentType };
}
