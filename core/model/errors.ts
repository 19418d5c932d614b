/**
 * A command the model refuses. Every node refuses it identically (apply is deterministic), and the
 * API maps each stable `code` to one HTTP status.
 */
export type ModelErrorCode =
  | 'INVALID'
  | 'NOT_FOUND'
  | 'NAME_TAKEN'
  | 'ID_TAKEN'
  | 'UNKNOWN_REFERENCE'
  | 'IN_USE'
  | 'REVISION_MISMATCH'
  /** A join token that is not the cluster's, or whose secret does not match. */
  | 'INVITATION_UNKNOWN'
  | 'INVITATION_USED'
  | 'INVITATION_EXPIRED'
  | 'INVITATION_REVOKED'
  /** A router that may not connect (disabled) asked to enroll, or an invitation was made for it. */
  | 'ROUTER_DISABLED'
  /** A router renewing on a certificate that was revoked meanwhile. */
  | 'CERTIFICATE_REVOKED'
  /** A node removed from the cluster: its id never joins again (its certificates are revoked). */
  | 'CONTROLLER_RETIRED'
  /** A rotation finished against an intermediate CA that is no longer the current one. */
  | 'CA_CHANGED'
  /** Finishing a rotation while someone still holds only certificates of an earlier intermediate. */
  | 'ROTATION_UNFINISHED'
  /** An Idempotency-Key already used for another request (method, path or body). */
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'INTERNAL';

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(message);
  }
}

/** What apply returns for a refused command: plain data, identical on every node. */
export interface ModelErrorResult {
  readonly ok: false;
  readonly error: {
    readonly code: ModelErrorCode;
    readonly message: string;
    readonly errors: readonly FieldError[];
  };
}

export function errorResult(err: ModelError): ModelErrorResult {
  return { ok: false, error: { code: err.code, message: err.message, errors: err.errors } };
}
