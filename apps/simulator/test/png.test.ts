import { createHash } from 'node:crypto';
import { crc32, editSeed, generationSeed, renderMp4, renderPng } from '../src';
import { readPng } from './helpers';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('renderPng', () => {
  it('gives identical bytes for the same seed and different bytes for another seed', () => {
    const seed = generationSeed('gpt-image-1', 'a red bicycle', 0);
    expect(seed).toBe('gpt-image-1|a red bicycle|0');
    expect(sha256(renderPng(seed))).toBe(sha256(renderPng(seed)));
    expect(sha256(renderPng(seed))).not.toBe(sha256(renderPng(generationSeed('gpt-image-1', 'a red bicycle', 1))));
  });

  it('writes a valid PNG: signature, IHDR, CRCs, IDAT that inflates to the scanlines', () => {
    const png = readPng(renderPng('seed', 64));
    expect(png.chunkTypes[0]).toBe('IHDR');
    expect(png.chunkTypes[png.chunkTypes.length - 1]).toBe('IEND');
    expect(png.chunkTypes).toContain('IDAT');
    expect(png).toMatchObject({ width: 64, height: 64, bitDepth: 8, colourType: 2 });
    expect(png.pixels.length).toBe(64 * (1 + 64 * 3));
    for (let row = 0; row < 64; row += 1) expect(png.pixels[row * (1 + 64 * 3)]).toBe(0);
  });

  it('honours the size and rejects silly ones', () => {
    expect(readPng(renderPng('x', 3))).toMatchObject({ width: 3, height: 3 });
    expect(() => renderPng('x', 0)).toThrow();
  });

  it('makes edit seeds depend on the input images', () => {
    expect(editSeed('m', 'p', 0, ['aa', 'bb'])).toBe('m|p|0|aa,bb');
  });
});

describe('helpers', () => {
  it('crc32 matches the IEEE check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('renderMp4 is deterministic and starts with an ftyp box', () => {
    const video = renderMp4('clip');
    expect(video.toString('latin1', 4, 8)).toBe('ftyp');
    expect(sha256(video)).toBe(sha256(renderMp4('clip')));
  });
});
