/**
 * How a router proves who it is: its own certificate (`meshdesk router --identity router.json`).
 * Every connection is mutual TLS: the router's id is its certificate's
 * `spiffe://<cluster>/router/<id>`, and that id is also the name it goes by on the wire (links,
 * reports), so that nothing it says about itself is unchecked.
 */
import type { RouterIdentity } from './identity.js';

export interface RouterCredentials {
  readonly clusterId: string;
  readonly routerId: string;
  /** PKCS#8 PEM. */
  readonly key: string;
  /** Leaf + intermediate, PEM. */
  readonly cert: string;
  /** The cluster root CA (PEM) every certificate of the cluster chains to. */
  readonly ca: string;
}

export function certificateCredentials(identity: RouterIdentity): RouterCredentials {
  return {
    clusterId: identity.clusterId,
    routerId: identity.router.id,
    key: identity.key,
    cert: identity.certificate,
    ca: identity.ca,
  };
}

/** The TLS options of a connection this router makes (the peer is verified against the root). */
export function clientTls(credentials: RouterCredentials): { ca: string; key: string; cert: string } {
  return { ca: credentials.ca, key: credentials.key, cert: credentials.cert };
}
