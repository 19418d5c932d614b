/**
 * One node's HTTP endpoint for the runner: a keep-alive agent (node:http; fetch would add
 * milliseconds and hide when a request left), a bounded time per request, and failures that say
 * whether the request could have reached the node. That last bit is what decides `fail` (never
 * sent: nothing can have happened) from `info` (sent: it may have happened).
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';
import type { Socket } from 'node:net';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when empty or not JSON (see `text`). */
  readonly json: unknown;
  readonly text: string;
}

/** No answer. `sent` is false only when the connection was never made (refused, unreachable). */
export class TransportFailure extends Error {
  constructor(
    readonly code: string,
    readonly sent: boolean,
  ) {
    super(`${code}${sent ? '' : ' (not sent)'}`);
  }
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** How to reach a node's HTTPS API: the cluster CA it is verified against, read once it exists. */
export interface HttpsTrust {
  readonly ca: () => string;
}

export class HttpNode {
  private agent: Agent | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly timeoutMs = 2_500,
    /** Given: the node speaks HTTPS (a bind beyond loopback), verified against this CA. */
    private readonly trust?: HttpsTrust,
  ) {}

  /** Made on first use: the CA exists only once the first node has bootstrapped. */
  private connection(): { agent: Agent; send: typeof request } {
    if (!this.trust) {
      this.agent ??= new Agent({ keepAlive: true, maxSockets: 64 });
      return { agent: this.agent, send: request };
    }
    this.agent ??= new TlsAgent({ keepAlive: true, maxSockets: 64, ca: this.trust.ca() });
    return { agent: this.agent, send: tlsRequest as unknown as typeof request };
  }

  /** Resolves with any answer (any status); rejects only with a TransportFailure. */
  request(method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    return new Promise((resolve, reject) => {
      let connected = false;
      let settled = false;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const { agent, send } = this.connection();
      const req = send({
        host: this.host,
        port: this.port,
        method,
        path,
        agent,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...options.headers,
        },
      });
      const timer = setTimeout(() => {
        finish(() => reject(new TransportFailure(connected ? 'TIMEOUT' : 'CONNECT_TIMEOUT', connected)));
        req.destroy();
      }, options.timeoutMs ?? this.timeoutMs);
      req.on('socket', (socket: Socket) => {
        // A reused keep-alive socket is already connected: what we write may reach the node.
        if (!socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? err.message;
        finish(() => reject(new TransportFailure(code, connected)));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err: NodeJS.ErrnoException) =>
          finish(() => reject(new TransportFailure(err.code ?? 'RESPONSE_ERROR', true))),
        );
        res.on('close', () => {
          if (!res.complete) finish(() => reject(new TransportFailure('RESPONSE_ABORTED', true)));
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          finish(() =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, json: parseJson(text), text }),
          );
        });
      });
      req.end(payload);
    });
  }

  close(): void {
    this.agent?.destroy();
  }
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
