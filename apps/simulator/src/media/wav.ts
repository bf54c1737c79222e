import { pcm16le } from './tone';

/** A canonical 44-byte-header RIFF/WAVE file: PCM (format 1), 16-bit, mono. */
export function encodeWav(samples: Int16Array, sampleRate: number): Buffer {
  const data = pcm16le(samples);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // channels
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export type WavInfo = { format: number; channels: number; sampleRate: number; byteRate: number; bitsPerSample: number; dataBytes: number; durationMs: number };

/** Reads the `fmt ` and `data` chunks of a RIFF/WAVE file; null when `bytes` is not one. */
export function readWavInfo(bytes: Buffer): WavInfo | null {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE') return null;
  let fmt: Omit<WavInfo, 'dataBytes' | 'durationMs'> | null = null;
  for (let offset = 12; offset + 8 <= bytes.length; ) {
    const id = bytes.toString('latin1', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 16 <= bytes.length) {
      fmt = {
        format: bytes.readUInt16LE(body),
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        byteRate: bytes.readUInt32LE(body + 8),
        bitsPerSample: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data' && fmt) {
      const dataBytes = Math.min(size, bytes.length - body);
      return { ...fmt, dataBytes, durationMs: fmt.byteRate > 0 ? (dataBytes * 1000) / fmt.byteRate : 0 };
    }
    offset = body + size + (size % 2);
  }
  return null;
}
