/**
 * The Host (and, for socket.io, Origin) a request must name: loopback, or one of the names the
 * node is reached at. A web page the admin visits can make its own name resolve to 127.0.0.1
 * (DNS rebinding) and then talk to the local API as a same-origin page; its requests still name
 * its own host, so they are refused (421) before anything else runs.
 */
import { isLoopback } from '../hosts.js';

export type HostCheck = (hostHeader: string | undefined) => boolean;

/** Loopback names, plus `names` (the node's addresses and machine name), case-insensitive. */
export function allowedHosts(names: readonly string[]): HostCheck {
  const allowed = new Set(names.map((n) => n.toLowerCase().replace(/^\[|\]$/g, '')));
  return (hostHeader) => {
    const host = hostOf(hostHeader);
    return host !== undefined && (isLoopback(host) || allowed.has(host));
  };
}

/** The host of a Host header or an origin's authority: without port or IPv6 brackets. */
function hostOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return new URL(`http://${value}`).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
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
