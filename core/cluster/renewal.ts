/**
 * Certificate renewal: a controller renews its own certificate once two thirds of its life have
 * passed, with no restart. It makes a new key (which never leaves its data directory), signs the
 * CSR itself with the model's intermediate (every member holds it), saves the new credentials
 * durably and hands them to the transport; connections made from then on use them, open ones
 * keep theirs until they reconnect. The clock is injected so tests drive it.
 */
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { ModelDatabase } from '../model/database.js';
import { createKeyAndCsr } from '../pki/ca.js';
import type { PeerTls } from '../transport/types.js';
import { issueControllerCertificate, type ControllerName } from './cluster-ca.js';
import { saveCredentials } from './credentials.js';

/** When a certificate (the first of a chain) is due for renewal: two thirds into its life. */
export function renewalTime(certPem: string): Date {
  const cert = new X509Certificate(certPem);
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return new Date(from + ((to - from) * 2) / 3);
}

export interface RenewalOptions {
  readonly dataDir: string;
  readonly name: ControllerName;
  readonly db: () => ModelDatabase;
  readonly current: () => PeerTls;
  /** Puts renewed credentials to use (after they are saved). */
  readonly install: (tls: PeerTls) => void;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** How often to look (default hourly). */
  readonly checkEveryMs?: number;
}

export class CertificateRenewal {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  constructor(private readonly o: RenewalOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.o.checkEveryMs ?? 60 * 60 * 1000);
    this.timer.unref();
    void this.check();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Renews if due; resolves with whether it did. Failures are logged and tried again next time. */
  check(): Promise<boolean> {
    this.running ??= this.renewIfDue().finally(() => (this.running = undefined));
    return this.running;
  }

  private async renewIfDue(): Promise<boolean> {
    const now = this.o.now?.() ?? new Date();
    const due = renewalTime(this.o.current().cert);
    if (now < due) return false;
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
