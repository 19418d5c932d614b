/**
 * What a router knows of the cluster's revocations, from the controllers' `peers` messages: the
 * certificate each router enrolled for (a peer router is good only on that serial), the
 * controllers removed from the cluster (none of their certificates is good) and the intermediate
 * CAs still trusted (a controller certificate of a retired one is not good). The list of the
 * highest applied index wins, so a lagging controller cannot bring a revoked peer back. Before the
 * first list (no controller reached yet) TLS decides alone.
 */
import type { Peers } from '../runtime/protocol.js';

export class TrustList {
  /** Good serials by router (more than one while a renewed router's earlier certificate lives on). */
  private current:
    | {
        index: number;
        serials: Map<string, Set<string>>;
        revoked: Set<string>;
        issuer?: string;
        issuers?: ReadonlySet<string>;
        root?: string;
      }
    | undefined;

  /** Takes a controller's list unless an earlier index; whether it was taken. */
  update(peers: Peers): boolean {
    if (this.current && peers.index < this.current.index) return false;
    const serials = new Map<string, Set<string>>();
    for (const r of peers.routers) {
      let set = serials.get(r.id);
      if (!set) serials.set(r.id, (set = new Set()));
      set.add(r.serial.toUpperCase());
    }
    this.current = {
      index: peers.index,
      serials,
      revoked: new Set(peers.revokedControllers),
      ...(peers.issuer ? { issuer: peers.issuer } : {}),
      ...(peers.issuers ? { issuers: new Set(peers.issuers) } : {}),
      ...(peers.root ? { root: peers.root } : {}),
    };
    return true;
  }

  /** Whether router `id`'s certificate with `serial` is good (enrolled or renewed, not revoked). */
  routerGood(id: string, serial: string | undefined): boolean {
    if (!this.current) return true;
    return serial !== undefined && (this.current.serials.get(id)?.has(serial.toUpperCase()) ?? false);
  }

  /** The cluster's root CA (PEM), once a controller said. */
  root(): string | undefined {
    return this.current?.root;
  }

  /** The fingerprint of the intermediate CA that signs now, once a controller said. */
  issuer(): string | undefined {
    return this.current?.issuer;
  }

  /**
   * Whether a certificate signed by the intermediate with fingerprint `issuer` is still good: the
   * controllers said which are (a finished rotation retires the earlier ones). Before they said,
   * TLS decides alone.
   */
  issuerTrusted(issuer: string | undefined): boolean {
    const issuers = this.current?.issuers;
    return issuers === undefined || (issuer !== undefined && issuers.has(issuer));
  }

  /** Whether controller `id` was removed from the cluster (its certificates are revoked). */
  controllerRevoked(id: string): boolean {
    return this.current?.revoked.has(id) ?? false;
  }
}
