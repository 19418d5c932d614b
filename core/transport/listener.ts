/**
 * The cluster listener: one HTTPS server (TLS 1.3 only, this node's certificate, a client
 * certificate requested and verified against the cluster CA) with one socket.io server on it,
 * websocket only, msgpack frames. Peers use the `/raft` namespace; routers `/routers`
 * (core/runtime) on the same server, so every cluster-facing connection goes through one port,
 * one TLS setup and one parser.
 *
 * A client without a valid certificate still completes TLS, since routers authenticate by their
 * own handshake until they get certificates: `/raft` refuses it (handshake.ts checks `authorized`
 * and the SPIFFE id). Plain HTTP never gets past TLS. Until a namespace admits a connection it is
 * held to little (admission.ts).
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { Admission, type AdmissionRefusal } from './admission.js';
import type { GuardedFrameParser } from './frame-parser.js';
import type { PeerTls } from './types.js';

export interface ClusterListenerOptions {
  readonly host: string;
  readonly port: number;
  /** Undefined only for benchmarks' plaintext transport (TransportOptions.benchmarkPlaintext). */
  readonly tls: PeerTls | undefined;
  /** A connection that failed TLS itself (not TLS at all, or a broken handshake). */
  readonly onTlsError: (err: Error & { code?: string }, socket: NetSocket) => void;
  readonly parser: GuardedFrameParser;
  /** Largest frame a peer sends (by its estimate); a websocket message well beyond it closes the connection. */
  readonly maxFrameBytes: number;
  /** Time a connection has from TCP accept to being admitted by a namespace. */
  readonly connectTimeoutMs: number;
  /** A connection refused before it authenticated (admission.ts). */
  readonly onRefused: (address: string, reason: AdmissionRefusal, detail: string) => void;
}

export interface ClusterListener {
  readonly io: Server;
  readonly port: number;
  /** New connections get these credentials (a renewed certificate); open ones keep theirs. */
  reload(tls: PeerTls): void;
  /** A namespace authenticated this connection: it may send full-size frames (admission.ts). */
  admit(socket: Socket): void;
  /** Connections not admitted yet. */
  pendingCount(): number;
  close(): Promise<void>;
}

/** The engine's own liveness check: a silent connection is closed after interval + timeout. */
const ENGINE_PING_INTERVAL_MS = 5_000;
const ENGINE_PING_TIMEOUT_MS = 10_000;
const FRAME_SLACK_BYTES = 1024 * 1024;
/**
 * A websocket message before authentication: a CONNECT with its hello, a router's proof. Larger
 * is refused by the websocket layer from the frame header, before it is buffered.
 */
export const PRE_AUTH_MESSAGE_BYTES = 16 * 1024;
/** Connections not authenticated yet, per source address and in all. */
const MAX_PENDING_PER_ADDRESS = 16;
const MAX_PENDING = 256;

export async function openClusterListener(options: ClusterListenerOptions): Promise<ClusterListener> {
  const notFound = (_req: unknown, res: { writeHead(status: number): { end(): void } }): void => {
    res.writeHead(404).end();
  };
  const https = options.tls
    ? createServer(
        {
          ...tlsOptions(options.tls),
          requestCert: true,
          rejectUnauthorized: false,
          minVersion: 'TLSv1.3',
          handshakeTimeout: options.connectTimeoutMs,
        },
        notFound,
      )
    : (createHttpServer(notFound) as unknown as HttpsServer);
  https.on('tlsClientError', (err, socket) => options.onTlsError(err, socket));
  const admission = new Admission({
    maxPendingPerAddress: MAX_PENDING_PER_ADDRESS,
    maxPending: MAX_PENDING,
    pendingTimeoutMs: options.connectTimeoutMs,
    // Slack over the senders' own limit, which they apply to an estimate of the frame's size.
    admittedMessageBytes: options.maxFrameBytes + FRAME_SLACK_BYTES,
    parser: options.parser,
    refused: options.onRefused,
  });
  const io = new Server(https, {
    transports: ['websocket'],
    serveClient: false,
    parser: options.parser,
    // Every connection starts with this; admission raises it for an authenticated one.
    maxHttpBufferSize: PRE_AUTH_MESSAGE_BYTES,
    allowRequest: admission.allowRequest,
    connectTimeout: options.connectTimeoutMs,
    pingInterval: ENGINE_PING_INTERVAL_MS,
    pingTimeout: ENGINE_PING_TIMEOUT_MS,
    perMessageDeflate: false,
    httpCompression: false,
  });
  // Nothing is served on the main namespace: only named ones (`/raft`, `/routers`).
  io.use((_socket, next) => next(new Error('no such namespace')));
  admission.watch(https, io);
  await listen(https, options.host, options.port);
  const port = (https.address() as AddressInfo).port;
  return {
    io,
    port,
    reload: (tls) => {
      if (options.tls) https.setSecureContext(tlsOptions(tls));
    },
    admit: (socket) => admission.admit(socket),
    pendingCount: () => admission.pendingCount(),
    close: () => {
      admission.close();
      return closeServer(io, https);
    },
  };
}

function tlsOptions(tls: PeerTls): { key: string; cert: string; ca: string } {
  return { key: tls.key, cert: tls.cert, ca: tls.ca };
}

function listen(server: HttpsServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(io: Server, server: HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    // io.close() disconnects every socket, closes the engine and then the HTTPS server.
    void io.close(() => resolve());
    server.closeAllConnections();
  });
}
