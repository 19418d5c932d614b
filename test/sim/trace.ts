/**
 * The run's trace: a ring buffer of the last lines (messages delivered, tick batches, faults,
 * role changes, client operations), returned when a seed fails so that its last steps can be read.
 */
import type { Message } from '../../core/raft/types.js';

export class Trace {
  private readonly ring: string[] = [];
  private next = 0;
  /** Every line ever added, for the replay test; the ring keeps only the last `capacity`. */
  count = 0;
  private hash = 0x811c9dc5;

  constructor(private readonly capacity = 200) {}

  add(now: number, line: string): void {
    const text = `${String(now).padStart(7)} ${line}`;
    if (this.ring.length < this.capacity) this.ring.push(text);
    else this.ring[this.next] = text;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
    for (let i = 0; i < text.length; i++) this.hash = Math.imul(this.hash ^ text.charCodeAt(i), 0x01000193);
  }

  /** The lines kept, oldest first. */
  lines(): string[] {
    if (this.ring.length < this.capacity) return [...this.ring];
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  /** A fingerprint of every line ever added: two runs with equal fingerprints traced the same. */
  fingerprint(): string {
    return `${this.count}:${(this.hash >>> 0).toString(16)}`;
  }
}

/** One line for a message: type, terms and indexes, never the payload. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'append': {
      const first = m.entries[0];
      const last = m.entries[m.entries.length - 1];
      const range = first && last ? ` [${first.index}/${first.term}..${last.index}/${last.term}]` : '';
      return `${head} prev ${m.index}/${m.logTerm}${range} commit ${m.commit}`;
    }
    case 'appendResponse':
      return `${head} ${m.reject ? `reject ${m.index} hint ${m.hintIndex}/${m.hintTerm}` : `ok ${m.index}`}`;
    case 'heartbeat':
      return `${head} commit ${m.commit}${m.context === undefined ? '' : ` ctx ${m.context}`}`;
    case 'heartbeatResponse':
      return `${head}${m.context === undefined ? '' : ` ctx ${m.context}`}`;
    case 'vote':
    case 'preVote':
      return `${head} last ${m.index}/${m.logTerm}${m.transfer === true ? ' transfer' : ''}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head} ${m.reject ? 'reject' : 'grant'}`;
    case 'snapshot':
      return `${head} snap ${m.meta.index}/${m.meta.term} bytes ${m.offset}+${m.data.length}/${m.total}`;
    case 'snapshotResponse':
      return `${head} snap ${m.index} received ${m.received}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx ${m.context}`;
    case 'readIndexResponse':
      return `${head} ctx ${m.context} index ${m.index}`;
  }
}
