/**
 * When and how often a certificate renews itself: once two thirds of its life have passed (or
 * at once, when its issuer is no longer the cluster's: the intermediate was rotated),
 * checked at start and then every `checkEveryMs`, one renewal at a time; a failure is logged by
 * the renewer and tried again at the next check. The clock is injected so tests drive it.
 * Controllers (core/cluster/renewal.ts) and routers (core/router/renewal.ts) each say how.
 */
import { X509Certificate } from 'node:crypto';

/** When a certificate (the first of a chain) is due for renewal: two thirds into its life. */
export function renewalTime(certPem: string): Date {
  const cert = new X509Certificate(certPem);
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return new Date(from + ((to - from) * 2) / 3);
}

export interface RenewalTiming {
  readonly now?: () => Date;
  /** How often to look (default hourly). */
  readonly checkEveryMs?: number;
}

/** A certificate holder that renews on this schedule says what it holds and how it renews. */
export abstract class ScheduledRenewal {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  constructor(private readonly timing: RenewalTiming) {}

  /** The certificate in use now (PEM, leaf first). */
  protected abstract certificate(): string;

  /** Renews; resolves with whether it did (false: it failed, and said so). */
  protected abstract renew(now: Date): Promise<boolean>;

  /** Whether the certificate must be replaced now, whatever its age (its CA was rotated). */
  protected outdated(): boolean {
    return false;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.timing.checkEveryMs ?? 60 * 60 * 1000);
    this.timer.unref();
    void this.check();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Renews if due; resolves with whether it did. */
  check(): Promise<boolean> {
    this.running ??= this.renewIfDue().finally(() => (this.running = undefined));
    return this.running;
  }

  private async renewIfDue(): Promise<boolean> {
    const now = this.timing.now?.() ?? new Date();
    if (now < renewalTime(this.certificate()) && !this.outdated()) return false;
    return this.renew(now);
  }
}
