import type { StoredBlob } from '../blob-store';
import type { SimulatorState } from '../state';
import { renderPng } from './png';

/** Registers a PNG blob; `isSigned` blobs are only served with a valid, unexpired signature. */
export const createImageBlob = (state: SimulatorState, seed: string, isSigned: boolean): StoredBlob =>
  state.blobs.put({ id: state.ids.id('img_', 20), kind: 'png', seed, isSigned, createdAtMs: state.clock.now() });

export const createVideoBlob = (state: SimulatorState, seed: string): StoredBlob =>
  state.blobs.put({ id: state.ids.id('vid_', 20), kind: 'mp4', seed, isSigned: false, createdAtMs: state.clock.now() });

export const pngBase64 = (state: SimulatorState, seed: string): string => renderPng(seed, state.options.imagePx).toString('base64');
