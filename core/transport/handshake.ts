/**
 * The peer handshake. Mutual TLS 1.3 with certificates from the cluster CA authenticates both
 * ends and protects every byte after it (a flipped byte fails its record's AEAD tag and drops the
 * connection); this handshake only names the ends and checks the names against the certificates:
 *
 *   client A → server B  TLS: A presents its certificate; A accepts B's only if it chains to the
 *                        cluster CA and names `spiffe://<cluster>/controller/B` (the node A dialled).
 *                        CONNECT /raft, auth = hello {v, clusterId, from: A, to: B, address?}
 *                        B refuses a client certificate that is missing, expired or not the
 *                        cluster CA's, a wrong version, cluster id or addressee, a certificate
 *                        that does not name A, A once removed from the cluster, and a
 *                        certificate of a retired intermediate CA (revoked; A refuses B's alike).
 *
 * B accepts frames once the namespace is joined; A sends once it saw the `connect`. A refusal is
 * counted by reason (RefusalReason) by the side that refuses.
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Socket as ClientSocket } from 'socket.io-client';
import { z } from 'zod';
import type { NodeId } from '../raft/types.js';
import { issuerFingerprint, RETIRED_ISSUER } from './cert-auth.js';
import type { PeerAuthenticator, RefusalReason } from './types.js';

/** Version 2: certificates instead of the version 1 challenge and HMAC proofs. */
export const HANDSHAKE_VERSION = 2;

/** Why a handshake did not complete: this node refused (a RefusalReason), or it never got that far. */
export type HandshakeFailure =
  | RefusalReason
  /** The other side refused us (its reason is the detail). */
  | 'REFUSED_BY_PEER'
  /** Unreachable, dropped, or no answer in time. */
  | 'CONNECTION_FAILED';

export type HandshakeResult =
  | { readonly ok: true; readonly peer: NodeId }
  | { readonly ok: false; readonly failure: HandshakeFailure; readonly detail?: string };

const id = z.string().min(1).max(256);

const helloSchema = z.object({
  v: z.literal(HANDSHAKE_VERSION),
  clusterId: z.string().max(256),
  from: id,
  to: id,
  /** Where the dialer's own listener is reached (so a node that does not know it yet can answer). */
  address: z.string().min(1).max(300).optional(),
});

export type Hello = z.output<typeof helloSchema>;

/** The client's CONNECT auth payload. */
export function makeHello(
  clusterId: string,
  from: NodeId,
  to: NodeId,
  address?: string,
): Record<string, unknown> {
  return { v: HANDSHAKE_VERSION, clusterId, from, to, ...(address ? { address } : {}) };
}

export type HelloCheck =
  | { readonly ok: true; readonly hello: Hello }
  | { readonly ok: false; readonly failure: RefusalReason; readonly detail: string };

/**
 * The server's check of a CONNECT (before the socket joins): the client's certificate first, so
 * that a stranger learns nothing from what its hello says, then the hello, then that the
 * certificate names the node the hello claims.
 */
export function checkHello(
  auth: unknown,
  /** The connection; undefined only on benchmarks' plaintext transport, where nothing is checked. */
  tls: TLSSocket | undefined,
  self: NodeId,
  authenticator: PeerAuthenticator,
): HelloCheck {
  if (tls && !tls.authorized) {
    const failure = certificateFailure(tls);
    return { ok: false, failure, detail: String(tls.authorizationError ?? failure) };
  }
  const parsed = helloSchema.safeParse(auth);
  if (!parsed.success) return { ok: false, failure: 'BAD_HELLO', detail: 'malformed hello' };
  const hello = parsed.data;
  if (hello.clusterId !== authenticator.clusterId) {
    return { ok: false, failure: 'CLUSTER_MISMATCH', detail: `cluster ${hello.clusterId}` };
  }
  if (hello.to !== self) return { ok: false, failure: 'WRONG_NODE', detail: `addressed to ${hello.to}` };
  if (hello.from === self) return { ok: false, failure: 'WRONG_NODE', detail: 'a peer with our own id' };
  const refusal = tls && authenticator.refusal(tls.getPeerCertificate(), hello.from);
  if (refusal) return { ok: false, failure: 'WRONG_IDENTITY', detail: refusal };
  if (authenticator.revoked?.(hello.from)) {
    return {
      ok: false,
      failure: 'REVOKED_CERTIFICATE',
      detail: `${hello.from} was removed from the cluster`,
    };
  }
  if (tls && authenticator.issuerTrusted?.(issuerFingerprint(tls.getPeerCertificate(true))) === false) {
    return { ok: false, failure: 'REVOKED_CERTIFICATE', detail: RETIRED_ISSUER };
  }
  return { ok: true, hello };
}

