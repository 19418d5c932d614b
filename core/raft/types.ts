/**
 * The vocabulary of the Raft core: log entries, messages, persisted state and the Ready batch.
 * Everything here is plain data so that the driver can persist it and the transport can encode it.
 */

/** A node's id: stable for its whole life in the cluster (never reused after removal). */
export type NodeId = string;

/** The sentinel for "no node" (no vote cast, no known leader). */
export const NONE: NodeId = '';

export type EntryType = 'normal' | 'confChange';

/**
 * One log entry. A `normal` entry with empty `data` is the leader's no-op (§5.4.2, §8): the driver
 * applies nothing for it. A `confChange` entry's data is an encoded {@link ConfChange}.
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** The membership: voters count in quorums; learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Opaque per-node context carried with the membership (e.g. addresses), set by `addLearner`/`addVoter`. */
  readonly context?: Readonly<Record<NodeId, string>>;
}

/**
 * Single-server membership change (Raft thesis §4.1). `addVoter` on a learner promotes it.
 * Removing the leader makes it step down once the change applies.
 */
export interface ConfChange {
  readonly type: 'addLearner' | 'addVoter' | 'removeNode';
  readonly nodeId: NodeId;
  readonly context?: string;
}

/** What must be durable before a node answers any message: term, vote and the known commit index. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

/** A snapshot of the state machine at `meta.index`; `data` is opaque to raft. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state the driver may want to report; present in a Ready only when it changed. */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/** The answer to a ReadIndex request: serve the read once this node has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term; for (pre)vote requests, the term being campaigned for. */
  readonly term: number;
}

/** Log replication (§5.3): entries following (index, logTerm); also carries the leader's commit. */
export interface AppendMessage extends MessageBase {
  readonly type: 'append';
  readonly index: number;
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Reply to an append (or to a completed snapshot). On success `index` is the follower's last index
 * known to match the leader. On reject, `index` echoes the rejected `append.index` and
 * (`hintIndex`, `hintTerm`) let the leader skip a whole term of entries at once.
 */
export interface AppendResponseMessage extends MessageBase {
  readonly type: 'appendResponse';
  readonly index: number;
  readonly reject: boolean;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  /** The newest ReadIndex context waiting for a quorum of acknowledgements, if any. */
  readonly context?: string;
}

export interface HeartbeatResponseMessage extends MessageBase {
  readonly type: 'heartbeatResponse';
  readonly context?: string;
}

export interface VoteMessage extends MessageBase {
  readonly type: 'vote' | 'preVote';
  /** The candidate's last log index and term (§5.4.1 "at least as up-to-date"). */
  readonly index: number;
  readonly logTerm: number;
  /** Set when the campaign follows a leadership transfer: it may disrupt a live lease. */
  readonly transfer?: boolean;
}

export interface VoteResponseMessage extends MessageBase {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly reject: boolean;
}

/**
 * One chunk of a snapshot. Chunks travel in order; `offset` is the byte offset of `data` within
 * the snapshot's data of `total` bytes.
 */
export interface SnapshotChunkMessage extends MessageBase {
  readonly type: 'snapshot';
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly total: number;
  readonly data: Uint8Array;
}

/** Acknowledges the bytes of snapshot `index` received in order so far (`received`). */
export interface SnapshotResponseMessage extends MessageBase {
  readonly type: 'snapshotResponse';
  readonly index: number;
  readonly received: number;
}

/** Leadership transfer: the leader tells a caught-up target to campaign at once (thesis §3.10). */
export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'timeoutNow';
}

/** A follower's ReadIndex request, forwarded to the leader (thesis §6.4). */
export interface ReadIndexMessage extends MessageBase {
  readonly type: 'readIndex';
  readonly context: string;
}

export interface ReadIndexResponseMessage extends MessageBase {
  readonly type: 'readIndexResponse';
  readonly context: string;
  readonly index: number;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotChunkMessage
  | SnapshotResponseMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

/**
 * What the driver must do, in this order: persist `snapshot` (if any), then `entries` (replacing any
 * stored entries at or after `entries[0].index`) and `hardState` (if any), with one sync when
 * `mustSync`; then send `messages`; then apply `snapshot` (if any) and `committed` to the state
 * machine and serve `readStates` once applied; then call `advance()`. A leader's replication
 * traffic (append, heartbeat, snapshot, timeoutNow) may be sent before persisting (thesis
 * §10.2.1): it vouches for nothing in this Ready, and the commit it enables only shows in a later
 * Ready, which the driver takes after this one's persistence.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  readonly committed: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** False when only the commit index changed: losing that write in a crash is harmless. */
  readonly mustSync: boolean;
}

/** A source of randomness, injected so that a run is reproducible from its seed. */
export interface Rng {
  /** A uniformly distributed integer in [0, n). */
  int(n: number): number;
}

/** What a node restarts from: exactly what it had persisted. */
export interface PersistedState {
  readonly hardState?: HardState;
  /** The newest snapshot. A brand new cluster starts from `bootstrapState()` instead (bootstrap.ts). */
  readonly snapshot?: Snapshot;
  /** Entries after the snapshot, contiguous. Entries at or below the snapshot index are ignored. */
  readonly entries?: readonly Entry[];
}

export interface RaftOptions {
  readonly id: NodeId;
  readonly rng: Rng;
  /** Election timeout E in ticks: a follower campaigns after a random timeout in [E, 2E). */
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  /** Campaign with a pre-vote first so that a partitioned node cannot inflate terms (thesis §9.6). */
  readonly preVote?: boolean;
  /** A leader steps down when a quorum has not answered within an election timeout (thesis §6.2). */
  readonly checkQuorum?: boolean;
  /** Append messages in flight to one follower in the replicate state. */
  readonly maxInflightMessages?: number;
  /** Bytes of entries in flight to one follower; bounds memory on both ends. */
  readonly maxInflightBytes?: number;
  /** Bytes of entries in one append message (at least one entry is always sent). */
  readonly maxMessageBytes?: number;
  /** Bytes of snapshot data in one chunk. */
  readonly snapshotChunkBytes?: number;
  /** Snapshot chunks in flight to one follower. */
  readonly snapshotWindow?: number;
  /** Bytes of committed entries handed out in one Ready. */
  readonly maxApplyBytes?: number;
}

export interface Proposed {
  /** Index of the (first) appended entry. */
  readonly index: number;
  readonly term: number;
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface PeerStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly learner: boolean;
  readonly recentActive: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly leader: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly conf: ConfState;
  readonly leadTransferee: NodeId;
  /** Replication progress of every member, on the leader only. */
  readonly progress: Readonly<Record<NodeId, PeerStatus>>;
}

/** Why `step` did not act on a message; the driver counts these. */
export type DropReason =
  'STALE_TERM' | 'UNKNOWN_SENDER' | 'WRONG_RECIPIENT' | 'NOT_LEADER' | 'IN_LEASE' | 'UNEXPECTED';

export type StepResult = { readonly ok: true } | { readonly ok: false; readonly reason: DropReason };
