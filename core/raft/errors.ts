/**
 * Errors the Raft core reports to its caller. Each has a stable `code` that the layers above map to
 * their own answers (HTTP statuses, CLI messages). They are thrown before any state changes, so a
 * caller that catches one finds the node exactly as it was.
 */
export type RaftErrorCode =
  /** The request needs the leader and this node is not it. */
  | 'NOT_LEADER'
  /** No leader is known, so a follower cannot forward the request. */
  | 'NO_LEADER'
  /** A leadership transfer is in progress: proposals wait until it ends. */
  | 'TRANSFER_IN_PROGRESS'
  /** A membership change is proposed but not yet applied: one at a time (thesis §4.1). */
  | 'CONF_CHANGE_PENDING'
  /** The leader has not yet committed an entry of its own term (the single-server change fix). */
  | 'LEADER_NOT_READY'
  /** The membership change makes no sense for the current membership. */
  | 'INVALID_CONF_CHANGE'
  /** Leadership cannot go to that node (a learner, an unknown node). */
  | 'INVALID_TRANSFER_TARGET'
  /** The driver asked for something the log cannot give (compacting past `applied`, ...). */
  | 'INVALID_REQUEST';

export class RaftError extends Error {
  override readonly name = 'RaftError';
  constructor(
    readonly code: RaftErrorCode,
    message: string,
  ) {
    super(message);
  }
}
