/**
 * What a failed write tells its caller (core/replication/errors.ts), and how a write forwarded to
 * the leader keeps the leader's promise only when the leader made one (`forwardedError` in
 * core/replication/replica.ts): anything else may have applied, so it is OUTCOME_UNKNOWN.
 */
import { describe, expect, it } from 'vitest';
import { ReplicaError, type ReplicaErrorCode } from '../../../core/replication/errors.js';
import { forwardedError } from '../../../core/replication/replica.js';
import { RemoteError, TransportError } from '../../../core/transport/errors.js';

describe('ReplicaError', () => {
  it('is an Error carrying its code, outcome and message', () => {
    const err = new ReplicaError('QUEUE_FULL', '10 writes are waiting', 'not-proposed');
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'ReplicaError',
      code: 'QUEUE_FULL',
      outcome: 'not-proposed',
      message: '10 writes are waiting',
    });
  });
});

describe('forwardedError', () => {
  const fromLeader = (code: string) => new RemoteError(`leader says ${code}`, code, 'n1');

  it.each<ReplicaErrorCode>(['NO_LEADER', 'QUEUE_FULL', 'INVALID_REQUEST'])(
    'keeps the leader’s %s: nothing was proposed',
    (code) => {
      const err = forwardedError(fromLeader(code));
      expect(err).toBeInstanceOf(ReplicaError);
      expect(err).toMatchObject({ code, outcome: 'not-proposed', message: `leader says ${code}` });
    },
  );

  it('keeps the leader’s PROPOSAL_DROPPED: the entry will never apply', () => {
    expect(forwardedError(fromLeader('PROPOSAL_DROPPED'))).toMatchObject({
      code: 'PROPOSAL_DROPPED',
      outcome: 'not-applied',
      message: 'leader says PROPOSAL_DROPPED',
    });
  });

  it.each([
    ['the leader’s TIMEOUT', fromLeader('TIMEOUT')],
    ['the leader’s STOPPED', fromLeader('STOPPED')],
    ['the leader’s OUTCOME_UNKNOWN', fromLeader('OUTCOME_UNKNOWN')],
    ['a remote error without a code', new RemoteError('boom', undefined, 'n1')],
    ['no answer in time', new TransportError('TIMEOUT', 'no answer')],
    ['a connection broken while waiting', new TransportError('DISCONNECTED', 'reset')],
    ['a plain error', new Error('boom')],
  ])('makes %s OUTCOME_UNKNOWN: the write may still apply', (_, cause) => {
    const err = forwardedError(cause);
    expect(err).toBeInstanceOf(ReplicaError);
    expect(err).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      outcome: 'unknown',
      message: `forwarding to the leader failed: ${cause.message}`,
    });
  });

  it('makes a thrown non-error OUTCOME_UNKNOWN too', () => {
    expect(forwardedError('gone')).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      outcome: 'unknown',
      message: 'forwarding to the leader failed: gone',
    });
    expect(forwardedError(null)).toMatchObject({ code: 'OUTCOME_UNKNOWN', outcome: 'unknown' });
  });
});
