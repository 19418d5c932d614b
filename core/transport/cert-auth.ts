/**
 * Peer authentication by certificate: every controller holds a key and a certificate from the
 * cluster CA naming it `spiffe://<cluster-id>/controller/<node-id>`. TLS 1.3 checks the chains
 * both ways (the listener asks for a client certificate); this module checks that a verified
 * certificate names the peer it speaks for.
 */
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import { parseSpiffeId, spiffeId } from '../pki/ca.js';
import type { NodeId } from '../raft/types.js';
import type { PeerAuthenticator, PeerTls } from './types.js';

export interface CertificateAuthOptions {
  readonly clusterId: string;
  /** This node's credentials, read for each new connection (renewal swaps them). */
  readonly tls: () => PeerTls;
  /** Whether every certificate of a node is revoked (removed from the cluster). */
  readonly revoked?: (peer: NodeId) => boolean;
  /** Whether the intermediate CA with this fingerprint may still sign a peer's certificate. */
  readonly issuerTrusted?: (fingerprint: string | undefined) => boolean;
}

/** The URI SANs of a certificate as node:tls reports it ("URI:spiffe://…, DNS:…"). */
export function uriSans(cert: Pick<PeerCertificate, 'subjectaltname'>): string[] {
  return (cert.subjectaltname ?? '')
    .split(', ')
    .filter((name) => name.startsWith('URI:'))
    .map((name) => name.slice('URI:'.length));
}

export function createCertificateAuthenticator(options: CertificateAuthOptions): PeerAuthenticator {
  return {
    clusterId: options.clusterId,
    tls: options.tls,
    ...(options.revoked ? { revoked: options.revoked } : {}),
    ...(options.issuerTrusted ? { issuerTrusted: options.issuerTrusted } : {}),
    refusal(cert, peer: NodeId) {
      const expected = spiffeId(options.clusterId, 'controller', peer);
      const names = uriSans(cert);
      if (names.includes(expected)) return undefined;
      return `the certificate names ${names.join(' ') || 'no SPIFFE id'}, not ${expected}`;
    },
  };
}

/**
 * The SHA-256 fingerprint of the CA certificate that signed `cert` (the intermediate, for the
 * cluster's chains), when node:tls gave it in detail (`getPeerCertificate(true)`, and what
 * `checkServerIdentity` receives).
 */
export function issuerFingerprint(cert: PeerCertificate): string | undefined {
  const issuer = (cert as Partial<DetailedPeerCertificate>).issuerCertificate;
  return issuer && issuer !== cert ? issuer.fingerprint256 : undefined;
}

/** Why a certificate whose issuer was retired is refused, in one wording for every check. */
export const RETIRED_ISSUER = 'its certificate is from a retired intermediate CA';

/** The SPIFFE ids of a certificate node:tls verified, as `{clusterId, kind, id}`. */
export function spiffeNames(cert: Pick<PeerCertificate, 'subjectaltname'>) {
  return uriSans(cert).flatMap((uri) => {
    const parsed = parseSpiffeId(uri);
    return parsed ? [parsed] : [];
  });
}

/** The router id a verified certificate names in `clusterId`, if it names a router there. */
export function routerIdOf(
  cert: Pick<PeerCertificate, 'subjectaltname'>,
  clusterId: string,
): string | undefined {
  return spiffeNames(cert).find((n) => n.kind === 'router' && n.clusterId === clusterId)?.id;
}

/** The controller id a verified certificate names (in `clusterId`, when the router knows it). */
export function controllerIdOf(
  cert: Pick<PeerCertificate, 'subjectaltname'>,
  clusterId?: string,
): string | undefined {
  return spiffeNames(cert).find(
    (n) => n.kind === 'controller' && (clusterId === undefined || n.clusterId === clusterId),
  )?.id;
}

/** A client certificate a connection presented, and whether TLS verified it against the root. */
export interface PresentedCertificate {
  readonly cert: PeerCertificate;
  readonly authorized: boolean;
  /** Why TLS did not verify it (node's code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  readonly error: string | undefined;
}

/**
 * The client certificate on a server-side connection (`req.socket`, `socket.request.socket`);
 * undefined when none was presented or the connection is not TLS (benchmarks' plaintext).
 */
export function presentedCertificate(connection: unknown): PresentedCertificate | undefined {
  const tls = connection as Partial<TLSSocket> | undefined;
  if (typeof tls?.getPeerCertificate !== 'function') return undefined;
  // In detail, so that the issuer can be checked (issuerFingerprint).
  const cert = tls.getPeerCertificate(true);
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const error = tls.authorizationError;
  return {
    cert,
    authorized: tls.authorized === true,
    error: error === undefined ? undefined : String(error),
  };
}

/** A presented certificate TLS verified against the cluster root, if there is one. */
export function verifiedCertificate(connection: unknown): PeerCertificate | undefined {
  const presented = presentedCertificate(connection);
  return presented?.authorized ? presented.cert : undefined;
}
