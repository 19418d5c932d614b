/**
 * Certificate renewal: a controller renews its own certificate once two thirds of its life have
 * passed, with no restart. It makes a new key (which never leaves its data directory), signs the
 * CSR itself with the model's intermediate (every member holds it), saves the new credentials
 * durably and hands them to the transport; connections made from then on use them, open ones
 * keep theirs until they reconnect. When: pki/renewal-schedule.ts (the clock is injected).
 */
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { ModelDatabase } from '../model/database.js';
import { readClusterCa } from '../model/pki.js';
import { createKeyAndCsr, fingerprint, issuerOf } from '../pki/ca.js';
import { ScheduledRenewal, type RenewalTiming } from '../pki/renewal-schedule.js';
import type { PeerTls } from '../transport/types.js';
import { issueControllerCertificate, type ControllerName } from './cluster-ca.js';
import { saveCredentials } from './credentials.js';

export interface RenewalOptions extends RenewalTiming {
  readonly dataDir: string;
  readonly name: ControllerName;
  readonly db: () => ModelDatabase;
  readonly current: () => PeerTls;
  /** Puts renewed credentials to use (after they are saved). */
  readonly install: (tls: PeerTls) => void;
  readonly logger: Logger;
}

export class CertificateRenewal extends ScheduledRenewal {
  constructor(private readonly o: RenewalOptions) {
    super(o);
  }

  protected certificate(): string {
    return this.o.current().cert;
  }

  /** The model's intermediate was rotated (cluster/ca-rotation.ts): re-issue from the new one. */
  protected override outdated(): boolean {
    const ca = readClusterCa(this.o.db());
    return ca !== undefined && issuerOf(this.o.current().cert) !== fingerprint(ca.intermediateCertPem);
  }

  protected async renew(now: Date): Promise<boolean> {
    try {
      const { keyPem, csrPem } = await createKeyAndCsr(this.o.name.nodeId);
      const issued = await issueControllerCertificate(this.o.db(), this.o.name, csrPem, now);
      const renewed = { key: keyPem, cert: issued.certificate, ca: issued.ca };
      await saveCredentials(this.o.dataDir, renewed);
      this.o.install(renewed);
      const validTo = new X509Certificate(issued.certificate).validTo;
      this.o.logger.info({ validTo }, 'renewed this node’s certificate');
      return true;
    } catch (err) {
      this.o.logger.error({ err: String(err) }, 'could not renew this node’s certificate; will retry');
      return false;
    }
  }
}
