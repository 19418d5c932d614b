/**
 * Requests a controller makes as itself rather than for an admin (a node that has just joined
 * asking to be added as a member): signed with the node's own key and carrying its certificate,
 * so the member checks who asks against the cluster CA, with no secret shared between nodes.
 *
 *   Authorization: Node <ts>.<base64url ECDSA-SHA256 over "<ts>\n<METHOD> <path>\n<body>">
 *   X-Meshdesk-Node-Certificate: <base64 of the leaf certificate's PEM>
 *
 * `ts` is milliseconds since the epoch, within a minute of the receiver's clock; the signature
 * covers the method, the path and the raw body, so a captured header cannot carry another request,
 * and a replay within the minute repeats the same (idempotent) request. Pure: no I/O; the clock
 * comes in as an argument.
 */
import { sign, verify, X509Certificate } from 'node:crypto';
import { parseSpiffeId, spiffeIdsOf, verifyChain } from '../pki/ca.js';

export const NODE_AUTH_SCHEME = 'Node';
export const NODE_CERTIFICATE_HEADER = 'x-meshdesk-node-certificate';
export const NODE_AUTH_MAX_SKEW_MS = 60_000;

export interface SignedRequest {
  readonly method: string;
  /** The path as sent, with its query (e.g. `/api/v1/cluster/members`). */
  readonly path: string;
  readonly body: string;
}

export interface NodeKey {
  /** PKCS#8 PEM. */
  readonly key: string;
  /** The node's certificate chain, leaf first (only the leaf is sent). */
  readonly cert: string;
}

export interface CertifiedNode {
  readonly clusterId: string;
  readonly nodeId: string;
}

export type NodeSignatureFailure = 'MALFORMED' | 'STALE' | 'UNTRUSTED_CERTIFICATE' | 'BAD_SIGNATURE';

/** The two headers that sign `request` as the node holding `key`. */
export function signNodeRequest(
  key: NodeKey,
  request: SignedRequest,
  now: number = Date.now(),
): Record<string, string> {
  const ts = String(Math.trunc(now));
  const signature = sign('sha256', signedText(ts, request), key.key).toString('base64url');
  const leaf = new X509Certificate(key.cert).toString();
  return {
    authorization: `${NODE_AUTH_SCHEME} ${ts}.${signature}`,
    [NODE_CERTIFICATE_HEADER]: Buffer.from(leaf).toString('base64'),
  };
}

/**
 * Who signed `request`: a controller of `clusterId` whose certificate chains to `trust`, or why
 * not. The caller still decides what that node may do.
 */
export function verifyNodeRequest(
  headers: { readonly authorization: string; readonly certificate: string },
  request: SignedRequest,
  /** `intermediatePem`: the intermediate, and the cross-certificate while a new root is introduced. */
  trust: { readonly clusterId: string; readonly intermediatePem: string; readonly rootPem: string },
  now: number = Date.now(),
): CertifiedNode | NodeSignatureFailure {
  const match = /^Node ([0-9]{1,16})\.([A-Za-z0-9_-]{1,200})$/.exec(headers.authorization.trim());
  if (!match || !/^[A-Za-z0-9+/=]{1,8000}$/.test(headers.certificate)) return 'MALFORMED';
  const [, ts = '', signature = ''] = match;
  if (Math.abs(now - Number(ts)) >= NODE_AUTH_MAX_SKEW_MS) return 'STALE';
  const leafPem = Buffer.from(headers.certificate, 'base64').toString('utf8');
  if (!verifyChain(leafPem, trust.intermediatePem, trust.rootPem, new Date(now))) {
    return 'UNTRUSTED_CERTIFICATE';
  }
  const node = spiffeIdsOf(leafPem)
    .map(parseSpiffeId)
    .find((id) => id?.kind === 'controller' && id.clusterId === trust.clusterId);
  if (!node) return 'UNTRUSTED_CERTIFICATE';
  const good = verify(
    'sha256',
    signedText(ts, request),
    new X509Certificate(leafPem).publicKey,
    Buffer.from(signature, 'base64url'),
  );
  return good ? { clusterId: node.clusterId, nodeId: node.id } : 'BAD_SIGNATURE';
}

function signedText(ts: string, request: SignedRequest): Buffer {
  return Buffer.from(`${ts}\n${request.method.toUpperCase()} ${request.path}\n${request.body}`);
}
