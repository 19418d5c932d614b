/**
 * Every node process and data directory the runner made, so that none outlives it: the cluster
 * SIGKILLs its own processes and removes its directory at close, and an exit of the runner
 * (thrown error, a second Ctrl-C, a failed vitest) kills what is left and removes it. SIGKILL
 * also ends a process held in SIGSTOP.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAllNow);
}

export function track(child: ChildProcess): void {
  install();
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** A temp directory to remove if the runner exits before the cluster's close() did. */
export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

/** Synchronous, so it can run in an 'exit' handler. */
export function killAllNow(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    } catch {
      // best effort: it is a temp directory
    }
  }
  dirs.clear();
}

export function runningCount(): number {
  return running.size;
}
