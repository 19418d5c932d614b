/**
 * The keys admin tokens are signed with. Each node signs with its own ES256 key, kept in its data
 * directory (mode 0600) and never replicated; the public half is published in the model (setting
 * `auth.tokenKey.<kid>`, kid = the key's RFC 7638 thumbprint) so that every node verifies every
 * node's tokens without a Raft write. A backup or a log holds public keys only: nothing in them
 * signs anything.
 *
 * Rotation marks every published key retired (their tokens stop verifying at once, on every
 * node); a node whose key was retired makes a new one before it signs again.
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { z } from 'zod';
import type { SingleCommand } from '../model/commands.js';
import type { ModelDatabase } from '../model/database.js';
import { readSetting, readSettings } from '../model/settings.js';
import { readOptional, writeDurably } from '../files.js';

export const TOKEN_KEY_SETTING_PREFIX = 'auth.tokenKey.';
/** The cluster-wide HS256 secret of earlier versions: removed by the first rotation. */
export const LEGACY_JWT_KEY_SETTING = 'auth.jwtKey';
const KEY_FILE = 'token-signing.key';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

/** This node's signing key, as kept in its data directory. */
export interface TokenKeyStore {
  current(): SigningKey;
  /** Replaces the key with a new one (the old one was retired). */
  renew(): Promise<SigningKey>;
}

const publishedSchema = z.object({
  node: z.string(),
  jwk: z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string() }),
  at: z.string(),
  retiredAt: z.string().optional(),
});

export type PublishedTokenKey = z.output<typeof publishedSchema> & { readonly kid: string };

/** Whether a key is published and not retired: tokens it signed verify. */
export function isLive(key: PublishedTokenKey | undefined): key is PublishedTokenKey {
  return key !== undefined && key.retiredAt === undefined;
}

export async function openTokenKeyStore(dataDir: string): Promise<TokenKeyStore> {
  const path = join(dataDir, KEY_FILE);
  const stored = await readOptional(path);
  let key = stored === undefined ? await writeNewKey(path) : await signingKey(createPrivateKey(stored));
  return {
    current: () => key,
    renew: async () => (key = await writeNewKey(path)),
  };
}

async function writeNewKey(path: string): Promise<SigningKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeDurably(path, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  return signingKey(privateKey);
}

async function signingKey(privateKey: KeyObject): Promise<SigningKey> {
  const full = await exportJWK(createPublicKey(privateKey));
  const publicJwk: JWK = { kty: 'EC', crv: 'P-256', x: full.x as string, y: full.y as string };
  return { kid: await calculateJwkThumbprint(publicJwk, 'sha256'), privateKey, publicJwk };
}

/** A published key by id, or undefined (unknown, or its setting does not parse). */
export function publishedTokenKey(db: ModelDatabase, kid: string): PublishedTokenKey | undefined {
  const value = readSetting(db, TOKEN_KEY_SETTING_PREFIX + kid);
  return value === undefined ? undefined : parsePublished(kid, value);
}

export function publishedTokenKeys(db: ModelDatabase): PublishedTokenKey[] {
  return readSettings(db, TOKEN_KEY_SETTING_PREFIX).flatMap(({ key, value }) => {
    const parsed = parsePublished(key.slice(TOKEN_KEY_SETTING_PREFIX.length), value);
    return parsed ? [parsed] : [];
  });
}

/**
 * Parsed settings by their stored text: every authenticated request looks its token's key up, and
 * the few values there are (one per node and rotation) need parsing once. Bounded all the same.
 */
const parsedValues = new Map<string, PublishedTokenKey | undefined>();
const MAX_PARSED = 256;

function parsePublished(kid: string, value: string): PublishedTokenKey | undefined {
  const memo = `${kid}\u0000${value}`;
  if (parsedValues.has(memo)) return parsedValues.get(memo);
  let parsed: PublishedTokenKey | undefined;
  try {
    const result = publishedSchema.safeParse(JSON.parse(value));
    parsed = result.success ? { ...result.data, kid } : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsedValues.size >= MAX_PARSED) parsedValues.clear();
  parsedValues.set(memo, parsed);
  return parsed;
}

/** Publishes a node's public key; an existing entry (published, or retired) wins. */
export function publishCommand(node: string, key: SigningKey, at: string): SingleCommand {
  const value = JSON.stringify({ node, jwk: key.publicJwk, at });
  return { op: 'setSetting', key: TOKEN_KEY_SETTING_PREFIX + key.kid, value, at, onlyIfAbsent: true };
}

/** Retires every published key that is not retired yet, and removes the legacy shared secret. */
export function retireCommands(db: ModelDatabase, at: string): { kids: string[]; commands: SingleCommand[] } {
  const live = publishedTokenKeys(db).filter(isLive);
  const commands: SingleCommand[] = live.map(({ kid, node, jwk, at: publishedAt }) => ({
    op: 'setSetting',
    key: TOKEN_KEY_SETTING_PREFIX + kid,
    value: JSON.stringify({ node, jwk, at: publishedAt, retiredAt: at }),
    at,
  }));
  if (readSetting(db, LEGACY_JWT_KEY_SETTING) !== undefined) {
    commands.push({ op: 'deleteSetting', key: LEGACY_JWT_KEY_SETTING });
  }
  return { kids: live.map((k) => k.kid), commands };
}
