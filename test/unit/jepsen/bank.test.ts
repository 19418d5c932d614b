/** The bank checker: every read is a snapshot that conserves money. */
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../jepsen/history.js';
import { badBalances, checkBank } from '../../jepsen/checker/bank.js';

const BANK = { accounts: ['a', 'b', 'c'], total: 30 };

function bankOps() {
  let id = 0;
  return {
    transfer: (outcome: Operation['outcome']): Operation => ({
      id: id++,
      process: 0,
      node: 0,
      f: 'transfer',
      key: 'bank',
      input: { from: 'a', to: 'b', amount: 1 },
      invokedAt: id,
      ...(outcome === 'info' ? {} : { completedAt: id + 1 }),
      outcome,
    }),
    read: (balances: Record<string, unknown>): Operation => ({
      id: id++,
      process: 1,
      node: 1,
      f: 'readBank',
      key: 'bank',
      invokedAt: id,
      completedAt: id + 1,
      outcome: 'ok',
      output: balances,
    }),
  };
}

describe('the bank checker', () => {
  it('accepts reads that sum to the total, and counts the transfers', () => {
    const h = bankOps();
    const result = checkBank(
      [h.transfer('ok'), h.transfer('fail'), h.transfer('info'), h.read({ a: 9, b: 11, c: 10 })],
      BANK,
    );
    expect(result.valid).toBe(true);
    expect(result.counts).toMatchObject({
      transfersOk: 1,
      transfersFail: 1,
      transfersInfo: 1,
      readsOk: 1,
      badReads: 0,
    });
  });

  it('reports each bad read: a wrong sum, a negative balance, a missing or unknown account', () => {
    const h = bankOps();
    const result = checkBank(
      [
        h.read({ a: 9, b: 10, c: 10 }),
        h.read({ a: -1, b: 21, c: 10 }),
        h.read({ a: 10, b: 20 }),
        h.read({ a: 10, b: 10, c: 5, d: 5 }),
        h.read({ a: 10, b: 10, c: 10 }),
      ],
      BANK,
    );
    expect(result.valid).toBe(false);
    expect(result.counts.badReads).toBe(4);
    expect(result.problems).toHaveLength(4);
    expect(result.problems[0]).toContain('sum 29 ≠ total 30');
    expect(result.problems[1]).toContain('a=-1 is negative');
    expect(result.problems[2]).toContain('missing account(s) c');
    expect(result.problems[3]).toContain('unknown account(s) d');
  });

  it('rejects balances that are not numbers', () => {
    expect(badBalances({ a: '10', b: 10, c: 10 }, BANK.accounts, BANK.total)).toContain('a is "10"');
    expect(badBalances([10, 10, 10], BANK.accounts, BANK.total)).toEqual(['not a balance map']);
  });

  it("answers 'unknown' with no successful read or no bank in the history", () => {
    const h = bankOps();
    expect(checkBank([h.transfer('ok')], BANK).verdict).toBe('unknown');
    expect(checkBank([h.read({ a: 10, b: 10, c: 10 })], undefined).verdict).toBe('unknown');
  });
});
