/**
 * Errors of cluster requests. A TransportError says the request failed on the way (it may or may
 * not have reached the peer: only `UNREACHABLE` and `CLOSED` promise it was never sent); a
 * RemoteError carries what the peer's handler threw.
 */
export type TransportErrorCode =
  /** No authenticated connection to the peer (unknown, down, cut): the request was not sent. */
  | 'UNREACHABLE'
  /** No answer within the timeout: the handler may still have run. */
  | 'TIMEOUT'
  /** The connection broke while waiting: the handler may still have run. */
  | 'DISCONNECTED'
  /** The peer has no handler for this method. */
  | 'NO_HANDLER'
  /** The request or its answer could not be encoded or did not have the expected shape. */
  | 'BAD_MESSAGE'
  /** The transport was closed. */
  | 'CLOSED';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The error a peer's request handler threw, with its message and `code` when it had one. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly peer: string,
  ) {
    super(message);
  }
}
