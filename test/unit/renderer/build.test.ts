/**
 * The UI's production build (a few seconds), into a temporary directory: it must work from any
 * base (relative asset URLs), load nothing from outside the bundle (air-gapped sites), and need
 * no inline script or style (the node serves it under a strict Content-Security-Policy).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const configFile = fileURLToPath(new URL('../../../renderer/vite.config.ts', import.meta.url));
let outDir: string;
let html: string;
let assets: string[];

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'meshdesk-ui-build-'));
  await build({ configFile, logLevel: 'silent', build: { outDir, emptyOutDir: true, sourcemap: false } });
  html = await readFile(join(outDir, 'index.html'), 'utf8');
  assets = await readdir(join(outDir, 'assets'));
});

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('the renderer build', () => {
  it('references its script and styles relatively, with no inline code', () => {
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) expect(ref, ref).toMatch(/^\.\/assets\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
  });

  it('bundles the font and loads nothing from another origin', async () => {
    expect(assets.some((name) => name.endsWith('.woff2'))).toBe(true);
    for (const name of assets.filter((n) => n.endsWith('.css'))) {
      const css = await readFile(join(outDir, 'assets', name), 'utf8');
      expect(css).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//);
      expect(css).not.toMatch(/@import/);
    }
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });
});
