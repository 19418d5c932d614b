/**
 * The one way this project proves knowledge of the cluster secret: HMAC-SHA256 over
 * length-prefixed fields (so no two different field lists give the same input), compared in
 * constant time. Peers, routers and links each put their own domain string first.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function fieldsMac(secret: string | Uint8Array, fields: readonly (string | Uint8Array)[]): Buffer {
  const mac = createHmac('sha256', typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  for (const field of fields) {
    const bytes = typeof field === 'string' ? Buffer.from(field, 'utf8') : field;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.byteLength);
    mac.update(length);
    mac.update(bytes);
  }
  return mac.digest();
}

/** Whether a proof received equals the one expected, without leaking where they differ. */
export function sameMac(received: Uint8Array, expected: Uint8Array): boolean {
  return received.byteLength === expected.byteLength && timingSafeEqual(received, expected);
}
