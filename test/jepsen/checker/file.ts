/**
 * A history on disk: JSON with one operation per line, so a saved run can be read, diffed and
 * grepped by a person, and checked again with `--check FILE`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { HistoryFile } from '../history.js';

export function serializeHistory(file: HistoryFile): string {
  const { operations, ...rest } = file;
  const fields = Object.entries(rest).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const ops = operations.map((op) => `    ${JSON.stringify(op)}`).join(',\n');
  fields.push(`  "operations": [${ops ? `\n${ops}\n  ` : ''}]`);
  return `{\n${fields.join(',\n')}\n}\n`;
}

/** Parses and sanity-checks a history, naming the first thing missing. */
export function parseHistory(text: string): HistoryFile {
  const file = JSON.parse(text) as Partial<HistoryFile> | null;
  if (typeof file !== 'object' || file === null) throw new Error('history: not a JSON object');
  if (!Array.isArray(file.operations)) throw new Error('history: no operations array');
  if (typeof file.registers !== 'object' || file.registers === null) throw new Error('history: no registers');
  if (!Array.isArray(file.faults)) throw new Error('history: no faults array');
  file.operations.forEach((op, i) => {
    if (typeof op?.id !== 'number' || typeof op.invokedAt !== 'number' || typeof op.f !== 'string') {
      throw new Error(`history: operation ${i} lacks an id, f or invokedAt`);
    }
  });
  return file as HistoryFile;
}

export async function saveHistory(path: string, file: HistoryFile): Promise<void> {
  await writeFile(path, serializeHistory(file));
}

export async function loadHistory(path: string): Promise<HistoryFile> {
  return parseHistory(await readFile(path, 'utf8'));
}
