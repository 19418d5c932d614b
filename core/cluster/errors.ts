/**
 * Cluster operations refused for what they ask (not for the cluster's state, which is a
 * ReplicaError): the API maps each code to one HTTP status.
 */
export type ClusterErrorCode =
  /** The request itself is wrong (missing id, bad address, …): 400. */
  | 'INVALID_MEMBER'
  /** No such member: 404. */
  | 'UNKNOWN_MEMBER'
  /** It conflicts with the membership as it is (already a member, change in progress, …): 409. */
  | 'MEMBERSHIP_CONFLICT'
  /** A node removed from the cluster asks to be a member again (its certificates are revoked): 403. */
  | 'MEMBER_RETIRED'
  /** The member asked for is not reachable from the leader (down, cut off): 409. */
  | 'MEMBER_UNREACHABLE'
  /** A new member did not catch up in time to be promoted; it stays a learner: 504. */
  | 'CATCH_UP_TIMEOUT'
  /** A certificate request this node cannot sign (a CSR that does not verify): 400. */
  | 'BAD_CERTIFICATE_REQUEST'
  /** A CA rotation asked of a node that does not hold the root CA's key: 409. */
  | 'NO_ROOT_KEY'
  /** This node's model does not hold the cluster CA yet (it is starting): 503. */
  | 'NO_CLUSTER_CA'
  /** A CA rotation finished while a member still uses a certificate of an earlier intermediate: 409. */
  | 'ROTATION_UNFINISHED'
  /** A new root asked of a cluster whose root cannot certify one (made before version 14): 409. */
  | 'ROOT_TOO_OLD';

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const CODES = new Set<string>([
  'INVALID_MEMBER',
  'UNKNOWN_MEMBER',
  'MEMBERSHIP_CONFLICT',
  'MEMBER_RETIRED',
  'MEMBER_UNREACHABLE',
  'CATCH_UP_TIMEOUT',
  'BAD_CERTIFICATE_REQUEST',
  'NO_CLUSTER_CA',
  'NO_ROOT_KEY',
  'ROTATION_UNFINISHED',
  'ROOT_TOO_OLD',
]);

/** A ClusterError that crossed the cluster transport comes back as a plain error with its code. */
export function asClusterError(err: unknown): ClusterError | undefined {
  if (err instanceof ClusterError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && CODES.has(code)) {
    return new ClusterError(code as ClusterErrorCode, err instanceof Error ? err.message : String(err));
  }
  return undefined;
}
