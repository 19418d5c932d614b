/**
 * Fault injection: symmetric partitions, one-way cuts, crashes (losing unsynced writes) and
 * restarts, and bursts of message loss, duplication and delay. Each fault heals by itself after a
 * while; `healAll` ends them all at once and brings every crashed node back, after which the run
 * checks that the cluster recovers (liveness).
 */
import type { NodeId } from '../../core/raft/types.js';
import type { Cluster } from './cluster.js';
import type { SimRng } from './rng.js';

export interface FaultConfig {
  /** Chance per step that a new fault starts (while faults are enabled). */
  readonly faultChance: number;
  /** Faults active at once, crashes included. */
  readonly maxActive: number;
  readonly minDurationMs: number;
  readonly maxDurationMs: number;
}

export class FaultInjector {
  readonly counts = { partitions: 0, cuts: 0, crashes: 0, bursts: 0 };
  private active = 0;
  /** Bumped by healAll: a fault's own healing timer from before then does nothing. */
  private epoch = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly rng: SimRng,
    private readonly config: FaultConfig,
  ) {}

  step(): void {
    if (this.active >= this.config.maxActive || !this.rng.chance(this.config.faultChance)) return;
    const roll = this.rng.int(100);
    if (roll < 25) this.partition();
    else if (roll < 40) this.cut();
    else if (roll < 70) this.crash();
    else this.burst();
  }

  /** Ends every fault and restarts every crashed node that was not shut down for good. */
  healAll(): void {
    this.epoch++;
    this.active = 0;
    this.cluster.network.healAll();
    this.cluster.trace.add(this.cluster.now, 'heal all faults');
    for (const node of this.cluster.nodes.values()) {
      if (!node.up && !node.retired) this.cluster.restart(node.id);
    }
  }

  private partition(): void {
    const ids = this.liveIds();
    if (ids.length < 2) return;
    const leader = this.cluster.leader();
    let groups: NodeId[][];
    if (leader && this.rng.chance(0.3)) {
      // Isolate the leader: the rest must elect another.
      groups = [[leader.id], ids.filter((id) => id !== leader.id)];
    } else {
      const shuffled = this.rng.shuffle(ids);
      const cut = this.rng.between(1, shuffled.length - 1);
      groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
    }
    this.counts.partitions++;
    const label = groups.map((g) => `{${g.join(',')}}`).join(' | ');
    this.hold(`partition ${label}`, () => this.cluster.network.addFault({ kind: 'partition', groups }));
  }

  private cut(): void {
    const ids = this.liveIds();
    if (ids.length < 2) return;
    const leader = this.cluster.leader();
    const pairs: [NodeId, NodeId][] = [];
    const roll = this.rng.int(3);
    if (leader && roll === 0) {
      // The leader hears everyone but nobody hears it (or the other way round).
      const inbound = this.rng.chance(0.5);
      for (const id of ids) if (id !== leader.id) pairs.push(inbound ? [id, leader.id] : [leader.id, id]);
    } else {
      const [from, to] = this.rng.shuffle(ids) as [NodeId, NodeId];
      pairs.push([from, to]);
    }
    this.counts.cuts++;
    const label = pairs.map(([a, b]) => `${a}-/->${b}`).join(' ');
    this.hold(`cut ${label}`, () => {
      const ids: number[] = [];
      for (const [from, to] of pairs) ids.push(this.cluster.network.addFault({ kind: 'cut', from, to }));
      return ids;
    });
  }

  private crash(): void {
    const up = this.cluster.upNodes();
    if (up.length === 0) return;
    const leader = this.cluster.leader();
    const victim = leader && this.rng.chance(0.35) ? leader : this.rng.pick(up);
    const epoch = this.epoch;
    this.active++;
    this.counts.crashes++;
    this.cluster.crash(victim.id);
    this.cluster.schedule(this.duration(), () => {
      if (epoch !== this.epoch) return;
      this.active--;
      this.cluster.restart(victim.id);
    });
  }

  private burst(): void {
    const roll = this.rng.int(3);
    const conditions =
      roll === 0
        ? { dropChance: 0.1 + 0.4 * this.rng.float() }
        : roll === 1
          ? { duplicateChance: 0.1 + 0.4 * this.rng.float() }
          : {
              maxDelayMs: this.rng.between(60, 400),
              longDelayChance: 0.1,
              longDelayMaxMs: this.rng.between(500, 2500),
            };
    this.counts.bursts++;
    const label = Object.entries(conditions)
      .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`)
      .join(' ');
    this.hold(`burst ${label}`, () => this.cluster.network.addFault({ kind: 'conditions', conditions }));
  }

  /** Starts a network fault and schedules its end. */
  private hold(label: string, start: () => number | number[]): void {
    const started = start();
    const ids = Array.isArray(started) ? started : [started];
    const epoch = this.epoch;
    const duration = this.duration();
    this.active++;
    this.cluster.trace.add(this.cluster.now, `fault: ${label} for ${duration} ms`);
    this.cluster.schedule(duration, () => {
      if (epoch !== this.epoch) return;
      this.active--;
      for (const id of ids) this.cluster.network.removeFault(id);
      this.cluster.trace.add(this.cluster.now, `fault ends: ${label}`);
    });
  }

  private duration(): number {
    return this.rng.between(this.config.minDurationMs, this.config.maxDurationMs);
  }

  private liveIds(): NodeId[] {
    return [...this.cluster.nodes.values()].filter((n) => !n.retired).map((n) => n.id);
  }
}
