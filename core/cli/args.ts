/**
 * Argument parsing shared by the subcommands: node's parseArgs (strict), and the checks every
 * command needs. A bad argument is a UsageError: the CLI prints its one line and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` against `options` (plus --help); unknown flags and stray words are UsageErrors. */
export function parse<O extends Options>(
  argv: readonly string[],
  options: O,
  positionals = 0,
): { values: Record<string, string | boolean | undefined>; positionals: string[]; help: boolean } {
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: positionals > 0,
    });
    if (parsed.positionals.length > positionals) {
      throw new UsageError(`unexpected argument '${parsed.positionals[positionals] ?? ''}'`);
    }
    const values = parsed.values as Record<string, string | boolean | undefined>;
    return { values, positionals: parsed.positionals, help: values.help === true };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // parseArgs says e.g. "Unknown option '--x'. To specify a positional argument starting with…"
    throw new UsageError((err as Error).message.split('. ')[0] ?? String(err));
  }
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT` (IPv6 in brackets); the flag's name is in the message when it is wrong. */
export function hostPort(flag: string, value: string): HostPort {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UsageError(`--${flag} must be HOST:PORT, not '${value}'`);
  return { host: match[1] ?? match[2] ?? '', port };
}

export function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, not '${value}'`);
  }
  return n;
}

export function httpUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${flag} must be a URL such as http://127.0.0.1:8440, not '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--${flag} must be an http(s) URL, not '${value}'`);
  }
  return url.origin;
}

export function text(values: Record<string, string | boolean | undefined>, flag: string): string | undefined {
  const value = values[flag];
  return typeof value === 'string' ? value : undefined;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The log level of a node or router: MESHDESK_LOG_LEVEL, else `info` (who leads, peers that come
 * and go, members added: what an admin watching a headless node wants; no line per request).
 */
export function logLevel(env: NodeJS.ProcessEnv): (typeof LOG_LEVELS)[number] {
  const level = env.MESHDESK_LOG_LEVEL;
  if (level === undefined || level === '') return 'info';
  const known = LOG_LEVELS.find((l) => l === level);
  if (!known)
    throw new UsageError(`MESHDESK_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; not '${level}'`);
  return known;
}
