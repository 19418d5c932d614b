/**
 * Injected faults (tests, the demo lab, the Jepsen suite's fault route) as a wrapper around the
 * real transport, so that the transport itself knows nothing of them. Per peer: `drop` a fraction
 * of what we send to it (a dropped request times out, as across a real network), `delayMs` what we
 * send, or `cut` it off in both directions (nothing sent, its messages dropped, its requests left
 * unanswered, reported as not connected).
 */
import type { Message, NodeId } from '../raft/types.js';
import { Delays } from './delays.js';
import { TransportError } from './errors.js';
import { FaultTable } from './faults.js';
import type { PeerTransport } from './types.js';

/** The transport without faults: what `withFaults` wraps. */
export type FaultlessTransport = Omit<PeerTransport, 'setFaults'>;

export function withFaults(inner: FaultlessTransport, random: () => number): PeerTransport {
  const faults = new FaultTable(random);
  const delays = new Delays();
  let dropped = 0;

  return {
    start: () => inner.start(),
    addPeer: (id, address) => inner.addPeer(id, address),
    setAdvertise: (address) => inner.setAdvertise(address),
    removePeer: (id) => inner.removePeer(id),
    namespace: (name) => inner.namespace(name),
    admit: (socket) => inner.admit(socket),
    pendingConnections: () => inner.pendingConnections(),
    reloadCredentials: () => inner.reloadCredentials(),
    disconnectInbound: (peer) => inner.disconnectInbound(peer),
    dropRetiredIssuers: () => inner.dropRetiredIssuers(),
    peerRenewed: (peer, serial) => inner.peerRenewed(peer, serial),

    send(messages) {
      // Every Ready passes here: without faults, nothing is copied or looked up.
      if (!faults.active) return inner.send(messages);
      const now: Message[] = [];
      let later: Map<NodeId, Message[]> | undefined;
      for (const message of messages) {
        if (faults.dropsOutgoing(message.to)) dropped += 1;
        else if (faults.delayMs(message.to) > 0) {
          later ??= new Map();
          const list = later.get(message.to);
          if (list) list.push(message);
          else later.set(message.to, [message]);
        } else now.push(message);
      }
      if (now.length > 0) inner.send(now);
      for (const [peer, list] of later ?? []) {
        delays.after(faults.delayMs(peer)).then(
          () => inner.send(list),
          () => (dropped += list.length),
        );
      }
    },

    onMessage(handler) {
      inner.onMessage((message) => {
        if (faults.active && faults.isCut(message.from)) dropped += 1;
        else handler(message);
      });
    },

    handle(method, handler) {
      // Across a cut link a request is lost: it is never answered, and its caller times out.
      inner.handle(method, (from, payload) =>
        faults.isCut(from) ? new Promise<never>(() => undefined) : handler(from, payload),
      );
    },

    async request(to, method, payload, timeoutMs) {
      if (faults.isCut(to)) throw new TransportError('UNREACHABLE', `peer ${to} is cut off`);
      if (faults.dropsOutgoing(to)) {
        // Lost on the way: the caller learns it the way it would across a real network.
        await delays.after(timeoutMs);
        throw new TransportError('TIMEOUT', `request ${method} to ${to} timed out`);
      }
      const delay = faults.delayMs(to);
      if (delay > 0) await delays.after(delay);
      return inner.request(to, method, payload, timeoutMs);
    },

    peers() {
      return inner.peers().map((peer) => {
        const cut = faults.isCut(peer.id);
        return { ...peer, connected: peer.connected && !cut, cut };
      });
    },

    setFaults(peer, plan) {
      faults.set(peer, plan);
    },

    stats() {
      const stats = inner.stats();
      return { ...stats, dropped: stats.dropped + dropped };
    },

    async close() {
      delays.clear();
      await inner.close();
    },
  };
}
