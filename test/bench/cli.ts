/**
 * `npm run bench -- NAME [NAME…] [--json] [--runs N] [--quick]`: runs benchmarks and prints their
 * figures as a table, or with --json one JSON object per line and figure. No NAME (or --help) lists
 * the benchmarks; bad arguments exit 2 with one line on stderr.
 */
import { benchmarks } from './registry.js';
import { toJsonLine, toTable, type Benchmark, type Figure } from './stats.js';

const USAGE = 'usage: npm run bench -- NAME [NAME…] [--json] [--runs N] [--quick]';

interface Args {
  readonly names: readonly string[];
  readonly json: boolean;
  readonly runs: number | undefined;
  readonly quick: boolean;
  readonly help: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  const names: string[] = [];
  let json = false;
  let quick = false;
  let help = false;
  let runs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    switch (flag) {
      case '--json':
        json = true;
        break;
      case '--quick':
        quick = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      case '--runs': {
        const value = inline ?? argv[++i];
        if (value === undefined || !/^[1-9][0-9]*$/.test(value) || Number(value) > 1000) {
          throw new UsageError(`--runs needs a whole number from 1 to 1000, not ${value ?? 'nothing'}`);
        }
        runs = Number(value);
        break;
      }
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown flag ${arg} (${USAGE})`);
        if (!benchmarks.some((b) => b.name === arg)) {
          const known = benchmarks.map((b) => b.name).join(', ');
          throw new UsageError(`unknown benchmark "${arg}" (known: ${known})`);
        }
        if (!names.includes(arg)) names.push(arg);
    }
  }
  return { names, json, runs, quick, help };
}

function list(): string {
  const width = Math.max(...benchmarks.map((b) => b.name.length));
  const lines = benchmarks.map((b) => `  ${b.name.padEnd(width)}  ${b.description}`);
  return [USAGE, '', 'benchmarks:', ...lines].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n`);
    return 2;
  }
  if (args.help || args.names.length === 0) {
    process.stdout.write(`${list()}\n`);
    return 0;
  }
  const options = {
    runs: args.runs ?? (args.quick ? 1 : 5),
    warmup: args.quick ? 0 : 1,
    quick: args.quick,
  };
  for (const name of args.names) {
    const bench = benchmarks.find((b) => b.name === name) as Benchmark;
    const figures: readonly Figure[] = await bench.run(options);
    const text = args.json ? figures.map(toJsonLine).join('\n') : `${toTable(figures)}\n`;
    process.stdout.write(`${text}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
