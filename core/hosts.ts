/**
 * Host names and addresses as the node uses them: which binds stay on this machine (and may speak
 * plain HTTP), which host others reach a listener at, and which names a node's certificate carries.
 */
import { readFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';

/** Loopback binds only: the local UI and scripts, whose traffic never leaves the machine. */
export function isLoopback(host: string): boolean {
  const bare = unbracketed(host);
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** A bind to every interface. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** The host others reach a listener on: a wildcard bind is reached through the advertised host. */
export function publicHost(bindHost: string, advertise: string | undefined): string {
  if (!isWildcard(bindHost)) return bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  const advertised = advertise?.replace(/:\d+$/, '');
  return advertised && advertised !== '0.0.0.0' ? advertised : '127.0.0.1';
}

/**
 * The names a node's certificate carries: the hosts its cluster listener and API are reached at
 * (a wildcard bind is reached at the advertised host), and this machine's name, so that a browser
 * on the LAN can use either.
 */
export function certificateHostNames(binds: {
  readonly clusterHost: string;
  readonly apiHost: string;
  readonly advertise: string | undefined;
}): string[] {
  const names = [
    unbracketed(publicHost(binds.clusterHost, binds.advertise)),
    unbracketed(publicHost(binds.apiHost, binds.advertise)),
    hostname().toLowerCase(),
  ];
  return [...new Set(names.filter((name) => /^[A-Za-z0-9.:-]{1,253}$/.test(name)))];
}

/** An IPv6 address without its URL brackets. */
export function unbracketed(host: string): string {
  return host.replace(/^\[|\]$/g, '');
}

/**
 * The hosts a request to the API may name: the certificate's names, and for a wildcard bind every
 * address of this machine (a LAN browser may use any of them).
 */
export function apiHostNames(apiHost: string, certificateNames: readonly string[]): string[] {
  const local = isWildcard(apiHost)
    ? Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))
    : [unbracketed(apiHost)];
  return [...new Set([...certificateNames, ...local])];
}

// --- the address a wildcard bind is reached at ---------------------------------------------------

/** One address of one interface, as `os.networkInterfaces()` lists them. */
export interface InterfaceAddress {
  readonly address: string;
  readonly family: string;
  readonly internal: boolean;
}

export type InterfaceTable = Readonly<Record<string, readonly InterfaceAddress[] | undefined>>;

/** Where the address came from, for the log line that says which one the node advertises. */
export interface LanAddress {
  readonly address: string;
  readonly why: string;
}

/**
 * The interface of the IPv4 default route in Linux's /proc/net/route text (lowest metric first),
 * or undefined when there is none.
 */
export function defaultRouteInterface(routeTable: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of routeTable.split('\n').slice(1)) {
    const [iface, destination, , flags, , , metric, mask] = line.trim().split(/\s+/);
    if (!iface || destination !== '00000000' || mask !== '00000000') continue;
    // RTF_UP: a route that is down carries nothing.
    if ((Number.parseInt(flags ?? '0', 16) & 0x1) === 0) continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface;
}

/**
 * The IPv4 address other machines on the LAN reach this one at, for a bind to every interface
 * without --advertise: the default route's interface's, or else the only one there is. With none,
 * 127.0.0.1 (the node is reachable from this machine only). With several and no default route to
 * choose by, the caller must: throws, naming them.
 */
export function lanAddress(interfaces: InterfaceTable, defaultInterface: string | undefined): LanAddress {
  const candidates = Object.entries(interfaces).flatMap(([name, list]) =>
    (list ?? [])
      .filter((a) => a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.'))
      .map((a) => ({ name, address: a.address })),
  );
  const routed = candidates.find((c) => c.name === defaultInterface);
  if (routed) return { address: routed.address, why: `the default route's interface, ${routed.name}` };
  const [only, ...others] = candidates;
  if (!only) return { address: '127.0.0.1', why: 'this machine has no LAN address' };
  if (others.length === 0)
    return { address: only.address, why: `this machine's only LAN address (${only.name})` };
  const listed = candidates.map((c) => `${c.address} on ${c.name}`).join(', ');
  throw new Error(
    `cannot tell which address other members reach this node at: ${listed}, and no default route picks one; ` +
      'pass --advertise HOST:PORT (MESHDESK_ADVERTISE for the desktop app)',
  );
}

/** lanAddress for this machine: its interfaces and, on Linux, its routing table. */
export async function thisMachinesLanAddress(): Promise<LanAddress> {
  const routes = await readFile('/proc/net/route', 'utf8').catch(() => '');
  return lanAddress(networkInterfaces() as InterfaceTable, defaultRouteInterface(routes));
}
