/**
 * Peer authentication by a shared cluster secret: each side proves it knows the secret with an
 * HMAC-SHA256 over a nonce the other side chose, bound to the cluster id and both node ids. The
 * secret itself never crosses the wire. Certificates replace this behind the same interface.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../raft/types.js';
import type { PeerAuthenticator } from './types.js';

/** Separates these MACs from any other use of the same secret. */
const DOMAIN = 'meshdesk/peer-proof/v1';

export function createSecretAuthenticator(clusterId: string, secret: string | Uint8Array): PeerAuthenticator {
  if (secret.length === 0) throw new Error('the cluster secret must not be empty');
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);

  function prove(challenge: Uint8Array, from: NodeId, to: NodeId): Uint8Array {
    const mac = createHmac('sha256', key);
    // Length-prefixed fields: no two different (cluster, from, to, challenge) give the same input.
    for (const field of [DOMAIN, clusterId, from, to]) writeField(mac, Buffer.from(field, 'utf8'));
    writeField(mac, challenge);
    return new Uint8Array(mac.digest());
  }

  return {
    clusterId,
    prove,
    verify(challenge, from, to, proof) {
      const expected = prove(challenge, from, to);
      return proof.byteLength === expected.byteLength && timingSafeEqual(proof, expected);
    },
  };
}

function writeField(mac: ReturnType<typeof createHmac>, bytes: Uint8Array): void {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.byteLength);
  mac.update(length);
  mac.update(bytes);
}
