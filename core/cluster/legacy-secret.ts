/**
 * Upgrading in place from the versions of the shared cluster secret: their nodes kept it in
 * `<dataDir>/cluster-secret`, and their routers proved it. Nothing proves it any more (controllers
 * have certificates, routers enroll for their own), so an upgraded node removes the file at start
 * and says what the routers of that version need: an enrollment each.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

export const LEGACY_SECRET_FILE = 'cluster-secret';

export function legacySecretFile(dataDir: string): string {
  return join(dataDir, LEGACY_SECRET_FILE);
}

/** Removes the old secret's file; whether there was one. */
export async function retireLegacySecret(dataDir: string, logger: Logger): Promise<boolean> {
  const file = legacySecretFile(dataDir);
  try {
    await unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  logger.warn(
    { file },
    "upgraded: the old shared cluster secret is retired and its file removed; routers now connect with their own certificates: enroll each one (its page in the UI, or 'meshdesk router invite' and 'meshdesk router enroll')",
  );
  return true;
}
