/**
 * The app's icons, drawn here rather than downloaded: a rounded square with three linked nodes
 * (a small mesh), anti-aliased from signed distances, written as PNG with node:zlib. The tray
 * icons are the same mark in the colour of the node's state. Deterministic: the same bytes on
 * every run, so a test can compare the committed files with a fresh drawing.
 */
import { deflateSync } from 'node:zlib';

export type Rgb = readonly [number, number, number];

/** Tray colours per node state (see electron/tray-state.ts). */
export const TRAY_COLOURS: Readonly<Record<'leader' | 'follower' | 'no-leader' | 'stopped', Rgb>> = {
  leader: [22, 163, 74],
  follower: [37, 99, 235],
  'no-leader': [217, 119, 6],
  stopped: [107, 114, 128],
};

/** The app icon's background. */
export const APP_COLOUR: Rgb = [15, 76, 129];

/** The icon files: path under build/ → PNG bytes. */
export function iconFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  files.set('icon.png', drawMark(1024, APP_COLOUR));
  for (const size of [16, 32, 48, 64, 128, 256, 512]) {
    files.set(`icons/${size}x${size}.png`, drawMark(size, APP_COLOUR));
  }
  for (const [state, colour] of Object.entries(TRAY_COLOURS)) {
    files.set(`tray/${state}.png`, drawMark(16, colour));
    files.set(`tray/${state}@2x.png`, drawMark(32, colour));
  }
  return files;
}

/** The mark at `size` pixels square: rounded square in `colour`, three white linked nodes. */
export function drawMark(size: number, colour: Rgb): Buffer {
  const rgba = new Uint8Array(size * size * 4);
  const s = size / 64; // the drawing is designed on a 64-unit grid
  const nodes: [number, number][] = [
    [32, 17],
    [17, 45],
    [47, 45],
  ];
  const radius = 7 * s;
  const stroke = Math.max(1, 3 * s) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const back = roundedSquare(px, py, size, 12 * s);
      let mark = Infinity;
      for (const [i, [nx, ny]] of nodes.entries()) {
        mark = Math.min(mark, Math.hypot(px - nx * s, py - ny * s) - radius);
        const [mx, my] = nodes[(i + 1) % nodes.length] ?? [nx, ny];
        mark = Math.min(mark, segment(px, py, nx * s, ny * s, mx * s, my * s) - stroke);
      }
      const backAlpha = coverage(back);
      const markAlpha = coverage(mark) * backAlpha;
      const o = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) {
        rgba[o + c] = Math.round((colour[c] ?? 0) * (1 - markAlpha) + 255 * markAlpha);
      }
      rgba[o + 3] = Math.round(255 * backAlpha);
    }
  }
  return encodePng(size, size, rgba);
}

function coverage(distance: number): number {
  return Math.min(1, Math.max(0, 0.5 - distance));
}

function roundedSquare(px: number, py: number, size: number, r: number): number {
  const half = size / 2;
  const qx = Math.abs(px - half) - (half - r);
  const qy = Math.abs(py - half) - (half - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

function segment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** A PNG of 8-bit RGBA pixels (no filtering; zlib does the work). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0;
    rows.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
