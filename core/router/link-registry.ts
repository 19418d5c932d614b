/**
 * The router's links: those it dialed and those dialed to it, at most one per peer. A repeated
 * request to dial a peer gets the link that exists or the dial in flight. When both ends dialed
 * each other at once, both keep the same one (the one dialed by the router whose name sorts
 * first; then the smaller id) and close the other.
 */
export interface RouterLink {
  readonly id: string;
  readonly peer: string;
  readonly dialer: string;
  readonly acceptor: string;
  latencyMs: number;
  /** Closes the connection (without reporting: the registry's caller reports). */
  close(): void;
}

/** Which of two links to the same peer both ends keep. */
export function keptLink<T extends { id: string; dialer: string }>(a: T, b: T): T {
  if (a.dialer !== b.dialer) return a.dialer < b.dialer ? a : b;
  return a.id < b.id ? a : b;
}

export class LinkRegistry<L extends RouterLink = RouterLink> {
  private readonly byPeer = new Map<string, L>();
  private readonly byId = new Map<string, L>();
  private readonly dialing = new Map<string, Promise<L>>();

  get(id: string): L | undefined {
    return this.byId.get(id);
  }

  toPeer(peer: string): L | undefined {
    return this.byPeer.get(peer);
  }

  list(): L[] {
    return [...this.byId.values()];
  }

  /** The link to `peer`: the existing one, the dial in flight, or a new dial. */
  async dialOnce(peer: string, dial: () => Promise<L>): Promise<{ link: L; existing: boolean }> {
    const existing = this.byPeer.get(peer);
    if (existing) return { link: existing, existing: true };
    const inFlight = this.dialing.get(peer);
    if (inFlight) return { link: await inFlight, existing: true };
    const attempt = dial();
    this.dialing.set(peer, attempt);
    try {
      return { link: await attempt, existing: false };
    } finally {
      this.dialing.delete(peer);
    }
  }

  /**
   * Adds a new connection; returns what to close: the loser of a duplicate (maybe the new link
   * itself), or nothing.
   */
  add(link: L): { kept: L; closed?: L } {
    const current = this.byPeer.get(link.peer);
    if (!current) {
      this.byPeer.set(link.peer, link);
      this.byId.set(link.id, link);
      return { kept: link };
    }
    const kept = keptLink(current, link);
    const closed = kept === current ? link : current;
    if (kept !== current) {
      this.byId.delete(current.id);
      this.byPeer.set(link.peer, link);
      this.byId.set(link.id, link);
    }
    return { kept, closed };
  }

  /** Forgets a link that closed; false when it was not (or no longer) registered. */
  remove(id: string): boolean {
    const link = this.byId.get(id);
    if (!link) return false;
    this.byId.delete(id);
    if (this.byPeer.get(link.peer) === link) this.byPeer.delete(link.peer);
    return true;
  }
}
