import { sha256Bytes } from '../hash';

/**
 * MPEG-2 Layer III at 24 kHz, 64 kbit/s, mono: every frame is 192 bytes and 576 samples (24 ms).
 * Header FF F3 84 C4; the 9-byte side info is zero (part2_3_length 0, so decoders play silence)
 * and the rest of each frame is seed-derived ancillary data.
 */
export const MP3_FRAME_HEADER = Buffer.from([0xff, 0xf3, 0x84, 0xc4]);
export const MP3_FRAME_BYTES = 192;
export const MP3_FRAME_MS = 24;
const SIDE_INFO_BYTES = 9;

/** ID3v2.3 tag with one TSSE frame, as ffmpeg-made files (and OpenAI's mp3 answers) start. */
function id3Tag(encoder: string): Buffer {
  const text = Buffer.concat([Buffer.from([0]), Buffer.from(encoder, 'latin1')]);
  const frameHeader = Buffer.alloc(10);
  frameHeader.write('TSSE', 0, 'latin1');
  frameHeader.writeUInt32BE(text.length, 4);
  const frames = Buffer.concat([frameHeader, text]);
  const header = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0]);
  const size = frames.length; // syncsafe: 7 bits per byte
  header[6] = (size >>> 21) & 0x7f;
  header[7] = (size >>> 14) & 0x7f;
  header[8] = (size >>> 7) & 0x7f;
  header[9] = size & 0x7f;
  return Buffer.concat([header, frames]);
}

export function encodeMp3(seed: string, durationMs: number): Buffer {
  const frameCount = Math.max(1, Math.ceil(durationMs / MP3_FRAME_MS));
  const frames: Buffer[] = [id3Tag('Lavf61.7.100')];
  for (let i = 0; i < frameCount; i += 1) {
    const frame = Buffer.alloc(MP3_FRAME_BYTES);
    MP3_FRAME_HEADER.copy(frame, 0);
    const filler = Buffer.concat(Array.from({ length: 6 }, (_, k) => sha256Bytes(`${seed}#mp3#${i}#${k}`)));
    filler.copy(frame, 4 + SIDE_INFO_BYTES, 0, MP3_FRAME_BYTES - 4 - SIDE_INFO_BYTES);
    frames.push(frame);
  }
  return Buffer.concat(frames);
}
