/**
 * Timers the transport owns (injected delays): every pending one is cancelled by `clear()`, so a
 * closed transport leaves nothing behind that would keep the process alive.
 */
import { TransportError } from './errors.js';

export class Delays {
  private readonly pending = new Map<NodeJS.Timeout, (err: Error) => void>();

  /** Resolves after `ms`; rejects with CLOSED if cleared first. */
  after(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve();
      }, ms);
      this.pending.set(timer, reject);
    });
  }

  clear(): void {
    for (const [timer, reject] of this.pending) {
      clearTimeout(timer);
      reject(new TransportError('CLOSED', 'the transport was closed'));
    }
    this.pending.clear();
  }
}
