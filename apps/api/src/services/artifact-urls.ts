import { createHmac, timingSafeEqual } from 'node:crypto';

const URL_TTL_SEC = 24 * 3600;

/** Signed, key-less artifact links (`expires` + `sig`), valid 24 h. */
export class ArtifactUrls {
  constructor(
    private readonly publicBaseUrl: string,
    private readonly secret: string,
  ) {}

  private signature(artifactId: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${artifactId}.${expires}`).digest('base64url');
  }

  sign = (artifactId: string, nowMs = Date.now()): string => {
    const expires = Math.floor(nowMs / 1000) + URL_TTL_SEC;
    return `${this.publicBaseUrl}/v1/artifacts/${artifactId}/content?expires=${expires}&sig=${this.signature(artifactId, expires)}`;
  };

  verify(artifactId: string, expires: string, sig: string, nowMs = Date.now()): boolean {
    const expiresSec = Number(expires);
    if (!Number.isInteger(expiresSec) || expiresSec < nowMs / 1000) return false;
    const expected = Buffer.from(this.signature(artifactId, expiresSec));
    const given = Buffer.from(sig);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
