/**
 * The `meshdesk` command. Every subcommand answers `--help`; bad arguments exit 2 with one line
 * saying what is wrong; a command that fails at run time exits 1 with one line saying why
 * (DESIGN.md section 4).
 */
import { UsageError } from './cli/args.js';

const USAGE = `usage: meshdesk <command> [options]

commands:
  start      run a controller node headless (--bootstrap a new cluster, or --join one)
  lab        run a local demo cluster of several nodes with a sample model
  cluster    cluster status and operations through a node's API
  router     run a router agent connected to every controller
  backup     write a consistent copy of the model to a file
  restore    seed a new cluster from a backup and run it
  help       show this help

'meshdesk <command> --help' shows a command's options.`;

type Command = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
) => Promise<number>;

/** Each command loaded when it runs: `meshdesk --help` need not load a node's every dependency. */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  start: async () => (await import('./cli/start.js')).startUntilSignalled,
  lab: async () => (await import('./cli/lab.js')).lab,
  cluster: async () => (await import('./cli/cluster.js')).cluster,
  router: async () => (await import('./cli/router.js')).router,
  backup: async () => (await import('./cli/backup.js')).backup,
  restore: async () => (await import('./cli/backup.js')).restore,
};

/** Where the command writes its lines (the process's stdout and stderr, or a test's buffers). */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const processIo: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  io: Io = processIo,
): Promise<number> {
  const [command, ...rest] = argv;
  const { out } = io;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    out(USAGE);
    return command === undefined ? 2 : 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    io.err(`meshdesk: unknown command '${command}' (see meshdesk --help)`);
    return 2;
  }
  try {
    const run = await load();
    return await run(rest, env, out);
  } catch (err) {
    const usage = err instanceof UsageError;
    const message = (err as Error).message?.split('\n')[0] ?? String(err);
    io.err(`meshdesk ${command}: ${message}${usage ? ` (see meshdesk ${command} --help)` : ''}`);
    return usage ? 2 : 1;
  }
}
