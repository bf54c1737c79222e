import { sha256Bytes } from '../hash';

/** Ogg's CRC-32: polynomial 0x04C11DB7, MSB first, initial value 0, no final xor. */
const OGG_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let r = n << 24;
    for (let k = 0; k < 8; k += 1) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[n] = r >>> 0;
  }
  return table;
})();

export function oggCrc32(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) crc = ((crc << 8) ^ (OGG_TABLE[((crc >>> 24) ^ byte) & 0xff] as number)) >>> 0;
  return crc >>> 0;
}

const SERIAL = 0x67716f70; // "gqop"
const PRE_SKIP = 312;
/** 20 ms Opus packets at the 48 kHz granule rate. */
const PACKET_SAMPLES = 960;
const PACKET_MS = 20;
const PACKETS_PER_PAGE = 50;

function oggPage(packets: Buffer[], granule: bigint, sequence: number, headerType: number): Buffer {
  const lacing: number[] = [];
  for (const packet of packets) {
    let left = packet.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
  }
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header[4] = 0; // version
  header[5] = headerType; // 0x02 first page, 0x04 last page
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(SERIAL, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = lacing.length;
  const page = Buffer.concat([header, Buffer.from(lacing), ...packets]);
  page.writeUInt32LE(oggCrc32(page), 22); // CRC computed with the field at 0
  return page;
}

/**
 * Ogg/Opus (RFC 7845): an `OpusHead` page, an `OpusTags` page, then audio pages of 20 ms
 * CELT-only packets (TOC 0xF8) carrying seed-derived bytes; every page has a valid CRC.
 */
export function encodeOggOpus(seed: string, durationMs: number, inputSampleRate: number): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = 1; // channels
  head.writeUInt16LE(PRE_SKIP, 10);
  head.writeUInt32LE(inputSampleRate, 12);
  head.writeInt16LE(0, 16); // output gain
  head[18] = 0; // channel mapping family
  const vendor = Buffer.from('genqueue-simulator', 'utf8');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length);

  const pages = [oggPage([head], 0n, 0, 0x02), oggPage([tags], 0n, 1, 0)];
  const packetCount = Math.max(1, Math.ceil(durationMs / PACKET_MS));
  for (let first = 0, sequence = 2; first < packetCount; first += PACKETS_PER_PAGE, sequence += 1) {
    const count = Math.min(PACKETS_PER_PAGE, packetCount - first);
    const packets = Array.from({ length: count }, (_, i) => Buffer.concat([Buffer.from([0xf8]), sha256Bytes(`${seed}#opus#${first + i}`).subarray(0, 8)]));
    const isLast = first + count >= packetCount;
    pages.push(oggPage(packets, BigInt(PRE_SKIP + (first + count) * PACKET_SAMPLES), sequence, isLast ? 0x04 : 0));
  }
  return Buffer.concat(pages);
}
