/**
 * The bank workload's checker (after Jepsen's bank test): transfers move money between accounts in
 * one POST /batch each, so every read — a snapshot — must name exactly the accounts, hold no
 * negative balance, and sum to the total. A read that does not saw a half-applied batch.
 */
import type { CheckResult, HistoryFile, Operation } from '../history.js';
import type { Verdict } from './search.js';
import { formatOp } from './format.js';
import { outcomeCounts } from './outcomes.js';

export interface BankCheckResult extends CheckResult {
  readonly verdict: Verdict;
}

/** What is wrong with one read's balances; empty when nothing is. */
export function badBalances(output: unknown, accounts: readonly string[], total: number): string[] {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return ['not a balance map'];
  const balances = output as Record<string, unknown>;
  const wrong: string[] = [];
  const missing = accounts.filter((a) => !(a in balances));
  const extra = Object.keys(balances).filter((a) => !accounts.includes(a));
  if (missing.length > 0) wrong.push(`missing account(s) ${missing.join(', ')}`);
  if (extra.length > 0) wrong.push(`unknown account(s) ${extra.join(', ')}`);
  let sum = 0;
  for (const [account, balance] of Object.entries(balances)) {
    if (typeof balance !== 'number' || !Number.isFinite(balance)) {
      wrong.push(`${account} is ${JSON.stringify(balance)}`);
      continue;
    }
    if (balance < 0) wrong.push(`${account}=${balance} is negative`);
    sum += balance;
  }
  if (sum !== total) wrong.push(`sum ${sum} ≠ total ${total}`);
  return wrong;
}

export function checkBank(operations: readonly Operation[], bank: HistoryFile['bank']): BankCheckResult {
  const ops = operations.filter((o) => o.f === 'transfer' || o.f === 'readBank');
  const transfers = ops.filter((o) => o.f === 'transfer');
  const reads = ops.filter((o) => o.f === 'readBank');
  const okReads = reads.filter((o) => o.outcome === 'ok');
  const problems: string[] = [];
  let badReads = 0;
  if (!bank) problems.push('bank: the history names no accounts and total, reads not checked');
  else {
    for (const read of okReads) {
      const wrong = badBalances(read.output, bank.accounts, bank.total);
      if (wrong.length === 0) continue;
      badReads++;
      problems.push(`bank: ${formatOp(read)}: ${wrong.join('; ')}`);
    }
  }
  if (bank && okReads.length === 0) problems.push('bank: no successful read to check');
  const verdict: Verdict = badReads > 0 ? 'invalid' : !bank || okReads.length === 0 ? 'unknown' : 'valid';
  const transferCounts = outcomeCounts(transfers);
  return {
    valid: verdict === 'valid',
    verdict,
    problems,
    counts: {
      ...outcomeCounts(ops),
      transfers: transfers.length,
      transfersOk: transferCounts.ok,
      transfersFail: transferCounts.fail,
      transfersInfo: transferCounts.info,
      reads: reads.length,
      readsOk: okReads.length,
      badReads,
    },
  };
}
