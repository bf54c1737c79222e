import { sha256Bytes } from '../hash';

const SAMPLING_INDEX: Record<number, number> = { 96000: 0, 88200: 1, 64000: 2, 48000: 3, 44100: 4, 32000: 5, 24000: 6, 22050: 7, 16000: 8, 8000: 11 };
/** Samples per AAC frame. */
const FRAME_SAMPLES = 1024;

/**
 * A silent AAC-LC mono raw data block: SCE (tag 0, global_gain from the seed), long window,
 * max_sfb 0, no pulse/TNS/gain control, then ID_END. 32 bits.
 */
function silentBlock(globalGain: number): Buffer {
  const bits = (0b000 << 29) | (0b0000 << 25) | ((globalGain & 0xff) << 17) | 0b111;
  const out = Buffer.alloc(4);
  out.writeUInt32BE(bits >>> 0);
  return out;
}

function adtsHeader(frameLength: number, samplingIndex: number): Buffer {
  const h = Buffer.alloc(7);
  h[0] = 0xff;
  h[1] = 0xf1; // MPEG-4, layer 0, no CRC
  h[2] = (0b01 << 6) | (samplingIndex << 2) | 0; // AAC LC, channel config high bit 0
  h[3] = (0b01 << 6) | ((frameLength >>> 11) & 0x03); // channel config 1 (mono)
  h[4] = (frameLength >>> 3) & 0xff;
  h[5] = ((frameLength & 0x07) << 5) | 0x1f; // buffer fullness 0x7FF (VBR)
  h[6] = 0xfc; // buffer fullness low bits, one raw data block
  return h;
}

/** AAC in ADTS: one 11-byte frame (silence) per 1024 samples. */
export function encodeAdts(seed: string, durationMs: number, sampleRate: number): Buffer {
  const samplingIndex = SAMPLING_INDEX[sampleRate];
  if (samplingIndex === undefined) throw new RangeError(`unsupported AAC sample rate ${sampleRate}`);
  const frameCount = Math.max(1, Math.ceil((durationMs * sampleRate) / 1000 / FRAME_SAMPLES));
  const block = silentBlock(sha256Bytes(`${seed}#aac`)[0] as number);
  const frames: Buffer[] = [];
  for (let i = 0; i < frameCount; i += 1) frames.push(adtsHeader(7 + block.length, samplingIndex), block);
  return Buffer.concat(frames);
}