/** Why TLS did not authorize a client's certificate. */
function certificateFailure(tls: TLSSocket): RefusalReason {
  const cert = tls.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return 'NO_CERTIFICATE';
  return certificateError(String(tls.authorizationError ?? ''));
}

/** A TLS verification error code as a refusal reason. */
function certificateError(code: string): RefusalReason {
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'EXPIRED_CERTIFICATE';
  return 'UNTRUSTED_CERTIFICATE';
}

/** TLS verification errors of a server's certificate, as Node reports them. */
const CERTIFICATE_ERRORS: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** What a TLS client fails with when the server does not speak TLS (OpenSSL's words under EPROTO). */
const NOT_TLS_ERROR = /wrong version number|packet length too long|http request/i;

/**
 * The client's side, from the moment the socket is created: resolves (never rejects) once the
 * namespace is joined, refused, or the timeout passed. `ownRefusal` is what our own check of the
 * server certificate (its SPIFFE id, its issuer) said, if it refused it.
 */
export function clientHandshake(
  socket: ClientSocket,
  peer: NodeId,
  ownRefusal: () => ServerRefusal | undefined,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const onAbort = (): void => finish({ ok: false, failure: 'CONNECTION_FAILED', detail: 'aborted' });
    const finish = (result: HandshakeResult): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onConnectError);
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onConnect = (): void => finish({ ok: true, peer });
    const onConnectError = (err: Error & { data?: unknown; description?: unknown }): void => {
      const code = (err.data as { code?: unknown } | undefined)?.code;
      if (typeof code === 'string') return finish({ ok: false, failure: 'REFUSED_BY_PEER', detail: code });
      const refusal = ownRefusal();
      if (refusal) return finish({ ok: false, ...refusal });
      const cause = socketError(err);
      if (cause.code && CERTIFICATE_ERRORS.has(cause.code)) {
        return finish({ ok: false, failure: certificateError(cause.code), detail: cause.code });
      }
      if (cause.code === 'EPROTO' && NOT_TLS_ERROR.test(cause.message)) {
        return finish({ ok: false, failure: 'NOT_TLS', detail: cause.message });
      }
      finish({ ok: false, failure: 'CONNECTION_FAILED', detail: cause.code ?? err.message });
    };
    const timer = setTimeout(
      () => finish({ ok: false, failure: 'CONNECTION_FAILED', detail: 'timeout' }),
      timeoutMs,
    );
    socket.on('connect', onConnect);
    socket.on('connect_error', onConnectError);
    signal.addEventListener('abort', onAbort);
  });
}

/** Why this node refused a server's certificate during its TLS handshake. */
export interface ServerRefusal {
  readonly failure: 'WRONG_IDENTITY' | 'REVOKED_CERTIFICATE';
  readonly detail: string;
}

/**
 * Our check of a server's certificate: it names `peer` (authenticator.refusal) and its issuer is
 * still trusted. For `checkServerIdentity`, which receives the certificate in detail.
 */
export function checkServer(
  authenticator: PeerAuthenticator,
  cert: PeerCertificate,
  peer: NodeId,
): ServerRefusal | undefined {
  const wrong = authenticator.refusal(cert, peer);
  if (wrong) return { failure: 'WRONG_IDENTITY', detail: wrong };
  if (authenticator.issuerTrusted?.(issuerFingerprint(cert)) === false) {
    return { failure: 'REVOKED_CERTIFICATE', detail: RETIRED_ISSUER };
  }
  return undefined;
}

/** The error under engine.io's "websocket error" (the ws `error` event's error): its code and message. */
function socketError(err: { description?: unknown }): { code?: string; message: string } {
  const described = err.description as { code?: unknown; message?: unknown; error?: unknown } | undefined;
  const cause = (described?.error ?? described) as { code?: unknown; message?: unknown } | undefined;
  const code = cause?.code;
  return { ...(typeof code === 'string' ? { code } : {}), message: String(cause?.message ?? '') };
}

/** Failures this node decided (it refused the peer), as opposed to the peer refusing or vanishing. */
export function isLocalRefusal(failure: HandshakeFailure): failure is RefusalReason {
  return failure !== 'REFUSED_BY_PEER' && failure !== 'CONNECTION_FAILED';
}
