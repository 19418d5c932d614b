/**
 * The REST contract under faults (DESIGN.md §4), checked from the history alone so that a saved
 * history re-checks the same: no answer to a fault may be a 5xx other than 503/504, an ok answer
 * must describe itself (ETag = revision, X-Raft-Index on writes), and no correct run meets a 4xx
 * other than 412 (the client marks those CONTRACT / UNEXPECTED, client.ts).
 */
import { CONTRACT, UNEXPECTED } from './client.js';
import type { CheckResult, HistoryFile, Operation } from './history.js';

const MARKED = new RegExp(`\\b(${CONTRACT}|${UNEXPECTED}):`);

function violation(op: Operation): string | undefined {
  if (op.status !== undefined && op.status >= 500 && op.status !== 503 && op.status !== 504) {
    return `status ${op.status}`;
  }
  return op.error !== undefined && MARKED.test(op.error) ? op.error : undefined;
}

export function checkContract(file: HistoryFile): CheckResult {
  const problems: string[] = [];
  for (const op of file.operations) {
    const what = violation(op);
    if (what) problems.push(`op ${op.id} (${op.f} ${op.key} on n${op.node}, ${op.outcome}): ${what}`);
  }
  const counts: Record<string, number> = { ops: file.operations.length, violations: problems.length };
  for (const op of file.operations) counts[op.outcome] = (counts[op.outcome] ?? 0) + 1;
  return { valid: problems.length === 0, problems, counts };
}
