import type { StoredBlob } from '../blob-store';
import type { SimulatorState } from '../state';
import { contentMibIn } from '../tasks/markers';
import { largeMp4Bytes, largeMp4Pieces, renderMp4 } from './mp4';
import { renderPng } from './png';

/** Registers a PNG blob; `isSigned` blobs are only served with a valid, unexpired signature. */
export const createImageBlob = (state: SimulatorState, seed: string, isSigned: boolean): StoredBlob =>
  state.blobs.put({ id: state.ids.id('img_', 20), kind: 'png', seed, isSigned, createdAtMs: state.clock.now() });

export const createVideoBlob = (state: SimulatorState, seed: string): StoredBlob =>
  state.blobs.put({ id: state.ids.id('vid_', 20), kind: 'mp4', seed, isSigned: false, createdAtMs: state.clock.now() });

export const pngBase64 = (state: SimulatorState, seed: string): string => renderPng(seed, state.options.imagePx).toString('base64');

/** The bytes `/content` serves for a video: the small default mp4, or a large one (`sim:mib=N`) in pieces. */
export function videoContent(seed: string, prompt: string): { bytes: number; pieces: () => Iterable<Buffer>; isLarge: boolean } {
  const mib = contentMibIn(prompt);
  if (mib === null) {
    const bytes = renderMp4(seed);
    return { bytes: bytes.length, pieces: () => [bytes], isLarge: false };
  }
  const payload = mib * 1024 * 1024 - largeMp4Bytes(0);
  return { bytes: largeMp4Bytes(payload), pieces: () => largeMp4Pieces(seed, payload), isLarge: true };
}
