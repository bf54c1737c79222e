import { createHash } from 'node:crypto';
import { pcm16le } from './tone';

const BLOCK_SIZE = 4096;

/** FLAC header CRC-8 (polynomial 0x07, initial 0). */
export function flacCrc8(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** FLAC frame CRC-16 (polynomial 0x8005, initial 0, MSB first). */
export function flacCrc16(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let k = 0; k < 8; k += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8005) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const SAMPLE_RATE_CODES: Record<number, number> = { 8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8, 44100: 9, 48000: 10, 96000: 11 };

/** UTF-8-style coding of the frame number (values below 2^11 are all this simulator needs). */
function codedNumber(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x800) return [0xc0 | (n >>> 6), 0x80 | (n & 0x3f)];
  return [0xe0 | (n >>> 12), 0x80 | ((n >>> 6) & 0x3f), 0x80 | (n & 0x3f)];
}

function frame(samples: Int16Array, index: number, sampleRate: number): Buffer {
  const isFull = samples.length === BLOCK_SIZE;
  const header = [0xff, 0xf8, ((isFull ? 0b1100 : 0b0111) << 4) | (SAMPLE_RATE_CODES[sampleRate] ?? 0), 0b0000_1000, ...codedNumber(index)];
  if (!isFull) header.push(((samples.length - 1) >>> 8) & 0xff, (samples.length - 1) & 0xff);
  header.push(flacCrc8(Uint8Array.from(header)));
  const body = Buffer.alloc(1 + samples.length * 2);
  body[0] = 0b0000_0010; // VERBATIM subframe, no wasted bits
  for (let i = 0; i < samples.length; i += 1) body.writeInt16BE(samples[i] as number, 1 + i * 2);
  const withoutCrc = Buffer.concat([Buffer.from(header), body]);
  const crc = Buffer.alloc(2);
  crc.writeUInt16BE(flacCrc16(withoutCrc));
  return Buffer.concat([withoutCrc, crc]);
}

/** A FLAC stream: `fLaC`, STREAMINFO (with the MD5 of the audio), VERBATIM 16-bit mono frames. */
export function encodeFlac(samples: Int16Array, sampleRate: number): Buffer {
  if (SAMPLE_RATE_CODES[sampleRate] === undefined) throw new RangeError(`unsupported FLAC sample rate ${sampleRate}`);
  const info = Buffer.alloc(34);
  info.writeUInt16BE(BLOCK_SIZE, 0);
  info.writeUInt16BE(BLOCK_SIZE, 2);
  // min/max frame size (24 bits each) stay 0 = unknown
  const packed = (BigInt(sampleRate) << 44n) | (0n << 41n) | (15n << 36n) | BigInt(samples.length);
  info.writeBigUInt64BE(packed, 10);
  createHash('md5').update(pcm16le(samples)).digest().copy(info, 18);
  const blockHeader = Buffer.from([0x80, 0, 0, 34]); // last metadata block, STREAMINFO, length 34
  const frames: Buffer[] = [];
  for (let start = 0, index = 0; start < samples.length; start += BLOCK_SIZE, index += 1) {
    frames.push(frame(samples.subarray(start, Math.min(samples.length, start + BLOCK_SIZE)), index, sampleRate));
  }
  return Buffer.concat([Buffer.from('fLaC', 'latin1'), blockHeader, info, ...frames]);
}
