/**
 * Failed logins slow an account down; they never lock it. Per username (known or not, so that
 * the answer reveals nothing), on this node:
 *
 * - attempts run one at a time, in arrival order, and each waits out the account's delay before
 *   its password is checked: nothing, for the first `freeFailures` failures; then `baseDelayMs`,
 *   doubling with each further failure up to `maxDelayMs`. The right password is always checked,
 *   so it keeps working while someone guesses, at the cost of that wait;
 * - the wait is taken before scrypt runs, so guesses sent in parallel are counted like guesses in
 *   a row (the earlier limiter read its count before checking and missed them);
 * - at most `maxPending` attempts may wait per account (`maxPendingTotal` on the node): more are
 *   refused at once (429, with Retry-After), before anything is checked;
 * - a success clears the account's failures; failures are forgotten `forgetMs` after the last.
 *
 * Password checks (scrypt, about 50 ms and 16 MiB each) also run at most `maxConcurrentChecks` at
 * a time on the whole node, whoever asks, so a spray of usernames costs a queue, not the CPU.
 */
import { ApiProblem } from './problem.js';

export interface LoginGuardOptions {
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxPending: number;
  /** Attempts waiting on the whole node, all accounts together. */
  readonly maxPendingTotal: number;
  readonly maxConcurrentChecks: number;
  readonly forgetMs: number;
}

export const DEFAULT_LOGIN_GUARD: LoginGuardOptions = {
  freeFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxPending: 8,
  maxPendingTotal: 64,
  maxConcurrentChecks: 2,
  forgetMs: 15 * 60_000,
};

/** Accounts remembered at most (unknown usernames count too); the oldest are forgotten first. */
const MAX_ACCOUNTS = 10_000;

interface Account {
  failures: number;
  /** When the last attempt finished (ms). */
  lastAt: number;
  pending: number;
  /** The end of the attempt before the newest one: attempts chain on it. */
  tail: Promise<void>;
}

export class LoginGuard {
  private readonly accounts = new Map<string, Account>();
  private checking = 0;
  private pendingTotal = 0;
  private readonly waitingChecks: (() => void)[] = [];
  /** Password checks run so far (a test's and a metric's view). */
  checks = 0;

  constructor(
    private readonly o: LoginGuardOptions = DEFAULT_LOGIN_GUARD,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /**
   * Runs `check` (the password check) for `username` when its turn and delay have come; `check`
   * says whether the password was right. Throws a 429 ApiProblem when too many attempts wait.
   */
  async attempt<T>(username: string, check: () => Promise<T | undefined>): Promise<T | undefined> {
    const account = this.account(username.toLowerCase());
    if (account.pending >= this.o.maxPending || this.pendingTotal >= this.o.maxPendingTotal) {
      const retryAfter = Math.max(1, Math.ceil(this.delay(account.failures) / 1000));
      throw new ApiProblem(
        429,
        'TOO_MANY_FAILED_LOGINS',
        'too many login attempts are waiting; try again later',
        [],
        { 'retry-after': String(retryAfter) },
      );
    }
    account.pending += 1;
    this.pendingTotal += 1;
    const previous = account.tail;
    let done!: () => void;
    account.tail = new Promise((resolve) => (done = resolve));
    try {
      await previous;
      const wait = account.lastAt + this.delay(account.failures) - this.now();
      if (wait > 0) await this.sleep(wait);
      const result = await this.limited(check);
      account.failures = result === undefined ? account.failures + 1 : 0;
      return result;
    } finally {
      account.lastAt = this.now();
      account.pending -= 1;
      this.pendingTotal -= 1;
      done();
    }
  }

  /** The wait before the next check after `failures` failures in a row. */
  delay(failures: number): number {
    const over = failures - this.o.freeFailures;
    if (over < 0) return 0;
    return Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(over, 30));
  }

  private account(key: string): Account {
    let account = this.accounts.get(key);
    if (account && account.pending === 0 && this.now() - account.lastAt > this.o.forgetMs) {
      this.accounts.delete(key);
      account = undefined;
    }
    if (!account) {
      account = { failures: 0, lastAt: 0, pending: 0, tail: Promise.resolve() };
      this.accounts.set(key, account);
      if (this.accounts.size > MAX_ACCOUNTS) this.forgetOne();
    } else {
      // Most recently used last, so that the oldest are forgotten first.
      this.accounts.delete(key);
      this.accounts.set(key, account);
    }
    return account;
  }

  /**
   * Forgets the least recently used account with no attempt waiting, preferring one that has not
   * earned a delay: spraying usernames must not wash out a guessed account's failures.
   */
  private forgetOne(): void {
    let fallback: string | undefined;
    for (const [key, account] of this.accounts) {
      if (account.pending > 0) continue;
      if (account.failures < this.o.freeFailures) {
        this.accounts.delete(key);
        return;
      }
      fallback ??= key;
    }
    if (fallback !== undefined) this.accounts.delete(fallback);
  }

  private async limited<T>(check: () => Promise<T>): Promise<T> {
    if (this.checking >= this.o.maxConcurrentChecks) {
      await new Promise<void>((resolve) => this.waitingChecks.push(resolve));
    } else {
      this.checking += 1;
    }
    try {
      this.checks += 1;
      return await check();
    } finally {
      const next = this.waitingChecks.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else this.checking -= 1;
    }
  }
}
