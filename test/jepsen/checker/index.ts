/**
 * The checkers of the Jepsen-style suite, run on a whole history: the register workload for
 * linearizability, the set and bank workloads for their invariants. Pure: the runner does the I/O.
 */
import type { CheckResult, HistoryFile, Operation } from '../history.js';
import type { LinearizableOptions, Verdict } from './linearizable.js';
import { checkRegisters, isRegisterOp, type RegisterCheckResult } from './register.js';
import { checkSet, type SetCheckResult } from './set.js';
import { checkBank, type BankCheckResult } from './bank.js';

export { checkLinearizable, searchOps, DEFAULT_MAX_STATES } from './linearizable.js';
export type { LinearizableOptions, LinearizableResult, Verdict } from './linearizable.js';
export type { Model } from './model.js';
export { registerModel, isRevisionMismatch } from './register-model.js';
export { checkRegisters, type RegisterCheckResult, type RegisterKeyResult } from './register.js';
export { checkSet, type SetCheckResult } from './set.js';
export { checkBank, badBalances, type BankCheckResult } from './bank.js';
export { shortestFailingWindow, renderWindow, type FailingWindow } from './window.js';
export { formatOp, formatOps, formatValue } from './format.js';
export { saveHistory, loadHistory, serializeHistory, parseHistory } from './file.js';

export interface HistoryCheck {
  /** True only when every checker that ran says valid. */
  readonly valid: boolean;
  /** invalid if any checker says so, else unknown if any could not decide (or none ran). */
  readonly verdict: Verdict;
  readonly results: {
    readonly register?: RegisterCheckResult;
    readonly set?: SetCheckResult;
    readonly bank?: BankCheckResult;
  };
}

export function checkHistory(file: HistoryFile, options: LinearizableOptions = {}): HistoryCheck {
  const ops = file.operations;
  const has = (pred: (op: Operation) => boolean): boolean => ops.some(pred);
  const results: { register?: RegisterCheckResult; set?: SetCheckResult; bank?: BankCheckResult } = {};
  if (has(isRegisterOp)) results.register = checkRegisters(ops, file.registers, options);
  if (has((o) => o.f === 'add' || o.f === 'readSet')) results.set = checkSet(ops);
  if (file.bank || has((o) => o.f === 'transfer' || o.f === 'readBank'))
    results.bank = checkBank(ops, file.bank);
  const verdicts = Object.values(results).map(
    (r: CheckResult) => r.verdict ?? (r.valid ? 'valid' : 'invalid'),
  );
  const verdict: Verdict = verdicts.includes('invalid')
    ? 'invalid'
    : verdicts.includes('unknown') || verdicts.length === 0
      ? 'unknown'
      : 'valid';
  return { valid: verdict === 'valid', verdict, results };
}

const FAULTS_SHOWN = 12;

function countsLine(name: string, r: CheckResult, extra: readonly string[]): string {
  const c = r.counts;
  const verdict = r.verdict ?? (r.valid ? 'valid' : 'invalid');
  const tail = extra.filter((k) => c[k] !== undefined).map((k) => `${k} ${c[k]}`);
  return (
    `${name.padEnd(9)} ${String(c.ops ?? 0).padStart(6)} ops: ok ${c.ok ?? 0}, fail ${c.fail ?? 0}, ` +
    `info ${c.info ?? 0}${tail.length ? `; ${tail.join(', ')}` : ''} — ${verdict}`
  );
}

/** A short report: what ran, counts per workload, the faults, problems, then failing windows. */
export function formatReport(file: HistoryFile, check: HistoryCheck): string {
  const { register, set, bank } = check.results;
  const lines = [
    `history: seed ${file.seed}, ${file.nodes} nodes, ${file.clients} clients, ` +
      `${file.operations.length} ops, ${file.faults.length} faults`,
  ];
  if (register) lines.push(countsLine('register', register, ['keys', 'dropped', 'explored']));
  if (set) {
    lines.push(
      countsLine('set', set, [
        'acked',
        'failed',
        'indeterminate',
        'recovered',
        'lost',
        'unexpected',
        'reads',
      ]),
    );
  }
  if (bank)
    lines.push(countsLine('bank', bank, ['transfersOk', 'transfersFail', 'transfersInfo', 'badReads']));

  if (file.faults.length > 0) {
    const kinds = new Map<string, number>();
    for (const f of file.faults) {
      const kind = f.what.split(/\s/)[0] ?? f.what;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    lines.push(`faults: ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    for (const f of file.faults.slice(0, FAULTS_SHOWN)) {
      lines.push(
        `  ${f.at.toFixed(1).padStart(10)} ms  ${f.what}${f.nodes.length ? ` (nodes ${f.nodes.join(', ')})` : ''}`,
      );
    }
    if (file.faults.length > FAULTS_SHOWN) lines.push(`  … ${file.faults.length - FAULTS_SHOWN} more`);
  }

  lines.push(`verdict: ${check.verdict.toUpperCase()}`);
  const all = [register, set, bank].filter((r): r is NonNullable<typeof r> => r !== undefined);
  const problems = all.flatMap((r) => r.problems);
  if (problems.length > 0) lines.push('problems:', ...problems.map((p) => `  ${p}`));
  for (const r of all) if (r.windowText) lines.push('', ...r.windowText);
  return lines.join('\n');
}
