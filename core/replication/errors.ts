/**
 * Errors of the replica's write and read paths. `outcome` tells the caller what it may assume:
 * - `not-proposed`: nothing reached the log; retrying is always safe (the API answers 503/429);
 * - `not-applied`: the entry was proposed and is known never to apply (overwritten by a new leader);
 * - `unknown`: the entry may still apply (the API answers 504; an idempotency key makes a retry safe).
 */
export type ReplicaErrorCode =
  | 'NO_LEADER'
  | 'QUEUE_FULL'
  | 'PROPOSAL_DROPPED'
  | 'OUTCOME_UNKNOWN'
  | 'TIMEOUT'
  | 'STOPPED'
  | 'INVALID_REQUEST';

export type ProposalOutcome = 'not-proposed' | 'not-applied' | 'unknown';

export class ReplicaError extends Error {
  override readonly name = 'ReplicaError';
  constructor(
    readonly code: ReplicaErrorCode,
    message: string,
    readonly outcome: ProposalOutcome,
  ) {
    super(message);
  }
}
