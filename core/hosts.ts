/**
 * Host names and addresses as the node uses them: which binds stay on this machine (and may speak
 * plain HTTP), which host others reach a listener at, and which names a node's certificate carries.
 */
import { hostname, networkInterfaces } from 'node:os';

/** Loopback binds only: the local UI and scripts, whose traffic never leaves the machine. */
export function isLoopback(host: string): boolean {
  const bare = unbracketed(host);
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The host others reach a listener on: a wildcard bind is reached through the advertised host. */
export function publicHost(bindHost: string, advertise: string | undefined): string {
  if (bindHost !== '0.0.0.0' && bindHost !== '::') return bindHost.includes(':') ? `[${bindHost}]` : bindHost;
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
  const wildcard = apiHost === '0.0.0.0' || apiHost === '::';
  const local = wildcard
    ? Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))
    : [unbracketed(apiHost)];
  return [...new Set([...certificateNames, ...local])];
}
