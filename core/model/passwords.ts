/**
 * Admin passwords, kept only as scrypt hashes: `scrypt$N$r$p$salt$hash` (base64). The node that
 * takes a request hashes the password before proposing, so the hash (and its random salt) travels
 * in the command and apply stays deterministic.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEY_BYTES = 32;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * Whether `password` matches `stored`. The cost parameters are the product's, never the stored
 * data's: a hash planted with a huge N (through a backup or a log) would otherwise tie up the
 * thread pool on every login attempt. A hash with other parameters simply does not match.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || n !== String(N) || r !== String(R) || p !== String(P) || !salt || !hash) {
    return false;
  }
  const expected = Buffer.from(hash, 'base64');
  if (expected.length !== KEY_BYTES) return false;
  const key = await scrypt(password, Buffer.from(salt, 'base64'), { N, r: R, p: P });
  return timingSafeEqual(key, expected);
}
