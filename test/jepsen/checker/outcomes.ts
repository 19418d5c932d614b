/** How many operations ended each way: the counts every checker's report starts with. */
import type { Operation } from '../history.js';

export function outcomeCounts(ops: readonly Operation[]): {
  ops: number;
  ok: number;
  fail: number;
  info: number;
} {
  const counts = { ops: ops.length, ok: 0, fail: 0, info: 0 };
  for (const op of ops) counts[op.outcome]++;
  return counts;
}
