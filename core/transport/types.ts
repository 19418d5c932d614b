/**
 * The cluster transport: how Raft messages and cluster requests travel between nodes. Implemented
 * over socket.io with msgpack frames (core/transport/peer-transport.ts).
 */
import type { PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import type { Message, NodeId } from '../raft/types.js';

/** A node's TLS credentials, PEM: its key, its chain (leaf first) and the cluster root CA it trusts. */
export interface PeerTls {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
}

/**
 * Who may speak for a peer (cert-auth.ts). TLS 1.3 verifies both ends' chains against the cluster
 * CA; `refusal` then says why a verified certificate may still not speak for `peer`. A seam, so
 * that the transport is tested with any policy.
 */
export interface PeerAuthenticator {
  readonly clusterId: string;
  /** This node's credentials: read for every dial and every listener reload (renewal swaps them). */
  tls(): PeerTls;
  /** Why `cert` may not speak for `peer` (it names another SPIFFE id), or undefined if it may. */
  refusal(cert: PeerCertificate, peer: NodeId): string | undefined;
  /** Whether every certificate of `peer` is revoked (a member removed from the cluster). */
  revoked?(peer: NodeId): boolean;
  /**
   * Whether a certificate signed by the intermediate with this fingerprint is still good (a
   * finished CA rotation retires the earlier ones); undefined: whatever TLS verified is.
   */
  issuerTrusted?(fingerprint: string | undefined): boolean;
}

/** Why this node refused a peer's connection; counted per reason and logged once a minute per peer. */
export type RefusalReason =
  /** Plain HTTP or anything else that is not TLS on the cluster port. */
  | 'NOT_TLS'
  /** TLS without a client certificate. */
  | 'NO_CERTIFICATE'
  /** A certificate the cluster CA did not issue (or a broken chain). */
  | 'UNTRUSTED_CERTIFICATE'
  | 'EXPIRED_CERTIFICATE'
  /** A valid certificate that names another node than the one it claims or we dialled. */
  | 'WRONG_IDENTITY'
  /**
   * A node removed from the cluster (core/model/retired-controllers.ts), or a certificate of an
   * intermediate CA retired by a finished rotation (core/model/ca-trust.ts): revoked.
   */
  | 'REVOKED_CERTIFICATE'
  | 'CLUSTER_MISMATCH'
  /** Addressed to another node id, or claiming ours. */
  | 'WRONG_NODE'
  | 'BAD_HELLO';

export interface TransportOptions {
  readonly nodeId: NodeId;
  readonly authenticator: PeerAuthenticator;
  /** Where the cluster listener binds, e.g. { host: '127.0.0.1', port: 0 } (0: any free port). */
  readonly listen: { readonly host: string; readonly port: number };
  /** Reconnect back-off bounds in ms (jittered). */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Log sink: refused handshakes, dropped frames. */
  readonly log?: Logger;
  /** Time allowed from opening a connection to a completed handshake, both ends (default 5000). */
  readonly handshakeTimeoutMs?: number;
  /** How often the round-trip time to each peer is measured (default 3000). */
  readonly pingIntervalMs?: number;
  /** Largest frame accepted or sent in bytes (default 64 MiB); a single larger message is dropped. */
  readonly maxFrameBytes?: number;
  /** Bytes waiting in a peer's socket above which new Raft messages to it are dropped (default 8 MiB). */
  readonly maxBufferedBytes?: number;
  /** Bytes of Raft messages queued for one peer within one event-loop turn (default 16 MiB). */
  readonly maxQueuedBytes?: number;
  /** A source of randomness in [0,1) for back-off jitter and fault injection (default Math.random). */
  readonly random?: () => number;
  /**
   * Benchmarks only (`npm run bench -- node` measures what TLS costs against it): plain websocket,
   * no certificates, a peer named by its hello alone. Nothing in the product sets it; no flag or
   * variable of `meshdesk` reaches it.
   */
  readonly benchmarkPlaintext?: true;
}

/**
 * A request handler for cluster requests (e.g. a follower forwarding a write to the leader). Payload
 * and answer are msgpack-encodable values (Uint8Array travels as binary). A thrown error reaches the
 * caller as a rejected promise with the same `message` and `code` (a {@link RemoteError}).
 */
export type RequestHandler = (from: NodeId, payload: unknown) => Promise<unknown>;

export interface TransportStats {
  readonly sent: number;
  readonly received: number;
  /** Frames that did not decode or were of an unknown kind: dropped, never passed on. */
  readonly malformed: number;
  /** Messages dropped by fault injection or because the peer was unreachable. */
  readonly dropped: number;
  /** Connections this node refused (every reason; `refusals` has them by reason). */
  readonly refusedHandshakes: number;
  readonly refusals: Readonly<Partial<Record<RefusalReason, number>>>;
  /** Frames of Raft messages written to / read from peers (one per peer and event-loop turn). */
  readonly framesSent: number;
  readonly framesReceived: number;
  /** Raft messages queued now, waiting for the end of the turn. */
  readonly queued: number;
}

export interface PeerState {
  readonly id: NodeId;
  readonly address: string;
  readonly connected: boolean;
  /** Round-trip time of the last ping in ms, if measured. */
  readonly rttMs?: number;
  /** An authenticated connection from this peer to us is open (we receive on it). */
  readonly inbound: boolean;
  /** Traffic to and from this peer is cut by fault injection (then `connected` is false). */
  readonly cut: boolean;
  /** Bytes written to the peer's socket that it has not taken yet. */
  readonly bufferedBytes: number;
}

/** Faults for tests and the demo lab. */
export interface FaultPlan {
  /** Probability in [0,1] of dropping each message (or request: it then times out) to this peer. */
  readonly drop?: number;
  /** Extra delay in ms for each message and request to this peer. */
  readonly delayMs?: number;
  /**
   * Cut all traffic to and from this peer: nothing is sent to it (requests fail UNREACHABLE), its
   * frames are dropped, its requests go unanswered, and it is reported as not connected.
   */
  readonly cut?: boolean;
}

export interface PeerTransport {
  /** Starts the listener; resolves with the bound port. */
  start(): Promise<{ port: number }>;
  /** Connects (and keeps reconnecting) to a peer; replaces the address if it changed. */
  addPeer(id: NodeId, address: string): void;
  /** The address peers reach this node's listener at; sent when dialing them. */
  setAdvertise(address: string): void;
  removePeer(id: NodeId): void;
  /** Queues Raft messages; messages to one peer are coalesced into one frame per event-loop turn. */
  send(messages: readonly Message[]): void;
  /** The handler for every valid Raft message received from an authenticated peer. */
  onMessage(handler: (message: Message) => void): void;
  /**
   * Sends a cluster request to a peer and waits for its answer. Rejects with a TransportError
   * (`UNREACHABLE`, `TIMEOUT`, `DISCONNECTED`, `NO_HANDLER`, `CLOSED`) or with the handler's error.
   */
  request(to: NodeId, method: string, payload: unknown, timeoutMs: number): Promise<unknown>;
  handle(method: string, handler: RequestHandler): void;
  peers(): PeerState[];
  setFaults(peer: NodeId, plan: FaultPlan | undefined): void;
  stats(): TransportStats;
  /**
   * Another namespace on the cluster listener (routers use `/routers`), sharing its port, parser
   * and frame limits; its users do their own authentication. Only after `start()`.
   */
  namespace(name: string): Namespace;
  /**
   * A connection of another namespace authenticated: it may send full-size frames, and a frame
   * that does not decode is dropped instead of closing it (admission.ts).
   */
  admit(socket: Socket): void;
  /** Connections to the cluster port that no namespace has admitted yet. */
  pendingConnections(): number;
  /**
   * Serves new connections with `tls()` as it is now (after a renewal), and moves the connections
   * this node dialled onto it, make before break (requests in flight finish on the old ones).
   */
  reloadCredentials(): void;
  /** Peer `peer` renewed its certificate (now `serial`): our connection to it moves onto it. */
  peerRenewed(peer: NodeId, serial: string): void;
  /** Closes every connection `peer` made to us (its certificates were revoked); true if there was one. */
  disconnectInbound(peer: NodeId): boolean;
  /**
   * Ends every open connection on a certificate whose issuer is no longer trusted
   * (authenticator.issuerTrusted: a finished CA rotation): those peers made to us close, those we
   * dialled are refreshed (make before break); the peers it concerned.
   */
  dropRetiredIssuers(): NodeId[];
  close(): Promise<void>;
}
