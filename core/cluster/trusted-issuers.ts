/**
 * Which intermediate CAs may sign a certificate that opens anything here: the current one and
 * the earlier ones of a rotation not yet finished (core/model/ca-trust.ts). Every handshake asks
 * (transport, router channel, and routers through the `peers` message), so the answer is kept
 * until the model's CA settings change rather than parsed each time.
 */
import { previousIntermediates } from '../model/ca-trust.js';
import type { ModelDatabase } from '../model/database.js';
import { PKI_SETTINGS } from '../model/pki.js';
import { readSetting } from '../model/settings.js';
import { fingerprint } from '../pki/ca.js';

export class TrustedIssuers {
  private cached: { key: string; issuers: readonly string[] } | undefined;

  constructor(private readonly db: () => ModelDatabase) {}

  /** The trusted fingerprints, the current intermediate's first; undefined before the model has a CA. */
  list(): readonly string[] | undefined {
    const db = this.db();
    const current = readSetting(db, PKI_SETTINGS.intermediateCert);
    if (current === undefined) return undefined;
    const key = `${current}\n${readSetting(db, PKI_SETTINGS.previousIntermediates) ?? ''}`;
    if (this.cached?.key !== key) {
      this.cached = { key, issuers: [fingerprint(current), ...previousIntermediates(db)] };
    }
    return this.cached.issuers;
  }

  /** Whether a certificate signed by `issuer` is good; before the model has a CA, TLS decides alone. */
  trusted(issuer: string | undefined): boolean {
    const list = this.list();
    return list === undefined || (issuer !== undefined && list.includes(issuer));
  }
}
