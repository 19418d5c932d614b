/**
 * Peer authentication by a shared cluster secret: each side proves it knows the secret with an
 * HMAC-SHA256 over a nonce the other side chose, bound to the cluster id and both node ids. The
 * secret itself never crosses the wire. Certificates replace this behind the same interface.
 */
import type { NodeId } from '../raft/types.js';
import { fieldsMac, sameMac } from './mac.js';
import type { PeerAuthenticator } from './types.js';

/** Separates these MACs from any other use of the same secret. */
const DOMAIN = 'meshdesk/peer-proof/v1';

export function createSecretAuthenticator(clusterId: string, secret: string | Uint8Array): PeerAuthenticator {
  if (secret.length === 0) throw new Error('the cluster secret must not be empty');
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);

  function prove(challenge: Uint8Array, from: NodeId, to: NodeId): Uint8Array {
    return new Uint8Array(fieldsMac(key, [DOMAIN, clusterId, from, to, challenge]));
  }

  return {
    clusterId,
    prove,
    verify(challenge, from, to, proof) {
      return sameMac(proof, prove(challenge, from, to));
    },
  };
}
