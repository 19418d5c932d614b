/**
 * The desktop app's log: pino into a size-rotated file in the app-data folder
 * (rotating-file-stream: meshdesk.log, then meshdesk.log.1 … .N, oldest dropped).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

export const LOG_FILE = 'meshdesk.log';

export interface DesktopLog {
  readonly logger: Logger;
  /** The current log file. */
  readonly file: string;
  close(): Promise<void>;
}

/** Rotated name of the file: index 0 is the live file, i the i-th newest rotation. */
export function rotatedLogName(index: number | undefined): string {
  return index ? `${LOG_FILE}.${index}` : LOG_FILE;
}

export function createDesktopLog(
  dir: string,
  options: { level?: string; maxSize?: `${number}${'B' | 'K' | 'M'}`; keep?: number } = {},
): DesktopLog {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // In classical rotation (`rotate`), rotating-file-stream passes the rotation's number as the
  // first argument (null for the live file).
  const stream: RotatingFileStream = createStream((n) => rotatedLogName(typeof n === 'number' ? n : 0), {
    path: dir,
    size: options.maxSize ?? '10M',
    rotate: options.keep ?? 5,
    mode: 0o600,
  });
  const logger = pino({ level: options.level ?? 'info', base: { app: 'meshdesk-desktop' } }, stream);
  return {
    logger,
    file: join(dir, LOG_FILE),
    close: () =>
      new Promise<void>((resolve) => {
        stream.end(() => resolve());
      }),
  };
}
