/**
 * The certificates routers enrolled for (migration 11), the model's side of router revocation. A
 * certificate is good while its serial is recorded for its router; the writes that end it:
 * re-enrolling (the new certificate replaces every earlier one), disabling the router and deleting
 * it. Apply is deterministic: the serial, issue time and expiry come in the enrollment command.
 */
import type { ModelDatabase } from './database.js';
import { ModelError } from './errors.js';

export interface EnrolledCertificate {
  /** Upper-case hex, as node:tls names a peer certificate's serial. */
  readonly serial: string;
  readonly expiresAt: string;
  /** The SHA-256 fingerprint of the intermediate CA that signed it (absent before version 14). */
  readonly issuer?: string;
}

/** Records `certificate` as the router's only good one (enrollment). */
export function enrollCertificate(
  db: ModelDatabase,
  routerId: string,
  certificate: EnrolledCertificate,
  at: string,
): void {
  revokeRouterCertificates(db, routerId);
  insertCertificate(db, routerId, certificate, at);
}

/** Ends every certificate of the router (disabled, re-enrolled); true when there was one. */
export function revokeRouterCertificates(db: ModelDatabase, routerId: string): boolean {
  const had = db.exists('SELECT 1 FROM router_certificates WHERE router_id = ?', [routerId]);
  if (had) db.run('DELETE FROM router_certificates WHERE router_id = ?', [routerId]);
  return had;
}

/**
 * How long a router's earlier certificate stays recorded after it expired. Renewal keeps earlier
 * certificates good (connections made on them carry on: TLS checked them when they opened), and
 * forgets those expired longer than this, so the list stays a few entries long.
 */
export const RETAIN_EXPIRED_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Adds a renewed certificate for a router that proved `previousSerial` (one of its good ones): a
 * revoked router cannot renew its way back. Earlier certificates stay good until revoked
 * (re-enrollment, disabling, deletion) or forgotten (RETAIN_EXPIRED_MS after their expiry).
 */
export function renewCertificate(
  db: ModelDatabase,
  routerId: string,
  previousSerial: string,
  certificate: EnrolledCertificate,
  at: string,
): void {
  if (!certificateCurrent(db, routerId, previousSerial)) {
    throw new ModelError(
      'CERTIFICATE_REVOKED',
      `router ${routerId}'s certificate ${previousSerial} was revoked; it enrolls again`,
    );
  }
  const forgetBefore = new Date(Date.parse(at) - RETAIN_EXPIRED_MS).toISOString();
  db.run('DELETE FROM router_certificates WHERE router_id = ? AND expires_at < ?', [routerId, forgetBefore]);
  insertCertificate(db, routerId, certificate, at);
}

function insertCertificate(
  db: ModelDatabase,
  routerId: string,
  certificate: EnrolledCertificate,
  at: string,
): void {
  db.run(
    'INSERT INTO router_certificates (serial, router_id, issued_at, expires_at, issuer) VALUES (?, ?, ?, ?, ?)',
    [certificate.serial.toUpperCase(), routerId, at, certificate.expiresAt, certificate.issuer ?? null],
  );
}

/** Whether the certificate with `serial` is a good one of the router. */
export function certificateCurrent(db: ModelDatabase, routerId: string, serial: string): boolean {
  return db.exists('SELECT 1 FROM router_certificates WHERE serial = ? AND router_id = ?', [
    serial.toUpperCase(),
    routerId,
  ]);
}

/** Every enabled router's good certificates: the routers a router may link with, by serial. */
export function enrolledRouters(db: ModelDatabase): { id: string; serial: string }[] {
  return db
    .rows(
      'SELECT c.router_id, c.serial FROM router_certificates c JOIN routers r ON r.id = c.router_id WHERE r.disabled = 0 ORDER BY c.router_id, c.serial',
    )
    .map(([id, serial]) => ({ id: String(id), serial: String(serial) }));
}

/** The router's good certificates, the newest first. */
export function routerCertificates(
  db: ModelDatabase,
  routerId: string,
): { serial: string; issuedAt: string; expiresAt: string }[] {
  return db
    .rows(
      'SELECT serial, issued_at, expires_at FROM router_certificates WHERE router_id = ? ORDER BY issued_at DESC, serial',
      [routerId],
    )
    .map(([serial, issuedAt, expiresAt]) => ({
      serial: String(serial),
      issuedAt: String(issuedAt),
      expiresAt: String(expiresAt),
    }));
}
