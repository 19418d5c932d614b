/**
 * Circuits across the cluster. Each controller keeps only the circuits it owns (they are runtime
 * data, not replicated), so a question about all circuits, or about one another controller owns,
 * is asked of the other members over the cluster transport. A member that does not answer in time
 * is named in the answer instead of failing it: runtime data is best-effort by nature.
 */
import type { NodeId } from '../raft/types.js';
import type { Replica } from '../replication/replica.js';
import type { PeerTransport } from '../transport/types.js';
import { RuntimeError } from './errors.js';
import type { CircuitView, ControllerRuntime } from './runtime.js';

const LIST = 'runtime.circuits';
const GET = 'runtime.circuit';
const DELETE = 'runtime.deleteCircuit';

export interface ClusterCircuits {
  readonly data: CircuitView[];
  /** Members that did not answer in time (their circuits are missing from `data`). */
  readonly unreachable: NodeId[];
}

export class CircuitDirectory {
  constructor(
    private readonly runtime: ControllerRuntime,
    private readonly replica: Replica,
    private readonly transport: PeerTransport,
    private readonly timeoutMs = 2_000,
  ) {
    transport.handle(LIST, async () => runtime.listCircuits());
    transport.handle(GET, async (_from, payload) => this.local(idOf(payload)) ?? null);
    transport.handle(DELETE, async (_from, payload) => {
      const id = idOf(payload);
      if (!this.local(id)) return { deleted: false };
      await runtime.circuits.remove(id, 'deleted by an admin (through another controller)');
      return { deleted: true };
    });
  }

  /** Every circuit of every member that answers, each with its owner. */
  async list(): Promise<ClusterCircuits> {
    const answers = await this.askPeers<CircuitView[]>(LIST, {});
    const data = [...this.runtime.listCircuits()];
    const unreachable: NodeId[] = [];
    for (const [peer, answer] of answers) {
      if (answer === undefined) unreachable.push(peer);
      else data.push(...answer);
    }
    data.sort((a, b) =>
      a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt < b.createdAt ? -1 : 1,
    );
    return { data, unreachable };
  }

  /** The circuit, from whichever member owns it. */
  async get(id: string): Promise<CircuitView> {
    const here = this.local(id);
    if (here) return here;
    for (const [, answer] of await this.askPeers<CircuitView | null>(GET, { id })) if (answer) return answer;
    throw new RuntimeError('UNKNOWN_CIRCUIT', `no member of the cluster that answered owns circuit ${id}`);
  }

  /** Tears the circuit down through its owner. */
  async remove(id: string): Promise<void> {
    if (this.local(id)) {
      await this.runtime.circuits.remove(id, 'deleted by an admin');
      return;
    }
    for (const [, answer] of await this.askPeers<{ deleted: boolean }>(DELETE, { id }))
      if (answer?.deleted) return;
    throw new RuntimeError('UNKNOWN_CIRCUIT', `no member of the cluster that answered owns circuit ${id}`);
  }

  private local(id: string): CircuitView | undefined {
    const circuit = this.runtime.circuits.circuits.get(id);
    return circuit ? this.runtime.view(circuit) : undefined;
  }

  /** Asks every other member at once; an unanswered request yields undefined for that member. */
  private async askPeers<T>(method: string, payload: unknown): Promise<Map<NodeId, T | undefined>> {
    const { conf } = this.replica.status();
    const peers = [...conf.voters, ...conf.learners].filter((id) => id !== this.replica.id);
    const answers = await Promise.all(
      peers.map(async (peer) => {
        try {
          return [peer, (await this.transport.request(peer, method, payload, this.timeoutMs)) as T] as const;
        } catch {
          return [peer, undefined] as const;
        }
      }),
    );
    return new Map(answers);
  }
}

function idOf(payload: unknown): string {
  const id = (payload as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 128) {
    throw new RuntimeError('UNKNOWN_CIRCUIT', 'a circuit id is a string of 1 to 128 characters');
  }
  return id;
}
