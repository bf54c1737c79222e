import { sha256Bytes } from '../hash';

function box(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

const ftypBox = (): Buffer => box('ftyp', Buffer.concat([Buffer.from('isom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2mp41', 'latin1')]));

/**
 * Deterministic bytes served as `video/mp4`: a real `ftyp` box followed by an `mdat` box of
 * seed-derived filler. Not playable; enough for download, size and sha256 checks.
 */
export function renderMp4(seedText: string, payloadBytes = 4096): Buffer {
  const ftyp = ftypBox();
  const blocks: Buffer[] = [];
  for (let i = 0, total = 0; total < payloadBytes; i += 1) {
    const block = sha256Bytes(`${seedText}#${i}`);
    blocks.push(block);
    total += block.length;
  }
  return Buffer.concat([ftyp, box('mdat', Buffer.concat(blocks).subarray(0, payloadBytes))]);
}

const LARGE_BLOCK_BYTES = 64 * 1024;

/**
 * A large deterministic mp4 (`sim:mib=N`) in pieces, never held whole: the same `ftyp` box, then an
 * `mdat` box of `payloadBytes` whose 64 KiB block i repeats sha256(`seed#big#i`).
 */
export function* largeMp4Pieces(seedText: string, payloadBytes: number): Generator<Buffer> {
  const ftyp = ftypBox();
  const mdatHeader = Buffer.alloc(8);
  mdatHeader.writeUInt32BE(8 + payloadBytes, 0);
  mdatHeader.write('mdat', 4, 'latin1');
  yield Buffer.concat([ftyp, mdatHeader]);
  for (let i = 0, sent = 0; sent < payloadBytes; i += 1) {
    const size = Math.min(LARGE_BLOCK_BYTES, payloadBytes - sent);
    yield Buffer.alloc(size).fill(sha256Bytes(`${seedText}#big#${i}`));
    sent += size;
  }
}

/** Size of `largeMp4Pieces(seed, payloadBytes)`: the ftyp box, the mdat header (8) and the payload. */
export const largeMp4Bytes = (payloadBytes: number): number => ftypBox().length + 8 + payloadBytes;
