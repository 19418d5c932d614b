/** A `meshdesk lab` process as a person runs it: its output to read, its standard input to type on. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { captureOutput } from './child-output.js';
import { ADMIN_PASSWORD } from './controller-processes.js';
import { freePortBlock } from './kv-cluster.js';
import { waitFor } from './wait.js';

const BIN = new URL('../../bin/meshdesk.js', import.meta.url).pathname;

export interface RunningLab {
  readonly process: ChildProcessWithoutNullStreams;
  readonly basePort: number;
  readonly exited: Promise<number | null>;
  /** Everything it printed so far. */
  stdout(): string;
  /** Waits until its output matches, failing at once if the lab exits. */
  printed(pattern: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Types one line on its standard input. */
  type(line: string): void;
  /** Stops it as Ctrl-C would (it stops its members), if it still runs; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `meshdesk lab ARGS` on a free block of ports and resolves once it says it is ready. */
export async function startLab(args: readonly string[]): Promise<RunningLab> {
  // The lab uses P+i (API), P+100+i (cluster) and P+201… (router links).
  const basePort = await freePortBlock(210);
  const child = spawn(process.execPath, [BIN, 'lab', ...args, '--base-port', String(basePort)], {
    env: { ...process.env, MESHDESK_ADMIN_PASSWORD: ADMIN_PASSWORD, MESHDESK_LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const { stdout, stderr, exited } = captureOutput(child);
  const printed = async (pattern: RegExp, what: string, timeoutMs = 30_000) => {
    let match: RegExpMatchArray | null = null;
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`the lab exited: ${stderr()}\n${stdout()}`);
        match = pattern.exec(stdout());
        return match !== null;
      },
      what,
      timeoutMs,
      50,
    );
    return match as unknown as RegExpMatchArray;
  };
  const lab: RunningLab = {
    process: child,
    basePort,
    exited,
    stdout,
    printed,
    type: (line) => void child.stdin.write(`${line}\n`),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  try {
    await printed(/Ctrl-C stops the lab/, 'the lab ready', 90_000);
  } catch (err) {
    await lab.stop();
    throw err;
  }
  return lab;
}

export interface LabNode {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly leader: boolean;
}

/** The controllers the lab announced once ready: name, UI URL, process id, and whether it leads. */
export function announcedNodes(stdout: string): LabNode[] {
  return [...stdout.matchAll(/^ {2}(node-\d): (http:\/\/\S+)\/ \(pid (\d+)(, leader)?\)$/gm)].map((m) => ({
    name: m[1] as string,
    url: m[2] as string,
    pid: Number(m[3]),
    leader: m[4] !== undefined,
  }));
}
