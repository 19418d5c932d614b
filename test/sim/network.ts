/**
 * A simulated network on a virtual clock (integer milliseconds). Each message gets a random delay,
 * so reordering falls out of the delays; it may also be lost or duplicated. Faults are layered on
 * top and removed one by one: symmetric partitions (groups that cannot reach each other),
 * asymmetric cuts (A cannot reach B, while B still reaches A) and bursts of worse conditions.
 * A cut is checked both when a message is sent and when it would arrive, so a partition also
 * catches the messages already in flight.
 */
import { TimedHeap, type Timed } from './heap.js';
import type { SimRng } from './rng.js';

export interface Addressed {
  readonly from: string;
  readonly to: string;
}

export interface LinkConditions {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** A message is occasionally much slower: a delay up to `longDelayMaxMs` instead. */
  readonly longDelayChance: number;
  readonly longDelayMaxMs: number;
  readonly dropChance: number;
  readonly duplicateChance: number;
}

/** The network when nothing is wrong: a LAN with the odd slow message. */
export const CALM_LINKS: LinkConditions = {
  minDelayMs: 1,
  maxDelayMs: 30,
  longDelayChance: 0.01,
  longDelayMaxMs: 300,
  dropChance: 0,
  duplicateChance: 0,
};

export type NetworkFault =
  | { readonly kind: 'partition'; readonly groups: readonly (readonly string[])[] }
  | { readonly kind: 'cut'; readonly from: string; readonly to: string }
  | { readonly kind: 'conditions'; readonly conditions: Partial<LinkConditions> };

interface Envelope<M> extends Timed {
  readonly message: M;
}

export interface Delivery<M> {
  readonly message: M;
  readonly at: number;
  /** True when a fault now separates sender and receiver: the message is lost, not delivered. */
  readonly cut: boolean;
}

export type SendOutcome =
  | { readonly kind: 'cut' }
  | { readonly kind: 'lost' }
  | { readonly kind: 'sent'; readonly arrivals: readonly number[] };

export class Network<M extends Addressed> {
  private readonly queue = new TimedHeap<Envelope<M>>();
  private readonly faults = new Map<number, NetworkFault>();
  private nextFaultId = 1;
  private seq = 0;
  private links: LinkConditions;

  constructor(
    private readonly rng: SimRng,
    private readonly base: LinkConditions = CALM_LINKS,
  ) {
    this.links = base;
  }

  /** The conditions in force: the base made worse by every active burst. */
  get conditions(): LinkConditions {
    return this.links;
  }

  addFault(fault: NetworkFault): number {
    const id = this.nextFaultId++;
    this.faults.set(id, fault);
    if (fault.kind === 'conditions') this.links = this.combine();
    return id;
  }

  removeFault(id: number): void {
    const fault = this.faults.get(id);
    if (!fault) return;
    this.faults.delete(id);
    if (fault.kind === 'conditions') this.links = this.combine();
  }

  healAll(): void {
    this.faults.clear();
    this.links = this.base;
  }

  isCut(from: string, to: string): boolean {
    for (const fault of this.faults.values()) {
      if (fault.kind === 'cut') {
        if (fault.from === from && fault.to === to) return true;
      } else if (fault.kind === 'partition') {
        const a = fault.groups.findIndex((g) => g.includes(from));
        const b = fault.groups.findIndex((g) => g.includes(to));
        // A node named in no group (it joined after the partition began) is not cut off.
        if (a >= 0 && b >= 0 && a !== b) return true;
      }
    }
    return false;
  }

  send(now: number, message: M): SendOutcome {
    if (this.isCut(message.from, message.to)) return { kind: 'cut' };
    const links = this.links;
    if (this.rng.chance(links.dropChance)) return { kind: 'lost' };
    const copies = this.rng.chance(links.duplicateChance) ? 2 : 1;
    const arrivals: number[] = [];
    for (let i = 0; i < copies; i++) {
      const delay = this.rng.chance(links.longDelayChance)
        ? this.rng.between(links.maxDelayMs, Math.max(links.maxDelayMs, links.longDelayMaxMs))
        : this.rng.between(links.minDelayMs, links.maxDelayMs);
      const at = now + delay;
      this.queue.push({ at, seq: this.seq++, message });
      arrivals.push(at);
    }
    return { kind: 'sent', arrivals };
  }

  /** When the next message arrives, if any is in flight. */
  nextAt(): number | undefined {
    return this.queue.peek()?.at;
  }

  /** Takes the next message off the wire. */
  deliverNext(): Delivery<M> | undefined {
    const envelope = this.queue.pop();
    if (!envelope) return undefined;
    const { message, at } = envelope;
    return { message, at, cut: this.isCut(message.from, message.to) };
  }

  private combine(): LinkConditions {
    let links = this.base;
    for (const fault of this.faults.values()) {
      if (fault.kind !== 'conditions') continue;
      const c = fault.conditions;
      links = {
        minDelayMs: Math.max(links.minDelayMs, c.minDelayMs ?? 0),
        maxDelayMs: Math.max(links.maxDelayMs, c.maxDelayMs ?? 0),
        longDelayChance: Math.max(links.longDelayChance, c.longDelayChance ?? 0),
        longDelayMaxMs: Math.max(links.longDelayMaxMs, c.longDelayMaxMs ?? 0),
        dropChance: Math.max(links.dropChance, c.dropChance ?? 0),
        duplicateChance: Math.max(links.duplicateChance, c.duplicateChance ?? 0),
      };
    }
    return links;
  }
}
