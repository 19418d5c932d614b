/**
 * The cluster listener: one HTTP server with one socket.io server on it, websocket only, msgpack
 * frames. Peers use the `/raft` namespace; routers `/routers` (core/runtime) on the same server, so every
 * cluster-facing connection goes through one port and one parser.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import type { FrameParser } from './frame-parser.js';

export interface ClusterListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly parser: FrameParser;
  /** Largest frame a peer sends (by its estimate); a websocket message well beyond it closes the connection. */
  readonly maxFrameBytes: number;
  /** Time a client has to join a namespace after the websocket opened. */
  readonly connectTimeoutMs: number;
}

export interface ClusterListener {
  readonly io: Server;
  readonly port: number;
  close(): Promise<void>;
}

/** The engine's own liveness check: a silent connection is closed after interval + timeout. */
const ENGINE_PING_INTERVAL_MS = 5_000;
const ENGINE_PING_TIMEOUT_MS = 10_000;
const FRAME_SLACK_BYTES = 1024 * 1024;

export async function openClusterListener(options: ClusterListenerOptions): Promise<ClusterListener> {
  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    parser: options.parser,
    // Slack over the senders' own limit, which they apply to an estimate of the frame's size.
    maxHttpBufferSize: options.maxFrameBytes + FRAME_SLACK_BYTES,
    connectTimeout: options.connectTimeoutMs,
    pingInterval: ENGINE_PING_INTERVAL_MS,
    pingTimeout: ENGINE_PING_TIMEOUT_MS,
    perMessageDeflate: false,
    httpCompression: false,
  });
  // Nothing is served on the main namespace: only named ones (`/raft`, `/routers`).
  io.use((_socket, next) => next(new Error('no such namespace')));
  await listen(http, options.host, options.port);
  const port = (http.address() as AddressInfo).port;
  return {
    io,
    port,
    close: () => closeServer(io, http),
  };
}

function listen(http: HttpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    http.once('error', onError);
    http.listen(port, host, () => {
      http.off('error', onError);
      resolve();
    });
  });
}

function closeServer(io: Server, http: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    // io.close() disconnects every socket, closes the engine and then the HTTP server.
    void io.close(() => resolve());
    http.closeAllConnections();
  });
}
