/**
 * The runtime data's vocabulary. Routers are keyed by their model id; links and circuits by ids
 * that routers (links) and the owning controller (circuits) choose. Nothing here is replicated.
 */
export type RouterId = string;
export type LinkId = string;
export type CircuitId = string;
/** A controller's Raft node id: the owner of a circuit. */
export type ControllerId = string;

/** A link as a router reports it: a live connection from `dialer` to `acceptor`. */
export interface LinkReport {
  readonly id: LinkId;
  readonly dialer: RouterId;
  readonly acceptor: RouterId;
  /** Round-trip time measured on the link, in ms. */
  readonly latencyMs: number;
}

/** What path selection needs to know of a router. */
export interface RouterNode {
  readonly id: RouterId;
  readonly cost: number;
  /** False for no-traversal routers: they may begin or end a path, never sit inside one. */
  readonly transit: boolean;
}

/** A path over live links: `routers[i]` and `routers[i + 1]` are joined by `links[i]`. */
export interface Path {
  readonly routers: readonly RouterId[];
  readonly links: readonly LinkId[];
  /** Router costs plus link latencies. */
  readonly cost: number;
}
