/** Operations as the report prints them: one line each, in aligned columns, like Knossos's. */
import type { Operation } from '../history.js';

const LONG = 60;

/** A compact rendering of an input or output: `value=68 revision=7`, `["a1","a2"]`, `-`. */
export function formatValue(x: unknown): string {
  if (x === undefined) return '-';
  if (x === null || typeof x !== 'object') return JSON.stringify(x) ?? String(x);
  const text = Array.isArray(x)
    ? `[${x.map(formatValue).join(',')}]`
    : Object.entries(x as Record<string, unknown>)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(' ');
  return text.length > LONG ? `${text.slice(0, LONG - 1)}…(${Array.isArray(x) ? x.length : 'obj'})` : text;
}

function ms(t: number | undefined): string {
  return t === undefined ? '?' : t.toFixed(1);
}

function outcomeText(op: Operation): string {
  if (op.outcome === 'ok') return 'ok';
  const why = [op.status, op.error].filter((x) => x !== undefined).join(' ');
  return why ? `${op.outcome} ${why}` : op.outcome;
}

/** The columns of one op: id, process, node, f, input, outcome, output, invoked → completed. */
export function opColumns(op: Operation): string[] {
  return [
    `#${op.id}`,
    `p${op.process}`,
    `n${op.node}`,
    op.f,
    formatValue(op.input),
    outcomeText(op),
    op.outcome === 'ok' ? formatValue(op.output) : '',
    `${ms(op.invokedAt)} → ${ms(op.outcome === 'info' ? undefined : op.completedAt)} ms`,
  ];
}

/** Ops as lines with the columns aligned across them; `mark` prefixes chosen ops. */
export function formatOps(ops: readonly Operation[], mark?: (op: Operation) => string): string[] {
  const rows = ops.map(opColumns);
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((row, r) => {
    const text = row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
    return (mark ? mark(ops[r]!) : '') + text;
  });
}

export function formatOp(op: Operation): string {
  return opColumns(op)
    .filter((c) => c !== '')
    .join(' ');
}
