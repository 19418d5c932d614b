/**
 * The Replica's transport in the simulator: Raft messages and cluster requests (a follower
 * forwarding a write to the leader) travel as packets over the simulated network, with its
 * delays, losses, duplicates and partitions. One transport per node incarnation.
 */
import type { Message, NodeId } from '../../core/raft/types.js';
import type { ReplicaTransport } from '../../core/replication/replica.js';
import type { PeerState, RequestHandler } from '../../core/transport/types.js';
import type { NodeClock } from './clock.js';
import type { Network } from './network.js';
import { Violation } from './violation.js';

export interface RequestPacket {
  readonly type: 'request';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly id: number;
  readonly method: string;
  readonly payload: unknown;
}

export interface ResponsePacket {
  readonly type: 'response';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly id: number;
  readonly value?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

export type Packet = Message | RequestPacket | ResponsePacket;

/** A transport failure as the real one reports it: an Error with a stable `code`. */
function transportError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

interface PendingRequest {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

export class SimTransport implements ReplicaTransport {
  private handler: ((m: Message) => void) | undefined;
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly pending = new Map<number, PendingRequest>();
  private nextRequest = 1;

  constructor(
    private readonly id: NodeId,
    private readonly clock: NodeClock,
    private readonly network: Network<Packet>,
    /** Told of every Raft message this node sends (the cluster counts early sends). */
    private readonly onSend: (m: Message) => void,
    /** A broken promise found while delivering (the run fails with it). */
    private readonly fail: (v: Violation) => void,
  ) {}

  addPeer(): void {}
  removePeer(): void {}
  peers(): PeerState[] {
    return [];
  }

  send(messages: readonly Message[]): void {
    if (!this.clock.isAlive) return;
    for (const m of messages) {
      if (m.from !== this.id) {
        this.fail(new Violation('ready-contract', `${this.id} sends a message from ${m.from}`));
        return;
      }
      this.onSend(m);
      this.network.send(this.clock.now(), m);
    }
  }

  onMessage(handler: (message: Message) => void): void {
    this.handler = handler;
  }

  handle(method: string, handler: RequestHandler): void {
    this.handlers.set(method, handler);
  }

  request(to: NodeId, method: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const id = this.nextRequest++;
    const sent = this.network.send(this.clock.now(), {
      type: 'request',
      from: this.id,
      to,
      id,
      method,
      payload,
    });
    if (sent.kind === 'cut') return Promise.reject(transportError('UNREACHABLE', `${to} is not connected`));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.clock.after(timeoutMs, () => {
        if (!this.pending.delete(id)) return;
        reject(transportError('TIMEOUT', `${method} to ${to} timed out`));
      });
    });
  }

  /** A packet for this node arrived. */
  deliver(p: Packet): void {
    if (!this.clock.isAlive) return;
    if (p.type === 'request') {
      void this.answer(p);
    } else if (p.type === 'response') {
      const waiting = this.pending.get(p.id);
      if (!waiting) return;
      this.pending.delete(p.id);
      if (p.error) waiting.reject(transportError(p.error.code, p.error.message));
      else waiting.resolve(p.value);
    } else {
      this.handler?.(p);
    }
  }

  private async answer(p: RequestPacket): Promise<void> {
    const handler = this.handlers.get(p.method);
    let reply: ResponsePacket;
    try {
      if (!handler) throw transportError('NO_HANDLER', `no handler for ${p.method}`);
      const value = await handler(p.from, p.payload);
      reply = { type: 'response', from: this.id, to: p.from, id: p.id, value };
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? 'ERROR');
      const message = err instanceof Error ? err.message : String(err);
      reply = { type: 'response', from: this.id, to: p.from, id: p.id, error: { code, message } };
    }
    if (this.clock.isAlive) this.network.send(this.clock.now(), reply);
  }
}
