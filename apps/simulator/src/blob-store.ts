import { renderMp4 } from './media/mp4';
import { renderPng } from './media/png';

export type BlobKind = 'png' | 'mp4';

export type StoredBlob = {
  id: string;
  kind: BlobKind;
  seed: string;
  /** Signed blobs need a valid `se`/`sig` query (dall-e style links); others are public links. */
  isSigned: boolean;
  createdAtMs: number;
};

const CONTENT_TYPES: Record<BlobKind, string> = { png: 'image/png', mp4: 'video/mp4' };

/** Media the simulator serves under `/_sim/blobs`. Bytes are rendered on demand from the seed. */
export class BlobStore {
  private blobs = new Map<string, StoredBlob>();

  constructor(private readonly imagePx: () => number) {}

  put(blob: StoredBlob): StoredBlob {
    this.blobs.set(blob.id, blob);
    return blob;
  }

  get(id: string): StoredBlob | undefined {
    return this.blobs.get(id);
  }

  render(blob: StoredBlob): { bytes: Buffer; contentType: string } {
    const bytes = blob.kind === 'png' ? renderPng(blob.seed, this.imagePx()) : renderMp4(blob.seed);
    return { bytes, contentType: CONTENT_TYPES[blob.kind] };
  }

  get size(): number {
    return this.blobs.size;
  }

  reset(): void {
    this.blobs.clear();
  }
}
