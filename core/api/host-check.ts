/**
 * The Host (and, for socket.io, Origin) a request must name: loopback, or one of the names the
 * node is reached at. A web page the admin visits can make its own name resolve to 127.0.0.1
 * (DNS rebinding) and then talk to the local API as a same-origin page; its requests still name
 * its own host, so they are refused (421) before anything else runs.
 */
import { isLoopback, unbracketed } from '../hosts.js';

export type HostCheck = (hostHeader: string | undefined) => boolean;

/** Loopback names, plus `names` (the node's addresses and machine name), case-insensitive. */
export function allowedHosts(names: readonly string[]): HostCheck {
  const allowed = new Set(names.map((n) => unbracketed(n).toLowerCase()));
  return (hostHeader) => {
    const host = hostOf(hostHeader);
    return host !== undefined && (isLoopback(host) || allowed.has(host));
  };
}

/**
 * The host of a Host header or an origin's authority: without port or IPv6 brackets. Parsed by
 * hand, not with URL: it runs on every request.
 */
function hostOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const host = value.startsWith('[')
    ? value.slice(1, value.indexOf(']'))
    : value.indexOf(':') === value.lastIndexOf(':')
      ? value.split(':')[0]
      : undefined; // an IPv6 address without brackets is not a valid Host
  return host ? host.toLowerCase() : undefined;
}

/** Whether an Origin header (absent for non-browser clients) names an allowed host. */
export function originAllowed(check: HostCheck, origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return check(new URL(origin).host);
  } catch {
    return false;
  }
}
