/** Failed logins slow an account down and never lock it (core/api/login-guard.ts), in virtual time. */
import { describe, expect, it } from 'vitest';
import { ApiProblem } from '../../../core/api/problem.js';
import { DEFAULT_LOGIN_GUARD, LoginGuard, type LoginGuardOptions } from '../../../core/api/login-guard.js';

/** A guard whose sleeps advance a virtual clock at once, recording each wait. */
function guard(options: Partial<LoginGuardOptions> = {}) {
  let clock = 1_000_000;
  const waits: number[] = [];
  const g = new LoginGuard(
    { ...DEFAULT_LOGIN_GUARD, ...options },
    () => clock,
    async (ms) => {
      waits.push(ms);
      clock += ms;
    },
  );
  return { g, waits, advance: (ms: number) => (clock += ms) };
}

const wrong = async (): Promise<string | undefined> => undefined;
const right = async (): Promise<string | undefined> => 'admin';

describe('LoginGuard', () => {
  it('waits nothing for the first failures, then doubles the wait up to its cap', () => {
    const { g } = guard();
    expect([0, 4, 5, 6, 7, 9, 10, 50].map((n) => g.delay(n))).toEqual([
      0, 0, 1_000, 2_000, 4_000, 16_000, 30_000, 30_000,
    ]);
  });

  it('checks the right password after any number of failures: a wait, never a lockout', async () => {
    const { g, waits } = guard();
    for (let i = 0; i < 12; i++) expect(await g.attempt('admin', wrong)).toBeUndefined();
    expect(await g.attempt('ADMIN', right)).toBe('admin');
    expect(waits.at(-1)).toBe(30_000);
    // A success clears the failures: the next wrong one waits nothing.
    const before = waits.length;
    expect(await g.attempt('admin', wrong)).toBeUndefined();
    expect(waits).toHaveLength(before);
  });

  it('counts guesses sent at once like guesses in a row, and refuses the surplus before any check', async () => {
    const { g } = guard({ maxPending: 8 });
    let running = 0;
    let most = 0;
    const slowWrong = async (): Promise<string | undefined> => {
      running += 1;
      most = Math.max(most, running);
      await Promise.resolve();
      running -= 1;
      return undefined;
    };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => g.attempt('admin', slowWrong)),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(42);
    for (const r of refused) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ApiProblem);
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        status: 429,
        code: 'TOO_MANY_FAILED_LOGINS',
      });
    }
    expect(g.checks).toBe(8);
    expect(most).toBe(1);
    // Those eight count: the ninth failure waits its delay.
    expect(g.delay(8)).toBeGreaterThan(0);
  });

  it('forgets failures after a quiet while, and spraying usernames does not wash out a guessed one', async () => {
    const { g, waits, advance } = guard();
    for (let i = 0; i < 7; i++) await g.attempt('admin', wrong);
    for (let i = 0; i < 10_050; i++) await g.attempt(`user-${i}`, wrong);
    const before = waits.length;
    await g.attempt('admin', wrong);
    expect(waits.slice(before)).toEqual([4_000]);
    advance(DEFAULT_LOGIN_GUARD.forgetMs + 1);
    const quiet = waits.length;
    await g.attempt('admin', wrong);
    expect(waits).toHaveLength(quiet);
  });

  it('runs at most two password checks at once on the node, whoever asks', async () => {
    const { g } = guard();
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const held = (): Promise<string | undefined> =>
      new Promise((resolve) => {
        running += 1;
        most = Math.max(most, running);
        releases.push(() => {
          running -= 1;
          resolve(undefined);
        });
      });
    const all = Promise.all(Array.from({ length: 6 }, (_, i) => g.attempt(`u${i}`, held)));
    for (let released = 0; released < 6; released++) {
      while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    await all;
    expect(most).toBe(2);
  });
});
