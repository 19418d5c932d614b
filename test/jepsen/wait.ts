/**
 * The runner's two kinds of waiting: polling a condition with a bound (a node ready, a leader, a
 * converged cluster), and the real, seeded durations of the nemesis and the clients' pacing,
 * which end early when the run is aborted.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` every `intervalMs` until it holds (true) or `timeoutMs` passes (false). */
export async function poll(
  timeoutMs: number,
  intervalMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // a failed probe is a "not yet"
    }
    if (performance.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** A deliberate duration (a fault held for 2 s, a client's pacing); resolves early on abort. */
export async function hold(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return;
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch {
    // aborted
  }
}
