/** The router's status endpoint: its bearer check. */
import { describe, expect, it } from 'vitest';
import { bearerMatches } from '../../../core/router/status-endpoint.js';

describe('bearerMatches', () => {
  const secret = 'router-status-test-secret';

  it('accepts exactly the cluster secret as a bearer token', () => {
    expect(bearerMatches(`Bearer ${secret}`, secret)).toBe(true);
  });

  it('refuses anything else, of any length, and no header', () => {
    for (const header of [
      undefined,
      '',
      secret,
      `Bearer ${secret}x`,
      `Bearer ${secret.slice(0, -1)}`,
      `bearer ${secret}`,
      'Bearer ',
    ]) {
      expect(bearerMatches(header, secret)).toBe(false);
    }
  });
});
