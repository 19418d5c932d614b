/** A pino logger that keeps what it logs, for tests that check what a component said. */
import pino, { type Logger } from 'pino';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export function collectingLogger(lines: LogLine[], level: pino.Level = 'info'): Logger {
  return pino(
    { level, base: undefined, timestamp: false, formatters: { level: (label) => ({ level: label }) } },
    {
      write(line: string) {
        const { level: label, msg, ...details } = JSON.parse(line) as Record<string, unknown>;
        lines.push({ level: String(label), message: String(msg), details });
      },
    },
  );
}
