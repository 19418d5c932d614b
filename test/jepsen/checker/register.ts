/** The register workload's checker: each key's history linearizable against the register model. */
import type { CheckResult, Operation, RegisterValue } from '../history.js';
import {
  checkLinearizable,
  type LinearizableOptions,
  type LinearizableResult,
  type Verdict,
} from './linearizable.js';
import { registerModel } from './register-model.js';
import { renderWindow } from './window.js';
import { formatOp } from './format.js';
import { outcomeCounts } from './outcomes.js';

export interface RegisterKeyResult extends LinearizableResult<RegisterValue> {
  readonly key: string;
}

export interface RegisterCheckResult extends CheckResult {
  readonly verdict: Verdict;
  readonly keys: readonly RegisterKeyResult[];
}

export function isRegisterOp(op: Operation): boolean {
  return op.f === 'read' || op.f === 'write' || op.f === 'cas';
}

export function checkRegisters(
  operations: readonly Operation[],
  registers: Readonly<Record<string, RegisterValue>>,
  options: LinearizableOptions = {},
): RegisterCheckResult {
  const byKey = new Map<string, Operation[]>();
  for (const op of operations) {
    if (!isRegisterOp(op)) continue;
    const list = byKey.get(op.key);
    if (list) list.push(op);
    else byKey.set(op.key, [op]);
  }
  const problems: string[] = [];
  const windowText: string[] = [];
  const keys: RegisterKeyResult[] = [];
  let explored = 0;
  let dropped = 0;
  for (const [key, ops] of [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const init = registers[key];
    if (!init) {
      problems.push(`register ${key}: no initial state in the history file, not checked`);
      keys.push({ key, verdict: 'unknown', ops: ops.length, dropped: 0, explored: 0 });
      continue;
    }
    const model = registerModel(init, ops);
    const result = { key, ...checkLinearizable(ops, model, options) };
    keys.push(result);
    explored += result.explored;
    dropped += result.dropped;
    if (result.verdict === 'unknown') {
      problems.push(`register ${key}: undecided after ${result.explored} configurations (search bound)`);
    } else if (result.verdict === 'invalid') {
      const w = result.window;
      problems.push(
        w
          ? `register ${key}: not linearizable; shortest failing window: ${w.ops.length} ` +
              `op${w.ops.length === 1 ? '' : 's'} from ${w.ops[0]!.invokedAt.toFixed(1)} ms`
          : `register ${key}: not linearizable` +
              (result.stuck ? `; no linearization gets past ${formatOp(result.stuck)}` : ''),
      );
      if (result.window) {
        if (windowText.length > 0) windowText.push('');
        windowText.push(...renderWindow(result.window, model, `register ${key}`));
      }
    }
  }

  const verdict: Verdict = keys.some((k) => k.verdict === 'invalid')
    ? 'invalid'
    : keys.some((k) => k.verdict === 'unknown')
      ? 'unknown'
      : 'valid';
  // The window to save beside the history: the shortest of the failing keys'.
  const windows = keys.flatMap((k) => (k.window ? [k.window] : []));
  const shortest = windows.sort((a, b) => a.ops.length - b.ops.length)[0];
  const registerOps = [...byKey.values()].flat();
  return {
    valid: verdict === 'valid',
    verdict,
    problems,
    keys,
    counts: {
      ...outcomeCounts(registerOps),
      keys: keys.length,
      invalidKeys: keys.filter((k) => k.verdict === 'invalid').length,
      unknownKeys: keys.filter((k) => k.verdict === 'unknown').length,
      dropped,
      explored,
    },
    ...(shortest ? { window: shortest.ops } : {}),
    ...(windowText.length > 0 ? { windowText } : {}),
  };
}
