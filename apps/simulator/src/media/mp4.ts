import { sha256Bytes } from '../hash';

function box(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

/**
 * Deterministic bytes served as `video/mp4`: a real `ftyp` box followed by an `mdat` box of
 * seed-derived filler. Not playable; enough for download, size and sha256 checks.
 */
export function renderMp4(seedText: string, payloadBytes = 4096): Buffer {
  const ftyp = box('ftyp', Buffer.concat([Buffer.from('isom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2mp41', 'latin1')]));
  const blocks: Buffer[] = [];
  for (let i = 0, total = 0; total < payloadBytes; i += 1) {
    const block = sha256Bytes(`${seedText}#${i}`);
    blocks.push(block);
    total += block.length;
  }
  return Buffer.concat([ftyp, box('mdat', Buffer.concat(blocks).subarray(0, payloadBytes))]);
}
