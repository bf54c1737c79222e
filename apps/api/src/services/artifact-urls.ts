import type { ArtifactUrlSigner } from '@genqueue/core';
import { ARTIFACT_LINK_TTL_SEC, artifactLinkSigner, servingOf, type ArtifactLinkSigner, type ObjectStorage } from '@genqueue/storage';

/** What a presigned link needs to know of an artifact. */
export type LinkableArtifact = { id: string; storageKey: string; contentType: string };

/**
 * Signed, key-less artifact links (`expires` + `sig`), valid 24 h. With a storage that presigns
 * (S3 and `STORAGE_PUBLIC_LINKS=presigned`), `signerFor` hands out presigned GETs straight to the
 * bucket instead, valid as long and answered with the same type and disposition as the API's route.
 */
export class ArtifactUrls {
  private readonly links: ArtifactLinkSigner;

  constructor(
    publicBaseUrl: string,
    secret: string,
    private readonly presignFrom: Pick<ObjectStorage, 'presignedUrl'> | null = null,
  ) {
    this.links = artifactLinkSigner(publicBaseUrl, secret);
  }

  sign = (artifactId: string, nowMs = Date.now()): string => this.links.sign(artifactId, nowMs);

  /** A signer for these artifacts: presigned store links when configured, else the API's (also for ids not listed). */
  async signerFor(artifacts: readonly LinkableArtifact[]): Promise<ArtifactUrlSigner> {
    const presign = this.presignFrom?.presignedUrl?.bind(this.presignFrom);
    if (!presign || artifacts.length === 0) return this.sign;
    const links = new Map(
      await Promise.all(
        artifacts.map(async (a) => {
          const serving = servingOf(a);
          return [a.id, await presign(a.storageKey, ARTIFACT_LINK_TTL_SEC, { contentType: serving.contentType, disposition: serving.disposition })] as const;
        }),
      ),
    );
    return (artifactId) => links.get(artifactId) ?? this.sign(artifactId);
  }

  verify(artifactId: string, expires: string, sig: string, nowMs = Date.now()): boolean {
    return this.links.verify(artifactId, expires, sig, nowMs);
  }
}
