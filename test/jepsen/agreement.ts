/**
 * After the heal every node must serve the same state: the final reads (those invoked after the
 * runner's `heal-all`) of one key must give the same answer on every node that answered. The set
 * checker sees lost or unexpected elements; this sees nodes that disagree about an indeterminate one.
 */
import type { CheckResult, HistoryFile, Operation } from './history.js';

/** The final reads, by f and key. */
function finalReads(file: HistoryFile): Map<string, Operation[]> {
  const heal = [...file.faults].reverse().find((f) => f.what === 'heal-all');
  const groups = new Map<string, Operation[]>();
  if (!heal) return groups;
  for (const op of file.operations) {
    if (op.invokedAt < heal.at || op.outcome !== 'ok') continue;
    if (op.f !== 'read' && op.f !== 'readSet' && op.f !== 'readBank') continue;
    const name = `${op.f} ${op.key}`;
    groups.set(name, [...(groups.get(name) ?? []), op]);
  }
  return groups;
}

function canonical(output: unknown): string {
  if (Array.isArray(output)) return JSON.stringify([...output].map(String).sort());
  if (output && typeof output === 'object') {
    return JSON.stringify(Object.entries(output).sort(([a], [b]) => a.localeCompare(b)));
  }
  return JSON.stringify(output);
}

export function checkAgreement(file: HistoryFile): CheckResult {
  const problems: string[] = [];
  const groups = finalReads(file);
  for (const [name, ops] of groups) {
    const answers = new Map<string, number[]>();
    for (const op of ops)
      answers.set(canonical(op.output), [...(answers.get(canonical(op.output)) ?? []), op.node]);
    if (answers.size > 1) {
      const shown = [...answers].map(([out, nodes]) => `n${nodes.join(',n')}: ${out.slice(0, 120)}`);
      problems.push(`final ${name} differs between nodes: ${shown.join(' | ')}`);
    }
  }
  if (groups.size === 0) problems.push('no final reads after the heal');
  return {
    valid: problems.length === 0,
    problems,
    counts: { finalReads: [...groups.values()].flat().length },
  };
}
