/**
 * `npm run jepsen -- [options]`: Jepsen-style runs against real `meshdesk start` processes (issue
 * 11). Each run saves its history to out/jepsen/<timestamp>-seed<S>.json, prints the checkers'
 * report and a summary; the last line is `jepsen: N passed, N failed`. Exit 1 when any run
 * failed, 2 on a bad flag, 130 when interrupted. `--check FILE` re-checks a saved history.
 */
import { parseArgs } from 'node:util';
import { loadHistory } from './checker/index.js';
import type { Net } from './net.js';
import { killAllNow } from './processes.js';
import { report, summary } from './report.js';
import { check, runOnce, type RunOptions } from './run.js';
import { WORKLOADS, type WorkloadName } from './workloads/mix.js';

const USAGE = `usage: npm run jepsen -- [options]
  --time S           seconds of load per run (default 40)
  --nodes N          3 or 5 (default 3)
  --clients C        concurrent clients, client c on node c % N (default 6)
  --keys K           register keys (default 5)
  --seed S           seed of the first run (default: random, printed)
  --runs R           runs with seeds S..S+R-1 (default 1)
  --fault-every S    about one fault every S seconds (default 5)
  --rate R           operations per second per client, at most (default 20)
  --net NET          loopback or netns (default loopback; netns falls back to loopback when it cannot run)
  --workloads LIST   comma-separated: register,set,bank (default all)
  --check FILE       re-check a saved history instead of running`;

class UsageError extends Error {}

interface Cli {
  readonly runs: number;
  readonly check?: string;
  readonly options: Omit<RunOptions, 'log' | 'signal'>;
}

function count(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`--${flag} must be a number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function parseCli(argv: readonly string[]): Cli | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        time: { type: 'string' },
        nodes: { type: 'string' },
        clients: { type: 'string' },
        keys: { type: 'string' },
        seed: { type: 'string' },
        runs: { type: 'string' },
        'fault-every': { type: 'string' },
        rate: { type: 'string' },
        net: { type: 'string' },
        workloads: { type: 'string' },
        check: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err));
  }
  if (values.help) return 'help';
  const nodes = count('nodes', values.nodes, 3, 3, 5);
  if (nodes === 4) throw new UsageError('--nodes must be 3 or 5');
  const net = values.net ?? 'loopback';
  if (net !== 'loopback' && net !== 'netns')
    throw new UsageError(`--net must be loopback or netns, got '${net}'`);
  const workloads = (values.workloads ?? WORKLOADS.join(',')).split(',').filter(Boolean);
  for (const w of workloads) {
    if (!(WORKLOADS as readonly string[]).includes(w)) {
      throw new UsageError(`--workloads: unknown workload '${w}' (register, set, bank)`);
    }
  }
  if (workloads.length === 0) throw new UsageError('--workloads: name at least one');
  const seed = count('seed', values.seed, Math.floor(Math.random() * 1_000_000), 0, 2 ** 31);
  return {
    runs: count('runs', values.runs, 1, 1, 10_000),
    ...(values.check !== undefined ? { check: values.check } : {}),
    options: {
      seed: Math.floor(seed),
      timeMs: count('time', values.time, 40, 1, 3600) * 1000,
      nodes,
      clients: Math.floor(count('clients', values.clients, 6, 1, 64)),
      keys: Math.floor(count('keys', values.keys, 5, 1, 100)),
      faultEveryMs: count('fault-every', values['fault-every'], 5, 1, 600) * 1000,
      rate: count('rate', values.rate, 20, 0.1, 1000),
      net: net as Net,
      workloads: workloads as WorkloadName[],
      accounts: 5,
      outDir: 'out/jepsen',
    },
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let cli;
  try {
    cli = parseCli(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`jepsen: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (cli === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (cli.check) {
    const file = await loadHistory(cli.check);
    const checked = check(file);
    console.log(report(file, checked));
    console.log(`summary: ${summary(file, checked)}`);
    console.log(`jepsen: ${checked.valid ? '1 passed, 0 failed' : '0 passed, 1 failed'}`);
    return checked.valid ? 0 : 1;
  }

  const abort = new AbortController();
  let interruptedAt = 0;
  const onSignal = (): void => {
    // tsx relays the terminal's SIGINT, so one Ctrl-C can arrive twice: only a later one is "again".
    if (abort.signal.aborted) {
      if (performance.now() - interruptedAt < 1_000) return;
      killAllNow();
      process.exit(130);
    }
    interruptedAt = performance.now();
    console.error('jepsen: interrupted, stopping the cluster (Ctrl-C again to kill at once)');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let passed = 0;
  let failed = 0;
  const o = cli.options;
  for (let r = 0; r < cli.runs && !abort.signal.aborted; r++) {
    const seed = o.seed + r;
    console.log(
      `jepsen: run ${r + 1}/${cli.runs}, seed ${seed}: ${o.nodes} nodes (${o.net}), ${o.clients} clients, ` +
        `${o.keys} keys, ${o.timeMs / 1000} s, a fault every ~${o.faultEveryMs / 1000} s, ${o.workloads.join('+')}`,
    );
    try {
      const { file, path, checked } = await runOnce({
        ...o,
        seed,
        log: (line) => console.log(`  ${line}`),
        signal: abort.signal,
      });
      console.log(report(file, checked));
      console.log(`summary: ${summary(file, checked)}`);
      console.log(`history: ${path}`);
      console.log(`seed ${seed}: ${checked.valid ? 'PASS' : 'FAIL'}`);
      if (checked.valid) passed++;
      else failed++;
    } catch (err) {
      failed++;
      console.log(
        `seed ${seed}: FAIL (the run did not complete: ${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
  console.log(`jepsen: ${passed} passed, ${failed} failed`);
  if (abort.signal.aborted) return 130;
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
