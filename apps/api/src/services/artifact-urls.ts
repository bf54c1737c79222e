import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ArtifactUrlSigner } from '@genqueue/core';
import { servingOf, type ObjectStorage } from '@genqueue/storage';

const URL_TTL_SEC = 24 * 3600;

/** What a presigned link needs to know of an artifact. */
export type LinkableArtifact = { id: string; storageKey: string; contentType: string };

/**
 * Signed, key-less artifact links (`expires` + `sig`), valid 24 h. With a storage that presigns
 * (S3 and `STORAGE_PUBLIC_LINKS=presigned`), `signerFor` hands out presigned GETs straight to the
 * bucket instead, valid as long and answered with the same type and disposition as the API's route.
 */
export class ArtifactUrls {
  constructor(
    private readonly publicBaseUrl: string,
    private readonly secret: string,
    private readonly presignFrom: Pick<ObjectStorage, 'presignedUrl'> | null = null,
  ) {}

  private signature(artifactId: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${artifactId}.${expires}`).digest('base64url');
  }

  sign = (artifactId: string, nowMs = Date.now()): string => {
    const expires = Math.floor(nowMs / 1000) + URL_TTL_SEC;
    return `${this.publicBaseUrl}/v1/artifacts/${artifactId}/content?expires=${expires}&sig=${this.signature(artifactId, expires)}`;
  };

  /** A signer for these artifacts: presigned store links when configured, else the API's (also for ids not listed). */
  async signerFor(artifacts: readonly LinkableArtifact[]): Promise<ArtifactUrlSigner> {
    const presign = this.presignFrom?.presignedUrl?.bind(this.presignFrom);
    if (!presign || artifacts.length === 0) return this.sign;
    const links = new Map(
      await Promise.all(
        artifacts.map(async (a) => {
          const serving = servingOf(a);
          return [a.id, await presign(a.storageKey, URL_TTL_SEC, { contentType: serving.contentType, disposition: serving.disposition })] as const;
        }),
      ),
    );
    return (artifactId) => links.get(artifactId) ?? this.sign(artifactId);
  }

  verify(artifactId: string, expires: string, sig: string, nowMs = Date.now()): boolean {
    const expiresSec = Number(expires);
    if (!Number.isInteger(expiresSec) || expiresSec < nowMs / 1000) return false;
    const expected = Buffer.from(this.signature(artifactId, expiresSec));
    const given = Buffer.from(sig);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
