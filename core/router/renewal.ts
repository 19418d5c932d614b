/**
 * A router renews its own certificate before it expires, with no downtime: at two thirds of its
 * life (pki/renewal-schedule.ts) it makes a new key, which never leaves it, and asks the most
 * responsive controller to sign the CSR over its session, whose certificate vouches for it. The
 * controller records the new certificate next to the old one (model/router-certificates.ts
 * `renewCertificate`), so connections made on the old one carry on; the router then uses the new
 * one for every connection it makes and serves (`install`), and keeps it (its identity file).
 */
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { createKeyAndCsr, issuerOf, spiffeId, spiffeIdsOf } from '../pki/ca.js';
import { ScheduledRenewal, type RenewalTiming } from '../pki/renewal-schedule.js';
import type { Renewed } from '../runtime/protocol.js';
import type { RouterCredentials } from './credentials.js';

export interface RouterRenewalOptions extends RenewalTiming {
  readonly current: () => RouterCredentials;
  /** The intermediate CA that signs now (the controllers say, trust-list.ts), once known. */
  readonly issuer: () => string | undefined;
  /** Asks a controller to sign the CSR. */
  readonly ask: (csr: string) => Promise<Renewed>;
  /** Puts the renewed credentials to use (and keeps them). */
  readonly install: (renewed: RouterCredentials) => Promise<void>;
  readonly log: Logger;
}

export class RouterRenewal extends ScheduledRenewal {
  constructor(private readonly o: RouterRenewalOptions) {
    super(o);
  }

  protected certificate(): string {
    return this.o.current().cert;
  }

  /** The cluster's intermediate was rotated: re-issue from the new one at once. */
  protected override outdated(): boolean {
    const issuer = this.o.issuer();
    return issuer !== undefined && issuerOf(this.o.current().cert) !== issuer;
  }

  protected async renew(): Promise<boolean> {
    const current = this.o.current();
    try {
      const { keyPem, csrPem } = await createKeyAndCsr(current.routerId);
      const renewed = await this.o.ask(csrPem);
      // The controller is trusted (TLS), but what it signed must still be this router, here.
      const expected = spiffeId(current.clusterId, 'router', current.routerId);
      if (!spiffeIdsOf(renewed.certificate).includes(expected))
        throw new Error(`the renewed certificate does not name ${expected}`);
      await this.o.install({ ...current, key: keyPem, cert: renewed.certificate, ca: renewed.ca });
      const validTo = new X509Certificate(renewed.certificate).validTo;
      this.o.log.info({ validTo }, 'renewed this router’s certificate');
      return true;
    } catch (err) {
      this.o.log.error({ err: String(err) }, 'could not renew this router’s certificate; will retry');
      return false;
    }
  }
}
