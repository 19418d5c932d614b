/**
 * The set workload's checker (after Jepsen's set and set-full checkers). Each `add` creates one
 * element; `readSet` lists them all.
 * - The final read (the ok readSet invoked last) must hold every element acked (ok) before it was
 *   invoked — an ack still in flight when it began may be missing — else `lost`.
 * - No read may hold an element that no add was invoked for (`unexpected`), one whose add was
 *   invoked only after the read completed (`premature`), or one whose add failed: a `fail`
 *   promised the add was never proposed (`failedPresent`).
 * - `info` adds may go either way: those in the final read are `recovered`.
 * - Every earlier read must hold every element acked before it was invoked (`staleReads`).
 */
import type { CheckResult, Operation } from '../history.js';
import type { Verdict } from './search.js';
import { formatOp } from './format.js';
import { outcomeCounts } from './outcomes.js';

export interface SetCheckResult extends CheckResult {
  readonly verdict: Verdict;
}

const SHOWN = 8;

function list(xs: readonly string[]): string {
  return xs.length > SHOWN ? `${xs.slice(0, SHOWN).join(', ')}, … (${xs.length})` : xs.join(', ');
}

const RANK = { fail: 0, info: 1, ok: 2 } as const;

export function checkSet(operations: readonly Operation[]): SetCheckResult {
  const ops = operations.filter((o) => o.f === 'add' || o.f === 'readSet');
  // An element added more than once counts by its best outcome.
  const adds = new Map<string, Operation>();
  for (const op of ops) {
    if (op.f !== 'add') continue;
    const e = String(op.input);
    const had = adds.get(e);
    if (!had || RANK[op.outcome] > RANK[had.outcome]) adds.set(e, op);
  }
  const reads = ops
    .filter((o) => o.f === 'readSet' && o.outcome === 'ok' && Array.isArray(o.output))
    .sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id);
  const contents = new Map(reads.map((r) => [r, new Set((r.output as unknown[]).map(String))]));
  const final = reads[reads.length - 1];
  const acked = [...adds].filter(([, op]) => op.outcome === 'ok');
  const failed = [...adds].filter(([, op]) => op.outcome === 'fail');
  const indeterminate = [...adds].filter(([, op]) => op.outcome === 'info');

  const problems: string[] = [];
  const unexpected = new Set<string>();
  const premature = new Set<string>();
  const failedPresent = new Set<string>();
  let staleReads = 0;
  for (const read of reads) {
    const seen = contents.get(read)!;
    for (const e of seen) {
      const add = adds.get(e);
      if (!add) unexpected.add(e);
      else if (add.outcome === 'fail') failedPresent.add(e);
      else if (read.completedAt !== undefined && add.invokedAt > read.completedAt) premature.add(e);
    }
    if (read === final) continue;
    const missing = acked
      .filter(([e, op]) => (op.completedAt ?? Infinity) < read.invokedAt && !seen.has(e))
      .map(([e]) => e);
    if (missing.length > 0) {
      staleReads++;
      problems.push(`set: ${formatOp(read)} misses ${missing.length} acked element(s): ${list(missing)}`);
    }
  }

  const lost = final
    ? acked
        .filter(([e, op]) => (op.completedAt ?? Infinity) < final.invokedAt && !contents.get(final)!.has(e))
        .map(([e]) => e)
    : [];
  const recovered = final ? indeterminate.filter(([e]) => contents.get(final)!.has(e)).length : 0;
  if (!final) problems.push('set: no successful readSet, nothing to check the adds against');
  if (lost.length > 0)
    problems.push(`set: ${lost.length} acked element(s) lost from the final read: ${list(lost)}`);
  if (unexpected.size > 0) {
    problems.push(`set: ${unexpected.size} element(s) read that were never added: ${list([...unexpected])}`);
  }
  if (failedPresent.size > 0) {
    problems.push(`set: ${failedPresent.size} element(s) read whose add failed: ${list([...failedPresent])}`);
  }
  if (premature.size > 0) {
    problems.push(
      `set: ${premature.size} element(s) read before their add was invoked: ${list([...premature])}`,
    );
  }

  const verdict: Verdict = !final
    ? 'unknown'
    : lost.length + unexpected.size + failedPresent.size + premature.size + staleReads > 0
      ? 'invalid'
      : 'valid';
  return {
    valid: verdict === 'valid',
    verdict,
    problems,
    counts: {
      ...outcomeCounts(ops),
      adds: adds.size,
      acked: acked.length,
      failed: failed.length,
      indeterminate: indeterminate.length,
      recovered,
      lost: lost.length,
      unexpected: unexpected.size,
      failedPresent: failedPresent.size,
      premature: premature.size,
      reads: reads.length,
      staleReads,
    },
  };
}
