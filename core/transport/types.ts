/**
 * The cluster transport: how Raft messages and cluster requests travel between nodes. Implemented
 * over socket.io with msgpack frames (core/transport/peer-transport.ts).
 */
import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import type { Message, NodeId } from '../raft/types.js';

/** Proves to a peer that we belong to the cluster, and checks that it does. Certificates replace it later. */
export interface PeerAuthenticator {
  readonly clusterId: string;
  /** A proof over `challenge` (bytes the other side chose) naming both ends. */
  prove(challenge: Uint8Array, from: NodeId, to: NodeId): Uint8Array;
  verify(challenge: Uint8Array, from: NodeId, to: NodeId, proof: Uint8Array): boolean;
}

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
  /** Handshakes this node refused: wrong cluster id, wrong proof, malformed or late handshake. */
  readonly refusedHandshakes: number;
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
  close(): Promise<void>;
}
