/**
 * Join tokens as an admin hands them over: they carry what the joiner needs (cluster, member, CA
 * fingerprint, invitation id and secret, expiry), are signed by the cluster's intermediate CA, and
 * every alteration — any one character anywhere — is refused, by the parser in one line or by the
 * signature; a token of another cluster's CA does not verify.
 */
import { describe, expect, it } from 'vitest';
import {
  invitationSecretHash,
  JOIN_TOKEN_PREFIX,
  mintJoinToken,
  newInvitationSecret,
  parseJoinToken,
  signedBy,
} from '../../../core/cluster/join-token.js';
import { createClusterCa, fingerprint } from '../../../core/pki/ca.js';

const ca = await createClusterCa('c-token');
const other = await createClusterCa('c-token');

function payload() {
  return {
    v: 1 as const,
    kind: 'controller' as const,
    clusterId: 'c-token',
    member: 'https://10.0.0.5:8440',
    caFingerprint: fingerprint(ca.root.certPem),
    id: 'inv-1',
    secret: newInvitationSecret(),
    expiresAt: '2026-12-07T11:00:00.000Z',
  };
}

/** Whether a member would accept the token as this cluster's: it parses and its signature holds. */
function accepted(token: string): boolean {
  try {
    return signedBy(parseJoinToken(token), ca.intermediate.certPem);
  } catch {
    return false;
  }
}

describe('join tokens', () => {
  it('carry the joiner’s needs, signed by the cluster’s intermediate CA', () => {
    const p = payload();
    const token = mintJoinToken(p, ca.intermediate.keyPem);
    expect(token.startsWith(JOIN_TOKEN_PREFIX)).toBe(true);
    expect(token.length).toBeLessThan(700);
    const parsed = parseJoinToken(`  ${token}\n`); // pasted with whitespace around it
    expect(parsed.payload).toEqual(p);
    expect(signedBy(parsed, ca.intermediate.certPem)).toBe(true);
    expect(signedBy(parsed, other.intermediate.certPem)).toBe(false);
    expect(accepted(mintJoinToken(p, other.intermediate.keyPem))).toBe(false);
    // The secret is 256 bits; the model keeps only its SHA-256.
    expect(Buffer.from(p.secret, 'base64url')).toHaveLength(32);
    expect(invitationSecretHash(p.secret)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('are refused when any one character is altered', () => {
    const token = mintJoinToken(payload(), ca.intermediate.keyPem);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    let tried = 0;
    for (let i = 0; i < token.length; i++) {
      const c = token[i] as string;
      const replacement = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length] as string;
      const altered = token.slice(0, i) + replacement + token.slice(i + 1);
      if (altered === token) continue;
      tried++;
      expect(accepted(altered), `character ${i}`).toBe(false);
    }
    expect(tried).toBe(token.length);
  });

  it('are refused by their form alone when cut short, at any length', () => {
    // Before any key is at hand (the setup page, the CLI): a DER signature carries its length.
    for (let n = 0; n < 50; n++) {
      const token = mintJoinToken(payload(), ca.intermediate.keyPem);
      for (let cut = 1; cut <= 24; cut++) {
        expect(() => parseJoinToken(token.slice(0, -cut)), `cut ${cut}`).toThrow(/is damaged/);
      }
    }
  });

  it('say in one line what is wrong with something that is not a token', () => {
    const token = mintJoinToken(payload(), ca.intermediate.keyPem);
    const cases: [string, RegExp][] = [
      ['hello', /^not a join token: it starts with mdjoin1\./],
      [token.slice(0, 40), /is damaged: it is not two base64url parts/],
      [token.split('.').slice(0, 2).join('.'), /is damaged: it is not two base64url parts/],
      [`${JOIN_TOKEN_PREFIX}bm90IGpzb24.c2ln`, /payload does not decode/],
      [`${JOIN_TOKEN_PREFIX}${'A'.repeat(5000)}.x`, /too long/],
      [
        `${JOIN_TOKEN_PREFIX}${Buffer.from(JSON.stringify({ ...payload(), caFingerprint: 'AB' })).toString('base64url')}.c2ln`,
        /is damaged: caFingerprint: not a SHA-256 fingerprint/,
      ],
    ];
    for (const [text, message] of cases) {
      expect(() => parseJoinToken(text)).toThrow(message);
      try {
        parseJoinToken(text);
      } catch (err) {
        expect((err as Error).message).not.toContain('\n');
      }
    }
  });
});
