/**
 * Router ↔ controller authentication by the cluster secret, in the style of the peer handshake
 * (core/transport/auth.ts): each side proves knowledge of the secret with an HMAC over the nonce
 * the other side chose, bound to both names and the direction, so a proof cannot be replayed on
 * another connection or sent back the other way. The secret never crosses the wire.
 */
import { randomBytes } from 'node:crypto';
import { fieldsMac, sameMac } from '../transport/mac.js';
import { NONCE_BYTES } from './protocol.js';

const DOMAIN = 'meshdesk/router-proof/v1';

export type ProofDirection = 'router-to-controller' | 'controller-to-router';

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function routerProof(
  secret: string,
  direction: ProofDirection,
  router: string,
  controller: string,
  nonce: Uint8Array,
): Buffer {
  return fieldsMac(secret, [DOMAIN, direction, router, controller, nonce]);
}

export function verifyRouterProof(
  secret: string,
  direction: ProofDirection,
  router: string,
  controller: string,
  nonce: Uint8Array,
  proof: Uint8Array,
): boolean {
  return sameMac(proof, routerProof(secret, direction, router, controller, nonce));
}
