/**
 * The dialing side of the transport: one PeerLink per known peer, and the per-turn flush that
 * makes the messages sent to a peer within one event-loop turn leave as one frame.
 */
import type { Message, NodeId } from '../raft/types.js';
import { estimateMessageBytes } from './codec.js';
import type { Counters } from './counters.js';
import { TransportError } from './errors.js';
import { PeerLink, type LinkContext } from './peer-link.js';

export class OutboundLinks {
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly dirty = new Set<PeerLink>();
  private flushScheduled: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    private readonly ctx: LinkContext,
    private readonly counters: Counters,
  ) {}

  has(id: NodeId): boolean {
    return this.links.has(id);
  }

  /** Dials `id` at `address` (again, if the address changed). */
  add(id: NodeId, address: string): void {
    if (this.closed || id === this.ctx.self) return;
    const link = this.links.get(id);
    if (link) link.setAddress(address);
    else this.links.set(id, new PeerLink(id, address, this.ctx));
  }

  remove(id: NodeId): void {
    const link = this.links.get(id);
    if (!link) return;
    this.links.delete(id);
    this.dirty.delete(link);
    link.close();
  }

  /** Queues each message for its peer's frame of this turn; a message to no known peer is dropped. */
  send(messages: readonly Message[]): void {
    for (const message of messages) {
      const link = this.closed ? undefined : this.links.get(message.to);
      if (!link) {
        this.counters.dropped += 1;
        continue;
      }
      if (link.enqueue(message, estimateMessageBytes(message))) this.scheduleFlush(link);
    }
  }

  request(to: NodeId, method: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new TransportError('CLOSED', 'the transport was closed'));
    const link = this.links.get(to);
    if (!link) return Promise.reject(new TransportError('UNREACHABLE', `unknown peer ${to}`));
    return link.request(method, payload, timeoutMs);
  }

  get(id: NodeId): PeerLink | undefined {
    return this.links.get(id);
  }

  all(): readonly PeerLink[] {
    return [...this.links.values()];
  }

  /** Messages queued for this turn's frames, over every peer. */
  queued(): number {
    let queued = 0;
    for (const link of this.links.values()) queued += link.queuedMessages;
    return queued;
  }

  close(): void {
    this.closed = true;
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    this.dirty.clear();
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  /** One frame per peer and turn: everything queued in this turn leaves together. */
  private scheduleFlush(link: PeerLink): void {
    this.dirty.add(link);
    this.flushScheduled ??= setImmediate(() => {
      this.flushScheduled = undefined;
      for (const l of this.dirty) l.flush();
      this.dirty.clear();
    });
  }
}
