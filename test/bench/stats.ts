/**
 * What every benchmark shares: repeating a measurement after a warm-up, summarising the samples
 * (median, min, max) and printing figures, either as an aligned table or as one JSON object per
 * line and figure (DESIGN.md §5: `{"bench","metric","unit","median","min","max","runs", ...context}`).
 */

/** Extra facts about a figure (client count, entry size, …); spread into its JSON line. */
export type Context = Readonly<Record<string, string | number | boolean>>;

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export interface Figure extends Summary {
  readonly bench: string;
  readonly metric: string;
  readonly unit: string;
  readonly context: Context;
}

/** How the CLI asks a benchmark to run. */
export interface BenchOptions {
  /** Measured runs (the median is over these). */
  readonly runs: number;
  /** Runs done first and thrown away, so that the JIT and caches are warm. */
  readonly warmup: number;
  /** A tiny size for smoke tests: the figures only show that the benchmark works. */
  readonly quick: boolean;
}

export interface Benchmark {
  readonly name: string;
  /** One line for the list the CLI prints. */
  readonly description: string;
  run(options: BenchOptions): Promise<readonly Figure[]>;
}

const RESERVED = new Set(['bench', 'metric', 'unit', 'median', 'min', 'max', 'runs']);

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('no samples to summarise');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, runs: sorted.length };
}

/** Runs `measure` `warmup` times (results dropped), then `runs` times; returns the kept results. */
export async function repeat<T>(
  measure: () => T | Promise<T>,
  { runs = 5, warmup = 1 }: { runs?: number; warmup?: number } = {},
): Promise<T[]> {
  for (let i = 0; i < warmup; i++) await measure();
  const results: T[] = [];
  for (let i = 0; i < runs; i++) results.push(await measure());
  return results;
}

export function figure(
  bench: string,
  metric: string,
  unit: string,
  samples: readonly number[],
  context: Context = {},
): Figure {
  for (const key of Object.keys(context)) {
    if (RESERVED.has(key)) throw new Error(`context key "${key}" would hide the figure's own field`);
  }
  return { bench, metric, unit, ...summarize(samples), context };
}

/** Run-by-run ratios of ours against a peer measured in the same runs: a figure with unit "ratio". */
export function ratios(ours: readonly number[], peer: readonly number[]): number[] {
  if (ours.length !== peer.length) throw new Error('ratios need as many peer samples as ours');
  return ours.map((x, i) => x / (peer[i] as number));
}

/** Six significant digits: enough for any benchmark, short enough to read. */
function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

export function toJsonLine(f: Figure): string {
  return JSON.stringify({
    bench: f.bench,
    metric: f.metric,
    unit: f.unit,
    median: round(f.median),
    min: round(f.min),
    max: round(f.max),
    runs: f.runs,
    ...f.context,
  });
}

function formatNumber(x: number): string {
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 1 ? 2 : 4;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** An aligned table, numbers right-aligned, one row per figure. */
export function toTable(figures: readonly Figure[]): string {
  const header = ['bench', 'metric', 'median', 'min', 'max', 'unit', 'runs', 'context'];
  const numeric = [false, false, true, true, true, false, true, false];
  const rows = figures.map((f) => [
    f.bench,
    f.metric,
    formatNumber(f.median),
    formatNumber(f.min),
    formatNumber(f.max),
    f.unit,
    String(f.runs),
    Object.entries(f.context)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => {
        const width = widths[c] as number;
        return numeric[c] ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
