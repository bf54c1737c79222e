import { deflateSync } from 'node:zlib';
import { sha256Bytes, sha256Hex } from '../hash';
import { crc32 } from './crc32';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** Encodes 8-bit RGB pixels (row-major, 3 bytes each) as a PNG. */
export function encodeRgbPng(width: number, height: number, rgb: Buffer): Buffer {
  if (rgb.length !== width * height * 3) throw new Error('rgb buffer does not match width × height × 3');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  // compression, filter and interlace methods stay 0
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y += 1) {
    raw[y * (stride + 1)] = 0; // filter type None
    rgb.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A deterministic square PNG for `seedText`: a diagonal gradient between two colours taken from
 * sha256(seedText), with a stripe pattern, plus a tEXt chunk naming the seed's hash. Same seed,
 * same bytes; tests compute expected sha256 values with it.
 */
export function renderPng(seedText: string, size = 64): Buffer {
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new Error(`invalid PNG size ${size}`);
  const h = sha256Bytes(seedText);
  const byte = (i: number): number => h[i] as number;
  const from = [byte(0), byte(1), byte(2)];
  const to = [byte(3), byte(4), byte(5)];
  const stripe = 4 + (byte(6) % 12);
  const rgb = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const t = size === 1 ? 0 : (x + y) / (2 * (size - 1));
      const isStripe = Math.floor((x + (byte(7) % 2 === 0 ? y : size - y)) / stripe) % 2 === 0;
      for (let c = 0; c < 3; c += 1) {
        const value = Math.round((from[c] as number) * (1 - t) + (to[c] as number) * t);
        rgb[(y * size + x) * 3 + c] = isStripe ? value : 255 - value;
      }
    }
  }
  const png = encodeRgbPng(size, size, rgb);
  const text = chunk('tEXt', Buffer.from(`genqueue-seed\0${sha256Hex(seedText)}`, 'latin1'));
  // tEXt goes before IEND (the last 12 bytes).
  return Buffer.concat([png.subarray(0, png.length - 12), text, png.subarray(png.length - 12)]);
}
