/** What a run prints: the checkers' report, the runner's own checks, and a one-line summary. */
import { formatReport } from './checker/index.js';
import type { HistoryFile } from './history.js';
import { FAULT_KINDS } from './nemesis.js';
import type { Checked } from './run.js';

/** The figures of a run in one line: ops by outcome, faults, acked writes, set and bank. */
export function summary(file: HistoryFile, checked: Checked): string {
  const ops = file.operations;
  const by = (outcome: string) => ops.filter((o) => o.outcome === outcome).length;
  const faults = file.faults.filter((f) =>
    (FAULT_KINDS as readonly string[]).includes(f.what.split(' ')[0] ?? ''),
  );
  const acked = ops.filter((o) => o.outcome === 'ok' && ['write', 'cas', 'add', 'transfer'].includes(o.f));
  const { set, bank } = checked.history.results;
  const contract = checked.results['contract'];
  return [
    `ops ${ops.length} (ok ${by('ok')}, fail ${by('fail')}, info ${by('info')})`,
    `faults ${faults.length}`,
    `acked writes ${acked.length}`,
    `indeterminate ${by('info')}`,
    ...(set ? [`set ${set.verdict} (acked ${set.counts.acked ?? 0}, lost ${set.counts.lost ?? 0})`] : []),
    ...(bank
      ? [
          `bank ${bank.verdict} (transfers ok ${bank.counts.transfersOk ?? 0}, bad reads ${bank.counts.badReads ?? 0})`,
        ]
      : []),
    `contract violations ${contract?.problems.length ?? 0}`,
  ].join(', ');
}

/** The checkers' report, then the runner's own checks when they found something. */
export function report(file: HistoryFile, checked: Checked): string {
  const lines = [formatReport(file, checked.history)];
  for (const name of ['contract', 'agreement', 'runner']) {
    const r = checked.results[name];
    if (r && !r.valid)
      lines.push(`${name}: ${r.problems.length} problem(s)`, ...r.problems.slice(0, 20).map((p) => `  ${p}`));
  }
  return lines.join('\n');
}
