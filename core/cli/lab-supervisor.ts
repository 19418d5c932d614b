/**
 * The processes of a `meshdesk lab`: it starts each member (controller node or router agent), keeps
 * the lab running when one dies (that is what a lab is for: showing failover), says so, and can
 * kill and restart any member by name. `meshdesk lab` drives it from its standard input; the
 * training lab's UI will drive the same methods.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type MemberKind = 'controller' | 'router';
export type MemberState = 'starting' | 'running' | 'exited' | 'stopping';

export interface MemberSpec {
  readonly name: string;
  readonly kind: MemberKind;
  /** The command line (after the executable) that starts it the first time. */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** What it prints once ready; group 1, when there is one, is its UI URL. */
  readonly ready: RegExp;
  /** How it starts again: a restarted node neither bootstraps nor joins, it has its data. */
  readonly restartArgs?: readonly string[];
  readonly restartEnv?: NodeJS.ProcessEnv;
}

export interface MemberStatus {
  readonly name: string;
  readonly kind: MemberKind;
  readonly state: MemberState;
  /** The running process's id; the last one's after it exited. */
  readonly pid: number | null;
  readonly url: string | null;
  /** How the last process ended, e.g. `killed by SIGKILL`; null while it runs. */
  readonly exit: string | null;
}

interface Member {
  readonly spec: MemberSpec;
  child: ChildProcess | null;
  pid: number | null;
  state: MemberState;
  url: string | null;
  exit: string | null;
  starts: number;
}

export interface LabSupervisorOptions {
  /** The executable and the arguments before the member's own (node and bin/meshdesk.js). */
  readonly command: readonly [string, ...string[]];
  /** Called after a member died on its own (not when the supervisor stopped or killed it). */
  readonly onUnexpectedExit?: (member: MemberStatus) => void;
  /** How long a member may take to stop on SIGTERM before it gets SIGKILL (default 10 s). */
  readonly stopTimeoutMs?: number;
}

export class LabSupervisor {
  private readonly members = new Map<string, Member>();
  private stopping = false;

  constructor(private readonly options: LabSupervisorOptions) {}

  /** Starts a new member and resolves once it says it is ready (rejects if it exits first). */
  async start(spec: MemberSpec): Promise<MemberStatus> {
    if (this.members.has(spec.name)) throw new Error(`${spec.name} is already a member of the lab`);
    const member: Member = {
      spec,
      child: null,
      pid: null,
      state: 'starting',
      url: null,
      exit: null,
      starts: 0,
    };
    this.members.set(spec.name, member);
    await this.launch(member);
    return this.describe(member);
  }

  /** Stops the member if it runs, then starts it again with its data. */
  async restart(name: string): Promise<MemberStatus> {
    const member = this.member(name);
    if (member.state === 'starting' || member.state === 'stopping') {
      throw new Error(`${name} is ${member.state}; wait until it has`);
    }
    if (member.child) await this.stopChild(member);
    await this.launch(member);
    return this.describe(member);
  }

  /** Kills the member's process as a crash would (SIGKILL by default); it stays down until restarted. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<MemberStatus> {
    const member = this.member(name);
    const child = member.child;
    if (!child || member.state !== 'running') throw new Error(`${name} is not running`);
    member.state = 'stopping';
    const exited = exitOf(child);
    child.kill(signal);
    await exited;
    return this.describe(member);
  }

  status(): MemberStatus[] {
    return [...this.members.values()].map((m) => this.describe(m));
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  /** Stops every member (SIGTERM, then SIGKILL after the timeout); no exit is reported after this. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.members.values()].map((m) => this.stopChild(m)));
  }

  private member(name: string): Member {
    const member = this.members.get(name);
    if (!member) {
      const names = [...this.members.keys()].join(', ');
      throw new Error(`no member named '${name}' (the lab has ${names || 'none'})`);
    }
    return member;
  }

  private async launch(member: Member): Promise<void> {
    const { spec } = member;
    const again = member.starts > 0;
    const args = again ? (spec.restartArgs ?? spec.args) : spec.args;
    const env = again ? (spec.restartEnv ?? spec.env) : spec.env;
    const [executable, ...prefix] = this.options.command;
    const child = spawn(executable, [...prefix, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    member.child = child;
    member.pid = child.pid ?? null;
    member.state = 'starting';
    member.exit = null;
    member.starts += 1;
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
    const ready = new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-8000);
        const match = spec.ready.exec(output);
        if (!match) return;
        child.stdout?.off('data', onData);
        // Keep draining its output so that a chatty member never blocks on a full pipe.
        child.stdout?.resume();
        member.url = match[1]?.replace(/\/$/, '') ?? null;
        member.state = 'running';
        resolve();
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code, signal) => {
        const how = describeExit(code, signal);
        if (member.state === 'starting') {
          member.state = 'exited';
          member.exit = how;
          member.child = null;
          reject(
            new Error(`${spec.name} exited (${how}) before it was ready: ${lastLine(errors || output)}`),
          );
          return;
        }
        const expected = member.state === 'stopping' || this.stopping;
        member.state = 'exited';
        member.exit = how;
        member.child = null;
        if (!expected) this.options.onUnexpectedExit?.(this.describe(member));
      });
    });
    await ready;
  }

  private async stopChild(member: Member): Promise<void> {
    const child = member.child;
    if (!child) return;
    member.state = 'stopping';
    const exited = exitOf(child);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.options.stopTimeoutMs ?? 10_000);
    await exited;
    clearTimeout(timer);
  }

  private describe(member: Member): MemberStatus {
    return {
      name: member.spec.name,
      kind: member.spec.kind,
      state: member.state,
      pid: member.pid,
      url: member.url,
      exit: member.exit,
    };
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${String(code)}`;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
