/**
 * One Jepsen run: start a cluster, set the workloads up, run the clients and the nemesis together
 * for the run's time, heal everything, wait for the cluster to agree, read the final state from
 * every node, stop everything, save the history and check it. Cleanup always runs: the cluster's
 * processes are SIGKILLed and its data removed whatever happened.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SimRng } from '../sim/rng.js';
import { checkAgreement } from './agreement.js';
import { checkHistory, saveHistory, type HistoryCheck } from './checker/index.js';
import { ApiClient, Session, type Completion } from './client.js';
import { JepsenCluster } from './cluster.js';
import { checkContract } from './contract.js';
import type { CheckResult, HistoryFile, OpF } from './history.js';
import { openHost, type Net } from './net.js';
import { FaultRoutePartitioner } from './partitioner.js';
import { healAll, planFaults, runNemesis, type FaultKind, type NemesisParts } from './nemesis.js';
import { Recorder } from './recorder.js';
import { setupBank, runReadBank } from './workloads/bank.js';
import { runClients } from './workloads/clients.js';
import type { WorkloadName, Workloads } from './workloads/mix.js';
import { runRegisterOp, setupRegisters } from './workloads/register.js';
import { runReadSet } from './workloads/set.js';
import { ClientState } from './workloads/client-state.js';

export interface RunOptions {
  readonly seed: number;
  readonly timeMs: number;
  readonly nodes: number;
  readonly clients: number;
  readonly keys: number;
  readonly faultEveryMs: number;
  readonly net: Net;
  readonly workloads: readonly WorkloadName[];
  /** Operations per second per client, at most. */
  readonly rate: number;
  /** Bank accounts. */
  readonly accounts: number;
  /** Fault kinds to draw from (all by default). */
  readonly faults?: readonly FaultKind[];
  /** Where the history file goes (out/jepsen). */
  readonly outDir: string;
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface Checked {
  readonly valid: boolean;
  /** The checkers' own answer (register, set, bank), for their report. */
  readonly history: HistoryCheck;
  /** Those results plus the runner's: contract, agreement, runner problems. */
  readonly results: Record<string, CheckResult>;
}

export interface RunResult {
  readonly file: HistoryFile;
  readonly path: string;
  readonly checked: Checked;
}

const ADMIN_PASSWORD = 'jepsen-admin-password';
const INITIAL_BALANCE = 100;
const CONVERGE_MS = 30_000;

export async function runOnce(options: RunOptions): Promise<RunResult> {
  const signal = options.signal ?? new AbortController().signal;
  const rng = new SimRng(options.seed);
  const { host, partitioner: lanPartitioner } = await openHost(options.net, options.nodes, options.log);
  const cluster = await JepsenCluster.start({
    size: options.nodes,
    host,
    adminPassword: ADMIN_PASSWORD,
    log: options.log,
  });
  const session = new Session({ username: 'admin', password: ADMIN_PASSWORD });
  const admin = new ApiClient(cluster.http, session);
  const api = new ApiClient(
    cluster.nodes.map((_, i) => cluster.httpNode(i, 2_500)),
    session,
  );
  const runnerProblems: string[] = [];
  let file: HistoryFile;
  try {
    await admin.login(0);
    const workloads: Workloads = {
      ...(options.workloads.includes('register')
        ? { registers: await setupRegisters(admin, options.keys) }
        : {}),
      set: options.workloads.includes('set'),
      ...(options.workloads.includes('bank')
        ? { bank: await setupBank(admin, options.accounts, INITIAL_BALANCE) }
        : {}),
    };
    const partitioner = lanPartitioner ?? new FaultRoutePartitioner(cluster, admin);
    const recorder = new Recorder();
    const parts: NemesisParts = { cluster, partitioner, admin, recorder, signal, log: options.log };
    const plan = planFaults(rng.fork('nemesis'), {
      durationMs: options.timeMs,
      everyMs: options.faultEveryMs,
      nodes: options.nodes,
      ...(options.faults ? { kinds: options.faults } : {}),
    });
    const [clients, nemesisProblems] = await Promise.all([
      runClients(api, recorder, workloads, rng.fork('clients'), {
        clients: options.clients,
        nodes: options.nodes,
        untilMs: options.timeMs,
        maxOpsPerClient: Math.ceil((options.timeMs / 1000) * options.rate * 2),
        rate: options.rate,
        signal,
      }),
      runNemesis(plan, parts, options.timeMs),
    ]);
    runnerProblems.push(...nemesisProblems);
    try {
      if (signal.aborted) runnerProblems.push('interrupted: no heal, no final reads');
      else {
        await healAll(parts, CONVERGE_MS);
        await finalReads(api, recorder, workloads, clients, options.nodes);
      }
    } catch (err) {
      runnerProblems.push(`final: ${err instanceof Error ? err.message : String(err)}`);
      for (const node of cluster.nodes) {
        const tail = node.stderr.trim().split('\n').slice(-3).join(' | ');
        if (tail) runnerProblems.push(`n${node.index} stderr: ${tail}`);
      }
    }
    file = {
      seed: options.seed,
      nodes: options.nodes,
      clients: options.clients,
      options: {
        timeMs: options.timeMs,
        keys: options.keys,
        faultEveryMs: options.faultEveryMs,
        net: host.kind,
        workloads: options.workloads,
        rate: options.rate,
        accounts: options.accounts,
        plannedFaults: plan.map((f) => f.kind),
      },
      registers: workloads.registers?.initial ?? {},
      ...(workloads.bank ? { bank: { accounts: workloads.bank.accounts, total: workloads.bank.total } } : {}),
      operations: recorder.operations(),
      faults: recorder.faults(),
    };
  } finally {
    api.close();
    await cluster.close();
  }
  const path = await save(file, options);
  return { file, path, checked: check(file, runnerProblems) };
}

/** The checkers' verdicts, the contract's, and the runner's own problems (a node that would not restart). */
export function check(file: HistoryFile, runnerProblems: readonly string[] = []): Checked {
  const history = checkHistory(file);
  const results: Record<string, CheckResult> = {
    ...history.results,
    contract: checkContract(file),
    agreement: checkAgreement(file),
  };
  if (runnerProblems.length > 0) {
    results['runner'] = { valid: false, problems: [...runnerProblems], counts: {} };
  }
  const valid = history.valid && Object.values(results).every((r) => r.valid);
  return { valid, history, results };
}

async function save(file: HistoryFile, options: RunOptions): Promise<string> {
  await mkdir(options.outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(options.outDir, `${stamp}-seed${options.seed}.json`);
  await saveHistory(path, file);
  return path;
}

/**
 * After the heal: every register, the set and the bank read from every node, as ordinary
 * operations of fresh processes, so the checkers see the final state each node serves.
 */
async function finalReads(
  api: ApiClient,
  recorder: Recorder,
  w: Workloads,
  clients: readonly ClientState[],
  nodes: number,
): Promise<void> {
  let process = Math.max(0, ...clients.map((c) => c.process)) + 1;
  const read = (node: number, f: OpF, key: string, run: () => Promise<Completion>) =>
    recorder.record({ process: process++, node, f, key }, run);
  for (let node = 0; node < nodes; node++) {
    const reader = new ClientState(0, 1, node, new SimRng(0));
    for (const key of w.registers?.keys ?? []) {
      await read(node, 'read', key, () => runRegisterOp(api, reader, { f: 'read', key }));
    }
    if (w.set) await read(node, 'readSet', 'set', () => runReadSet(api, node));
    const bank = w.bank;
    if (bank) await read(node, 'readBank', 'bank', () => runReadBank(api, node, bank));
  }
}
