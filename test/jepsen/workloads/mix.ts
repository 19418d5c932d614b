/**
 * Which operation a client runs next, from its seeded stream: mostly register operations, some
 * set adds and bank transfers/reads, over the workloads the run enables. The same seed gives every
 * client the same sequence of choices; only timing (and the revisions cas sends) differ.
 */
import type { SimRng } from '../../sim/rng.js';
import type { Completion, ApiClient } from '../client.js';
import type { Invocation } from '../recorder.js';
import { planTransfer, runReadBank, runTransfer, type Bank, type Transfer } from './bank.js';
import type { ClientState } from './client-state.js';
import { planRegisterOp, runRegisterOp, type PlannedRegisterOp, type Registers } from './register.js';
import { runAdd } from './set.js';

export const WORKLOADS = ['register', 'set', 'bank'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** What setup made for the enabled workloads. */
export interface Workloads {
  readonly registers?: Registers;
  readonly set: boolean;
  readonly bank?: Bank;
}

export type PlannedOp =
  | { readonly kind: 'register'; readonly op: PlannedRegisterOp }
  | { readonly kind: 'add'; readonly element: string }
  | { readonly kind: 'transfer'; readonly transfer: Transfer }
  | { readonly kind: 'readBank' };

const WEIGHTS: Readonly<Record<WorkloadName, number>> = { register: 8, set: 1, bank: 1 };

export function planOp(rng: SimRng, client: ClientState, w: Workloads): PlannedOp {
  const enabled = WORKLOADS.filter((name) =>
    name === 'register' ? w.registers : name === 'set' ? w.set : w.bank,
  );
  const total = enabled.reduce((sum, name) => sum + WEIGHTS[name], 0);
  let roll = rng.float() * total;
  const name = enabled.find((n) => (roll -= WEIGHTS[n]) < 0) ?? enabled[enabled.length - 1];
  if (name === 'register' && w.registers)
    return { kind: 'register', op: planRegisterOp(rng, client, w.registers) };
  if (name === 'bank' && w.bank) {
    return rng.chance(0.75)
      ? { kind: 'transfer', transfer: planTransfer(rng, w.bank) }
      : { kind: 'readBank' };
  }
  return { kind: 'add', element: client.nextElement() };
}

export function invocationOf(op: PlannedOp, client: ClientState): Invocation {
  const base = { process: client.process, node: client.node };
  switch (op.kind) {
    case 'register':
      return { ...base, f: op.op.f, key: op.op.key, ...(op.op.input ? { input: op.op.input } : {}) };
    case 'add':
      return { ...base, f: 'add', key: 'set', input: op.element };
    case 'transfer':
      return { ...base, f: 'transfer', key: 'bank', input: op.transfer };
    case 'readBank':
      return { ...base, f: 'readBank', key: 'bank' };
  }
}

export function runOp(api: ApiClient, client: ClientState, op: PlannedOp, w: Workloads): Promise<Completion> {
  switch (op.kind) {
    case 'register':
      return runRegisterOp(api, client, op.op);
    case 'add':
      return runAdd(api, client, op.element);
    case 'transfer':
      if (!w.bank) throw new Error('no bank');
      return runTransfer(api, client, w.bank, op.transfer);
    case 'readBank':
      if (!w.bank) throw new Error('no bank');
      return runReadBank(api, client.node, w.bank);
  }
}
