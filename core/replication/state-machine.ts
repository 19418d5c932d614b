/**
 * What the replica drives: a deterministic state machine fed committed entries in log order.
 * The model (sql.js) implements it; tests use a small key-value one.
 */

/** A committed entry as the state machine sees it (no-ops and membership changes are filtered out). */
export interface CommittedCommand {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

export interface StateMachine {
  /**
   * Applies a batch of committed commands, in order, and returns one result per command. Must be
   * deterministic and must not throw for a bad command: a rejected command is a result too.
   * `appliedIndex` is the index of the last entry of the batch (no-ops included), to be stored
   * atomically with the batch when the state machine persists anything.
   */
  apply(commands: readonly CommittedCommand[], appliedIndex: number): unknown[];
  /** A serialised copy of the whole state, as of the last applied index. */
  snapshot(): Uint8Array;
  /** Replaces the whole state by a snapshot. */
  restore(data: Uint8Array): void;
}
