/** Requests signed with the cluster secret. */
import { describe, expect, it } from 'vitest';
import { signClusterRequest, verifyClusterRequest } from '../../../core/api/cluster-auth.js';

const NOW = 1_800_000_000_000;

describe('cluster request signatures', () => {
  it('verify for the same secret, body and a clock within a minute', () => {
    const header = signClusterRequest('s3cret', '{"address":"h:1"}', NOW);
    expect(header).toMatch(/^Cluster 1800000000000\.[0-9a-f]{64}$/);
    expect(verifyClusterRequest('s3cret', header, '{"address":"h:1"}', NOW + 59_000)).toBeUndefined();
    expect(verifyClusterRequest('s3cret', header, '{"address":"h:1"}', NOW - 59_000)).toBeUndefined();
  });

  it('fail for another secret, another body, a stale clock or a malformed header', () => {
    const header = signClusterRequest('s3cret', 'body', NOW);
    expect(verifyClusterRequest('other', header, 'body', NOW)).toBe('BAD_SIGNATURE');
    expect(verifyClusterRequest('s3cret', header, 'body ', NOW)).toBe('BAD_SIGNATURE');
    expect(verifyClusterRequest('s3cret', header, 'body', NOW + 60_000)).toBe('STALE');
    expect(verifyClusterRequest('s3cret', 'Cluster 1.2', 'body', NOW)).toBe('MALFORMED');
    expect(verifyClusterRequest('s3cret', `Bearer ${header.slice(8)}`, 'body', NOW)).toBe('MALFORMED');
    // The timestamp is covered by the MAC: moving it breaks the signature.
    const moved = header.replace('1800000000000', '1800000000001');
    expect(verifyClusterRequest('s3cret', moved, 'body', NOW)).toBe('BAD_SIGNATURE');
  });
});
