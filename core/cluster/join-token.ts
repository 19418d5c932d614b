/**
 * One-time join tokens as an admin hands them over: `mdjoin1.<payload>.<signature>`, base64url.
 * The payload says which cluster (its id and the SHA-256 fingerprint of its root CA, which the
 * joiner pins before it trusts anything), which member to ask, which invitation (its id and a
 * 256-bit secret whose hash the model keeps) and until when. The signature is ECDSA P-256 over
 * everything before it, by the cluster's intermediate CA key, so a member refuses a token altered
 * anywhere, and a joiner that has fetched the chain can check that the cluster it reached made it.
 * Pure apart from the randomness of a new secret: no I/O, no clock.
 */
import { createHash, randomBytes, sign, verify, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { INVITATION_KINDS } from '../model/commands.js';

export const JOIN_TOKEN_PREFIX = 'mdjoin1.';

/** Longest token accepted anywhere (a real one is about 500 characters). */
export const MAX_JOIN_TOKEN_LENGTH = 4096;

/** "AB:CD:…" as node:crypto prints it; 64 hex digits with or without colons are accepted. */
const fingerprint = z
  .string()
  .transform((s) => s.replace(/:/g, '').toUpperCase())
  .refine((s) => /^[0-9A-F]{64}$/.test(s), { message: 'not a SHA-256 fingerprint' })
  .transform((s) => (s.match(/../g) ?? []).join(':'));

const payloadSchema = z.strictObject({
  v: z.literal(1),
  kind: z.enum(INVITATION_KINDS),
  clusterId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a cluster id'),
  /** A member's API, where the joiner sends its CSR. */
  member: z.url({ protocol: /^https?$/ }).max(1024),
  caFingerprint: fingerprint,
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not an invitation id'),
  secret: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not 32 bytes of base64url'),
  /** A router token's router id (the certificate the joiner should receive names it). */
  subject: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a router id')
    .optional(),
  expiresAt: z.iso.datetime({ precision: 3, message: 'not a timestamp' }),
});

export type JoinTokenPayload = z.output<typeof payloadSchema>;

/** A fresh 256-bit secret, base64url. */
export function newInvitationSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What the model keeps of a secret: its SHA-256, lower-case hex. */
export function invitationSecretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The token for `payload`, signed with the intermediate CA's key (PKCS#8 PEM). */
export function mintJoinToken(payload: z.input<typeof payloadSchema>, signingKeyPem: string): string {
  const body =
    JOIN_TOKEN_PREFIX + Buffer.from(JSON.stringify(payloadSchema.parse(payload))).toString('base64url');
  return `${body}.${sign('sha256', Buffer.from(body), signingKeyPem).toString('base64url')}`;
}

export interface ParsedJoinToken {
  readonly payload: JoinTokenPayload;
  /** What the signature covers, and the signature. */
  readonly signed: string;
  readonly signature: Buffer;
}

/** The token's parts; throws an Error whose message says, in one line, what is wrong. */
export function parseJoinToken(text: string): ParsedJoinToken {
  const token = text.trim();
  if (token.length > MAX_JOIN_TOKEN_LENGTH) throw new Error('the join token is too long to be one');
  if (!token.startsWith(JOIN_TOKEN_PREFIX)) {
    throw new Error(
      `not a join token: it starts with ${JOIN_TOKEN_PREFIX} ('meshdesk cluster invite' prints one)`,
    );
  }
  const parts = token.slice(JOIN_TOKEN_PREFIX.length).split('.');
  const [body, signature] = parts;
  if (parts.length !== 2 || !body || !signature || !/^[A-Za-z0-9_-]+$/.test(body + signature)) {
    throw new Error(
      'the join token is damaged: it is not two base64url parts after the prefix (was it cut?)',
    );
  }
  // Only the canonical spelling: a last character differing in unused bits alone is an alteration too.
  if (!canonical(body) || !canonical(signature)) throw new Error('the join token is damaged: it was altered');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new Error('the join token is damaged: its payload does not decode (was it cut?)');
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `the join token is damaged: ${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  if (!wholeDerSignature(Buffer.from(signature, 'base64url'))) {
    throw new Error('the join token is damaged: its signature is cut short or altered');
  }
  return {
    payload: parsed.data,
    signed: JOIN_TOKEN_PREFIX + body,
    signature: Buffer.from(signature, 'base64url'),
  };
}

/**
 * Whether the bytes are one whole DER ECDSA signature (SEQUENCE whose length is the rest), so that
 * a token cut short is refused by its form, before any key is at hand (the setup page, the CLI).
 */
function wholeDerSignature(der: Buffer): boolean {
  return der.length >= 8 && der[0] === 0x30 && der[1] === der.length - 2;
}

function canonical(base64url: string): boolean {
  return Buffer.from(base64url, 'base64url').toString('base64url') === base64url;
}

/** Whether the cluster's intermediate (its certificate, PEM) signed the token. */
export function signedBy(token: ParsedJoinToken, intermediateCertPem: string): boolean {
  try {
    return verify(
      'sha256',
      Buffer.from(token.signed),
      new X509Certificate(intermediateCertPem).publicKey,
      token.signature,
    );
  } catch {
    return false;
  }
}
