/** Writes the icons of scripts/icons.ts under build/ (`npm run icons`). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { iconFiles } from './icons.js';

const buildDir = fileURLToPath(new URL('../build/', import.meta.url));
for (const [path, bytes] of iconFiles()) {
  await mkdir(dirname(join(buildDir, path)), { recursive: true });
  await writeFile(join(buildDir, path), bytes);
}
process.stdout.write(`icons written under ${buildDir}\n`);
