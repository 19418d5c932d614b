/** The generated icons: valid PNGs of their size, and the committed files are the script's output. */
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { drawMark, iconFiles, TRAY_COLOURS } from '../../../scripts/icons.js';

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('icons', () => {
  it('are PNGs of the sizes their names say', () => {
    const files = iconFiles();
    expect(pngSize(files.get('icon.png') as Buffer)).toEqual({ width: 1024, height: 1024 });
    expect(pngSize(files.get('icons/256x256.png') as Buffer)).toEqual({ width: 256, height: 256 });
    for (const state of Object.keys(TRAY_COLOURS)) {
      expect(pngSize(files.get(`tray/${state}.png`) as Buffer).width).toBe(16);
      expect(pngSize(files.get(`tray/${state}@2x.png`) as Buffer).width).toBe(32);
    }
  });

  it('draw the mark: transparent corners, the state colour at the edge, white nodes', () => {
    const png = drawMark(32, [22, 163, 74]);
    const idat = png.indexOf('IDAT') + 4;
    const length = png.readUInt32BE(idat - 8);
    const raw = inflateSync(png.subarray(idat, idat + length));
    const pixel = (x: number, y: number) => [...raw.subarray(y * 129 + 1 + x * 4, y * 129 + 5 + x * 4)];
    expect(pixel(0, 0)[3]).toBe(0);
    expect(pixel(16, 2)).toEqual([22, 163, 74, 255]);
    expect(pixel(16, 8)).toEqual([255, 255, 255, 255]);
  });

  it('are committed as the script draws them (npm run icons)', async () => {
    for (const [path, bytes] of iconFiles()) {
      expect(
        Buffer.compare(await readFile(new URL(`../../../build/${path}`, import.meta.url)), bytes),
        path,
      ).toBe(0);
    }
  });
});
