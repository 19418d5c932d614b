/**
 * `npm run sim -- --seeds A-B [--nodes N] [--steps S] [--soak]`: runs the simulator over a range
 * of seeds. Prints one report per failing seed (the invariant, the detail and the last steps of
 * its trace; the whole report also goes to .sim-failures/seed-N.txt) and ends with exactly one
 * line `sim: N passed, N failed`, after a line of the orderings counted (see README.md). Exits 1
 * when any seed failed, 2 on a bad flag.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ORDERING_COUNTERS, runSeed, type RunResult } from './run.js';

const USAGE = `usage: npm run sim -- [--seeds A-B] [--nodes 3..7] [--steps S] [--soak] [--trace N]
  --seeds A-B   seeds to run, inclusive (or a single seed A); default 1-200, with --soak 1-5000
  --nodes N     voters at bootstrap, 3 to 7; default alternates 3 and 5 by seed
  --steps S     simulation steps per seed; default 8000
  --trace N     trace lines printed per failure; default 60 (the file keeps 200)
  --soak        the large default range of seeds`;

const DEFAULT_STEPS = 8000;

interface CliOptions {
  readonly from: number;
  readonly to: number;
  readonly nodes: number | undefined;
  readonly steps: number;
  readonly traceLines: number;
}

class UsageError extends Error {}

function parseCount(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} must be a whole number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function parseCli(argv: readonly string[]): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        seeds: { type: 'string' },
        nodes: { type: 'string' },
        steps: { type: 'string' },
        trace: { type: 'string' },
        soak: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0] : String(err));
  }
  const v = parsed.values;
  if (v.help === true) return 'help';
  let from = 1;
  let to = v.soak === true ? 5000 : 200;
  if (v.seeds !== undefined) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(v.seeds);
    if (!m) throw new UsageError(`--seeds must be A-B or A (whole numbers), got '${v.seeds}'`);
    from = Number(m[1]);
    to = m[2] === undefined ? from : Number(m[2]);
    if (from > to) throw new UsageError(`--seeds range ${v.seeds} is empty: ${from} > ${to}`);
    if (to > 0xffffffff) throw new UsageError(`--seeds must be below 2^32`);
  }
  return {
    from,
    to,
    nodes: v.nodes === undefined ? undefined : parseCount('nodes', v.nodes, 3, 7),
    steps: v.steps === undefined ? DEFAULT_STEPS : parseCount('steps', v.steps, 1, 10_000_000),
    traceLines: v.trace === undefined ? 60 : parseCount('trace', v.trace, 0, 200),
  };
}

/** Voters for a seed when --nodes is not given: 3 and 5 alternately. */
function nodesForSeed(seed: number): number {
  return seed % 2 === 0 ? 5 : 3;
}

function report(r: RunResult, opts: CliOptions, lines: number): string {
  const v = r.violation ?? { invariant: '?', detail: '' };
  const head = `seed ${r.seed} (${r.nodes} nodes, ${opts.steps} steps): FAIL ${v.invariant}: ${v.detail}`;
  const replay = `  replay: npm run sim -- --seeds ${r.seed} --nodes ${r.nodes} --steps ${opts.steps}`;
  const trace = r.trace.slice(Math.max(0, r.trace.length - lines)).map((l) => `    ${l}`);
  return [head, replay, ...(trace.length > 0 ? ['  last steps:', ...trace] : [])].join('\n');
}

async function main(): Promise<number> {
  let opts: CliOptions | 'help';
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sim: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let passed = 0;
  let failed = 0;
  const orderings = Object.fromEntries(ORDERING_COUNTERS.map((k) => [k, 0]));
  const progress = process.stderr.isTTY && opts.to - opts.from >= 100;
  for (let seed = opts.from; seed <= opts.to; seed++) {
    const nodes = opts.nodes ?? nodesForSeed(seed);
    const r = await runSeed({ seed, nodes, steps: opts.steps });
    for (const k of ORDERING_COUNTERS) orderings[k] = (orderings[k] ?? 0) + (r.stats[k] ?? 0);
    if (r.ok) {
      passed++;
    } else {
      failed++;
      process.stdout.write(`${report(r, opts, opts.traceLines)}\n`);
      try {
        mkdirSync('.sim-failures', { recursive: true });
        writeFileSync(`.sim-failures/seed-${seed}.txt`, `${report(r, opts, 200)}\n`);
      } catch {
        // The report was printed; the file is a convenience.
      }
    }
    if (progress && (seed - opts.from + 1) % 100 === 0) {
      process.stderr.write(
        `\rsim: ${seed - opts.from + 1}/${opts.to - opts.from + 1} seeds, ${failed} failed`,
      );
    }
  }
  if (progress) process.stderr.write('\n');
  // The orderings only the running Replica has: a soak that never showed them proved less.
  process.stdout.write(
    `sim: orderings: ${orderings['earlySends']} appends sent before the leader's fsync ` +
      `(${orderings['acksBeforeLeaderSync']} acknowledged before it finished), ` +
      `${orderings['appliedWhileSyncing']} applies while an fsync was in flight\n`,
  );
  process.stdout.write(`sim: ${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
