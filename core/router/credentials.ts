/**
 * How a router proves who it is. With a certificate (`meshdesk router --identity router.json`)
 * every connection is mutual TLS: the router's id is its certificate's
 * `spiffe://<cluster>/router/<id>`, and that id is also the name it goes by on the wire (links,
 * reports), so that nothing it says about itself is unchecked. With the routers' shared secret
 * (before enrollment) it proves the secret by HMAC and goes by its model name.
 */
import type { RouterIdentity } from './identity.js';

export type RouterCredentials =
  | {
      readonly kind: 'secret';
      readonly secret: string;
      /** The cluster root CA (PEM) the controllers' certificates chain to. */
      readonly ca: string;
    }
  | {
      readonly kind: 'certificate';
      readonly clusterId: string;
      readonly routerId: string;
      /** PKCS#8 PEM. */
      readonly key: string;
      /** Leaf + intermediate, PEM. */
      readonly cert: string;
      readonly ca: string;
    };

export function certificateCredentials(identity: RouterIdentity): RouterCredentials {
  return {
    kind: 'certificate',
    clusterId: identity.clusterId,
    routerId: identity.router.id,
    key: identity.key,
    cert: identity.certificate,
    ca: identity.ca,
  };
}

/** The TLS options of a connection this router makes (the peer is verified against the root). */
export function clientTls(credentials: RouterCredentials): { ca: string; key?: string; cert?: string } {
  return credentials.kind === 'certificate'
    ? { ca: credentials.ca, key: credentials.key, cert: credentials.cert }
    : { ca: credentials.ca };
}
