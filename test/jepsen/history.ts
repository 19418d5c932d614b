/**
 * The history a Jepsen-style run records and the checkers read. One Operation per client call,
 * written once it completes (or once the run gives up on it). Times are milliseconds on the
 * runner's own monotonic clock (performance.now() relative to the run's start), so invocation and
 * completion of every operation are ordered by one clock.
 *
 * Outcomes, as Jepsen names them:
 * - `ok`: the answer said the operation happened, and `output` is what it said.
 * - `fail`: the operation certainly did not change anything (503/429 promise "never proposed",
 *   412 is a compare-and-set refused by the state machine, a connection refused before sending).
 * - `info`: indeterminate (504, timeout, connection reset after sending): it may have happened, at
 *   any instant after its invocation, or never. `completedAt` is absent; its process is retired
 *   and the client goes on under a new process number, so one process never has two ops open.
 */

/** What a register operation asks and answers; the register is one config entity's `data.v`. */
export type RegisterF = 'read' | 'write' | 'cas';
/** Set workload: each `add` creates one element; `readSet` lists them all at the end or during the run. */
export type SetF = 'add' | 'readSet';
/** Bank workload: a `transfer` moves an amount between two accounts in one POST /batch. */
export type BankF = 'transfer' | 'readBank';
export type OpF = RegisterF | SetF | BankF;

/** A register's state as the API shows it: the value and the entity's revision. */
export interface RegisterValue {
  readonly value: number;
  readonly revision: number;
}

export interface RegisterInput {
  /** write and cas: the value to store. */
  readonly value?: number;
  /** cas: the revision the client last saw (sent as If-Match). */
  readonly ifRevision?: number;
}

export interface Operation {
  /** Unique in the history, in invocation order. */
  readonly id: number;
  /** The logical process (Jepsen's :process); retired after an `info`. */
  readonly process: number;
  /** The node the request was sent to (index into the cluster). */
  readonly node: number;
  readonly f: OpF;
  /** The register key (entity id) for register ops; the workload name otherwise. */
  readonly key: string;
  /**
   * register: RegisterInput; add: the element (string); transfer: {from, to, amount};
   * reads: undefined.
   */
  readonly input?: unknown;
  readonly invokedAt: number;
  /** Absent for `info`. */
  readonly completedAt?: number;
  readonly outcome: 'ok' | 'fail' | 'info';
  /**
   * register ok: RegisterValue (what the answer carried: data.v and revision/ETag);
   * readSet ok: string[]; readBank ok: Record<account, balance>.
   */
  readonly output?: unknown;
  /** HTTP status, when there was an answer. */
  readonly status?: number;
  /** Problem code or transport error, for fail/info. */
  readonly error?: string;
}

/** A whole run, as saved to a file (JSON) and read back by `npm run jepsen -- --check FILE`. */
export interface HistoryFile {
  readonly seed: number;
  readonly nodes: number;
  readonly clients: number;
  readonly options: Record<string, unknown>;
  /** Each register key's state after setup, before any client ran. */
  readonly registers: Readonly<Record<string, RegisterValue>>;
  /** The bank's accounts and the total every read must see. */
  readonly bank?: { readonly accounts: readonly string[]; readonly total: number };
  readonly operations: readonly Operation[];
  /** What the nemesis did, when: for the report and for replay. */
  readonly faults: readonly {
    readonly at: number;
    readonly what: string;
    readonly nodes: readonly number[];
  }[];
}

/** What every checker answers. */
export interface CheckResult {
  readonly valid: boolean;
  /** One line per problem, for the terminal. */
  readonly problems: readonly string[];
  /**
   * For a linearizability failure: the shortest window of operations (by time) that cannot be
   * linearized on its own, printed and saved beside the history.
   */
  readonly window?: readonly Operation[];
  /** Counts for the report (ops, ok, fail, info, …). */
  readonly counts: Readonly<Record<string, number>>;
  /**
   * 'unknown' when the checker could not decide (the search hit its bound, no final read to
   * check); `valid` is then false. Absent means `valid` says it all.
   */
  readonly verdict?: 'valid' | 'invalid' | 'unknown';
  /** The failing window(s) rendered for the terminal, one operation per line. */
  readonly windowText?: readonly string[];
}
