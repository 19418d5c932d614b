/**
 * The peer handshake: mutual proof of the cluster secret before any Raft frame is accepted.
 *
 *   client A → server B  CONNECT /raft, auth = hello {v, clusterId, from: A, to: B, nonce: nA}
 *                        B refuses at once a wrong version, cluster id or addressee.
 *   B → A  challenge     {v, clusterId, nodeId: B, nonce: nB}
 *   A → B  (ack)         {proof: P_A(nB, A→B)}        A first checks it reached B of its cluster
 *   B → A  welcome       {proof: P_B(nA, B→A)}        sent only once B verified A's proof
 *
 * P is the PeerAuthenticator's proof (an HMAC over the cluster id, both node ids and the nonce the
 * other side chose), so neither proof can be replayed on another connection or in the other
 * direction. B accepts frames once A's proof verified; A sends once B's proof verified.
 */
import { randomBytes } from 'node:crypto';
import type { Socket as ServerSocket } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';
import { z } from 'zod';
import type { NodeId } from '../raft/types.js';
import type { PeerAuthenticator } from './types.js';

export const HANDSHAKE_VERSION = 1;
export const NONCE_BYTES = 32;
export const CHALLENGE_EVENT = 'auth:challenge';
export const WELCOME_EVENT = 'auth:welcome';

/** Why a handshake did not complete; the refusing side counts and logs it. */
export type HandshakeFailure =
  | 'BAD_HELLO'
  | 'CLUSTER_MISMATCH'
  | 'WRONG_NODE'
  | 'BAD_PROOF'
  | 'PROTOCOL'
  | 'TIMEOUT'
  /** The other side refused us or the connection broke: not a refusal by this node. */
  | 'REFUSED_BY_PEER'
  | 'CONNECTION_FAILED';

export type HandshakeResult =
  | { readonly ok: true; readonly peer: NodeId }
  | { readonly ok: false; readonly failure: HandshakeFailure; readonly detail?: string };

const id = z.string().min(1).max(256);
const nonce = z.instanceof(Uint8Array).refine((b) => b.byteLength === NONCE_BYTES);
const proof = z.instanceof(Uint8Array).refine((b) => b.byteLength > 0 && b.byteLength <= 256);

const helloSchema = z.object({
  v: z.literal(HANDSHAKE_VERSION),
  clusterId: z.string(),
  from: id,
  to: id,
  nonce,
  /** Where the dialer's own listener is reached (so a node that does not know it yet can answer). */
  address: z.string().min(1).max(300).optional(),
});
const challengeSchema = z.object({
  v: z.literal(HANDSHAKE_VERSION),
  clusterId: z.string(),
  nodeId: id,
  nonce,
});
const proofSchema = z.object({ proof });

export type Hello = z.output<typeof helloSchema>;

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** The client's CONNECT auth payload. */
export function makeHello(
  clusterId: string,
  from: NodeId,
  to: NodeId,
  nonce: Uint8Array,
  address?: string,
): Record<string, unknown> {
  return { v: HANDSHAKE_VERSION, clusterId, from, to, nonce, ...(address ? { address } : {}) };
}

/** The server's first check, on the CONNECT packet's auth payload (before the socket joins). */
export function checkHello(
  auth: unknown,
  self: NodeId,
  clusterId: string,
): { ok: true; hello: Hello } | { ok: false; failure: HandshakeFailure; detail: string } {
  const parsed = helloSchema.safeParse(auth);
  if (!parsed.success) return { ok: false, failure: 'BAD_HELLO', detail: 'malformed hello' };
  const hello = parsed.data;
  if (hello.clusterId !== clusterId) {
    return { ok: false, failure: 'CLUSTER_MISMATCH', detail: `cluster ${hello.clusterId}` };
  }
  if (hello.to !== self) return { ok: false, failure: 'WRONG_NODE', detail: `addressed to ${hello.to}` };
  if (hello.from === self) return { ok: false, failure: 'WRONG_NODE', detail: 'a peer with our own id' };
  return { ok: true, hello };
}

/**
 * The server's side once the socket joined: challenge the client, verify its proof, then prove
 * ourselves with the client's nonce. Resolves (never rejects) within `timeoutMs`.
 */
