/**
 * Router ↔ controller authentication by the cluster secret, in the style of the peer handshake
 * (core/transport/auth.ts): each side proves knowledge of the secret with an HMAC over the nonce
 * the other side chose, bound to both names and the direction, so a proof cannot be replayed on
 * another connection or sent back the other way. The secret never crosses the wire.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  for (const field of [DOMAIN, direction, router, controller]) writeField(mac, Buffer.from(field, 'utf8'));
  writeField(mac, nonce);
  return mac.digest();
}

export function verifyRouterProof(
  secret: string,
  direction: ProofDirection,
  router: string,
  controller: string,
  nonce: Uint8Array,
  proof: Uint8Array,
): boolean {
  const expected = routerProof(secret, direction, router, controller, nonce);
  return proof.byteLength === expected.byteLength && timingSafeEqual(proof, expected);
}

function writeField(mac: ReturnType<typeof createHmac>, bytes: Uint8Array): void {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.byteLength);
  mac.update(length);
  mac.update(bytes);
}
