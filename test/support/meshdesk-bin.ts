/** The `meshdesk` binary run as a user runs it, in a child process, its exit code and output kept. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ADMIN_PASSWORD } from './controller-processes.js';

/** The binary users run (bin/meshdesk.js), for tests that spawn it themselves. */
export const BIN = new URL('../../bin/meshdesk.js', import.meta.url).pathname;
const run = promisify(execFile);

export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `meshdesk ARGS` with the test admin's password in the environment (plus `env`). */
export async function meshdesk(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, MESHDESK_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