export function serverHandshake(
  socket: ServerSocket,
  hello: Hello,
  self: NodeId,
  auth: PeerAuthenticator,
  timeoutMs: number,
): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const ourNonce = newNonce();
    const finish = (result: HandshakeResult): void => {
      clearTimeout(timer);
      socket.off('disconnect', onDisconnect);
      resolve(result);
    };
    const onDisconnect = (): void => finish({ ok: false, failure: 'CONNECTION_FAILED' });
    const timer = setTimeout(() => finish({ ok: false, failure: 'TIMEOUT' }), timeoutMs);
    socket.on('disconnect', onDisconnect);
    const challenge = { v: HANDSHAKE_VERSION, clusterId: auth.clusterId, nodeId: self, nonce: ourNonce };
    socket.emit(CHALLENGE_EVENT, challenge, (reply: unknown) => {
      const parsed = proofSchema.safeParse(reply);
      if (!parsed.success) return finish({ ok: false, failure: 'PROTOCOL', detail: 'malformed proof' });
      if (!auth.verify(ourNonce, hello.from, self, parsed.data.proof)) {
        return finish({ ok: false, failure: 'BAD_PROOF' });
      }
      socket.emit(WELCOME_EVENT, { proof: Buffer.from(auth.prove(hello.nonce, self, hello.from)) });
      finish({ ok: true, peer: hello.from });
    });
  });
}

/**
 * The client's side, from the moment the socket is created (its hello carries `ourNonce`): answer
 * the server's challenge if it is the peer we meant, then check its proof. Resolves (never rejects)
 * within `timeoutMs`.
 */
export function clientHandshake(
  socket: ClientSocket,
  self: NodeId,
  peer: NodeId,
  ourNonce: Uint8Array,
  auth: PeerAuthenticator,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    let answered = false;
    const onAbort = (): void => finish({ ok: false, failure: 'CONNECTION_FAILED', detail: 'aborted' });
    const finish = (result: HandshakeResult): void => {
      clearTimeout(timer);
      socket.off(CHALLENGE_EVENT, onChallenge);
      socket.off(WELCOME_EVENT, onWelcome);
      socket.off('connect_error', onConnectError);
      socket.off('disconnect', onDisconnect);
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onChallenge = (payload: unknown, ack: unknown): void => {
      const parsed = challengeSchema.safeParse(payload);
      if (!parsed.success || typeof ack !== 'function' || answered) {
        return finish({ ok: false, failure: 'PROTOCOL', detail: 'malformed challenge' });
      }
      const challenge = parsed.data;
      if (challenge.clusterId !== auth.clusterId) {
        return finish({ ok: false, failure: 'CLUSTER_MISMATCH', detail: `cluster ${challenge.clusterId}` });
      }
      if (challenge.nodeId !== peer) {
        return finish({ ok: false, failure: 'WRONG_NODE', detail: `reached ${challenge.nodeId}` });
      }
      answered = true;
      (ack as (reply: unknown) => void)({ proof: Buffer.from(auth.prove(challenge.nonce, self, peer)) });
    };
    const onWelcome = (payload: unknown): void => {
      const parsed = proofSchema.safeParse(payload);
      if (!parsed.success || !answered) {
        return finish({ ok: false, failure: 'PROTOCOL', detail: 'unexpected welcome' });
      }
      if (!auth.verify(ourNonce, peer, self, parsed.data.proof))
        return finish({ ok: false, failure: 'BAD_PROOF' });
      finish({ ok: true, peer });
    };
    const onConnectError = (err: Error & { data?: unknown }): void => {
      const code = (err.data as { code?: unknown } | undefined)?.code;
      finish(
        typeof code === 'string'
          ? { ok: false, failure: 'REFUSED_BY_PEER', detail: code }
          : { ok: false, failure: 'CONNECTION_FAILED', detail: err.message },
      );
    };
    const onDisconnect = (reason: string): void => {
      // The server refuses a bad proof by disconnecting us, after we answered its challenge.
      finish({ ok: false, failure: answered ? 'REFUSED_BY_PEER' : 'CONNECTION_FAILED', detail: reason });
    };
    // Joined but stalled is the peer's fault (a refusal); never reaching it is a connection failure.
    const timer = setTimeout(
      () =>
        finish({ ok: false, failure: socket.connected ? 'TIMEOUT' : 'CONNECTION_FAILED', detail: 'timeout' }),
      timeoutMs,
    );
    socket.on(CHALLENGE_EVENT, onChallenge);
    socket.on(WELCOME_EVENT, onWelcome);
    socket.on('connect_error', onConnectError);
    socket.on('disconnect', onDisconnect);
    signal.addEventListener('abort', onAbort);
  });
}

/** Failures this node decided (it refused the peer), as opposed to the peer refusing or vanishing. */
export function isLocalRefusal(failure: HandshakeFailure): boolean {
  return failure !== 'REFUSED_BY_PEER' && failure !== 'CONNECTION_FAILED';
}
