/**
 * Admin password hashes: a hash made here verifies; one whose cost parameters are not the
 * product's (planted through a backup or a log) does not, and costs nothing to refuse.
 */
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../../core/model/passwords.js';

describe('password hashes', () => {
  it('verify the password they were made from, and no other', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
  });

  it('refuse a hash with cost parameters from the stored data, without running them', async () => {
    const stored = await hashPassword('pw');
    const [, , , , salt, hash] = stored.split('$');
    // N = 2^24 would take 16 GiB per attempt if the stored parameters were used.
    for (const planted of [
      `scrypt$16777216$8$1$${salt}$${hash}`,
      `scrypt$16384$64$1$${salt}$${hash}`,
      `scrypt$16384$8$16$${salt}$${hash}`,
      `scrypt$16384$8$1$${salt}$${Buffer.alloc(4096).toString('base64')}`,
      'plain text',
    ]) {
      // Before this bound, the first two threw (scrypt's memory limit) and the third ran 16× the cost.
      expect(await verifyPassword('pw', planted), planted.slice(0, 24)).toBe(false);
    }
  });
});
