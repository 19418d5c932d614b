/**
 * Which intermediate CAs the cluster trusts, and who holds a certificate of which. A rotation
 * (`installIntermediate`) makes the new intermediate the one that signs and keeps the earlier one
 * trusted (cross-trust: the same root signed both), so that nothing breaks while every member and
 * router re-issues; finishing it (`finishCaRotation`) retires every earlier one, after which a
 * certificate they signed opens nothing. What each holder uses is recorded here for that check:
 * routers' certificates carry their issuer (router-certificates.ts), and each controller records
 * its own certificate (`recordControllerCertificate`) when it starts and when it renews.
 * Apply is deterministic: fingerprints are computed from the certificates in the model and the
 * command, and times come in the command.
 */
import { fingerprint } from '../pki/ca.js';
import type { ModelDatabase } from './database.js';
import { ModelError } from './errors.js';
import { PKI_SETTINGS } from './pki.js';
import { deleteSetting, readSetting, writeSetting } from './settings.js';

/** A certificate in use: its serial (upper-case hex), expiry (ISO) and issuer's fingerprint. */
export interface HeldCertificate {
  readonly serial: string;
  readonly expiresAt: string;
  readonly issuer: string;
}

/** The fingerprints of the earlier intermediates still trusted (a rotation not yet finished). */
export function previousIntermediates(db: ModelDatabase): string[] {
  const text = readSetting(db, PKI_SETTINGS.previousIntermediates);
  return text === undefined ? [] : (JSON.parse(text) as string[]);
}

/** A new root introduced with an intermediate: the root, and its certificate from the current one. */
export interface IntroducedRoot {
  readonly certificate: string;
  readonly cross: string;
}

/**
 * Makes `certificatePem` (with its key) the intermediate that signs; the one it replaces stays
 * trusted until the rotation is finished. With `root`, the intermediate is that new root's: the
 * root is everyone's from the finish on, and its cross-certificate links chains to the current
 * root until then. Returns the new intermediate's fingerprint.
 */
export function installIntermediate(
  db: ModelDatabase,
  certificatePem: string,
  keyPem: string,
  at: string,
  root?: IntroducedRoot,
): string {
  if (root) {
    writeSetting(db, PKI_SETTINGS.nextRootCert, root.certificate, at, false);
    writeSetting(db, PKI_SETTINGS.crossCert, root.cross, at, false);
  }
  const next = fingerprint(certificatePem);
  const current = readSetting(db, PKI_SETTINGS.intermediateCert);
  if (current !== undefined && fingerprint(current) !== next) {
    const kept = new Set([...previousIntermediates(db), fingerprint(current)]);
    kept.delete(next);
    writeSetting(db, PKI_SETTINGS.previousIntermediates, JSON.stringify([...kept]), at, false);
  }
  writeSetting(db, PKI_SETTINGS.intermediateCert, certificatePem, at, false);
  writeSetting(db, PKI_SETTINGS.intermediateKey, keyPem, at, false);
  return next;
}

/**
 * Retires every earlier intermediate, once every router holds a certificate of `issuer` (the
 * current one, as the taking node saw it); the taking node checked the members, whose list the
 * model does not hold. Router certificates of a retired intermediate (or of an unknown one) are
 * forgotten, which revokes them (their connections close, as for any revoked certificate).
 * A root being introduced becomes the root. Returns the retired intermediates' fingerprints and
 * the new root's; nothing to retire changes nothing.
 */
export function finishRotation(
  db: ModelDatabase,
  issuer: string,
  at: string,
): { retired: string[]; root?: string } {
  const current = readSetting(db, PKI_SETTINGS.intermediateCert);
  if (current === undefined || fingerprint(current) !== issuer) {
    throw new ModelError(
      'CA_CHANGED',
      'the intermediate CA changed since the rotation was checked (rotated again?); finish it again',
    );
  }
  const retired = previousIntermediates(db);
  if (retired.length === 0) return { retired };
  const behind = routersBehind(db, issuer);
  if (behind.length > 0) {
    throw new ModelError(
      'ROTATION_UNFINISHED',
      `${behind.join(', ')} hold no certificate of the current intermediate CA yet: connect them so that they renew, or disable or delete them`,
    );
  }
  db.run('DELETE FROM router_certificates WHERE issuer IS NULL OR issuer != ?', [issuer]);
  deleteSetting(db, PKI_SETTINGS.previousIntermediates);
  // A root being introduced is everyone's now; the one it replaces is trusted no more.
  const next = readSetting(db, PKI_SETTINGS.nextRootCert);
  if (next === undefined) return { retired };
  writeSetting(db, PKI_SETTINGS.rootCert, next, at, false);
  deleteSetting(db, PKI_SETTINGS.nextRootCert);
  // The cross-certificate stays in chains: a member or router that was away during the change
  // still trusts only the earlier root, and must verify the chains it meets to catch up.
  return { retired, root: fingerprint(next) };
}

/** Routers ("router NAME (ID)") with a good certificate but none from `issuer`. */
function routersBehind(db: ModelDatabase, issuer: string): string[] {
  return db
    .rows(
      `SELECT r.id, r.name FROM routers r
       WHERE EXISTS (SELECT 1 FROM router_certificates c WHERE c.router_id = r.id)
         AND NOT EXISTS (SELECT 1 FROM router_certificates c WHERE c.router_id = r.id AND c.issuer = ?)
       ORDER BY r.name, r.id`,
      [issuer],
    )
    .map(([id, name]) => `router ${String(name)} (${String(id)})`);
}

/** Records the certificate controller `nodeId` uses now; false when the record said so already. */
export function recordControllerCertificate(
  db: ModelDatabase,
  nodeId: string,
  certificate: HeldCertificate,
  at: string,
): boolean {
  const serial = certificate.serial.toUpperCase();
  if (db.exists('SELECT 1 FROM controller_certificates WHERE node_id = ? AND serial = ?', [nodeId, serial])) {
    return false;
  }
  db.run(
    `INSERT INTO controller_certificates (node_id, serial, issuer, expires_at, recorded_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (node_id) DO UPDATE SET serial = excluded.serial, issuer = excluded.issuer,
       expires_at = excluded.expires_at, recorded_at = excluded.recorded_at`,
    [nodeId, serial, certificate.issuer, certificate.expiresAt, at],
  );
  return true;
}

/** The certificate controller `nodeId` last recorded, if it did. */
export function controllerCertificate(db: ModelDatabase, nodeId: string): HeldCertificate | undefined {
  const row = db.rows('SELECT serial, issuer, expires_at FROM controller_certificates WHERE node_id = ?', [
    nodeId,
  ])[0];
  if (!row) return undefined;
  const [serial, issuer, expiresAt] = row;
  return { serial: String(serial), issuer: String(issuer), expiresAt: String(expiresAt) };
}

/** Forgets a removed controller's record. */
export function forgetControllerCertificate(db: ModelDatabase, nodeId: string): void {
  db.run('DELETE FROM controller_certificates WHERE node_id = ?', [nodeId]);
}
