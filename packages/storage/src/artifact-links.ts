import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a signed artifact link (and a presigned bucket link) stays valid. */
export const ARTIFACT_LINK_TTL_SEC = 24 * 3600;

/**
 * Key-less links to an artifact's bytes, made by the API (job answers) and the worker (webhook
 * payloads) and checked by the API's content route: one signer, so a link made by either verifies.
 */
export type ArtifactLinkSigner = {
  /** `<base>/v1/artifacts/<id>/content?expires=<unix s>&sig=<HMAC>`, valid ttlSec from nowMs */
  sign(artifactId: string, nowMs?: number): string;
  /** Whether `sig` is this signer's for the artifact and `expires` has not passed (constant-time compare). */
  verify(artifactId: string, expires: string, sig: string, nowMs?: number): boolean;
};

/**
 * WARNING: the link format and the signed text (`<artifactId>.<expires>`, HMAC-SHA256, base64url)
 * are a contract: links already handed out (webhook payloads, stored answers) must keep verifying.
 */
export function artifactLinkSigner(publicBaseUrl: string, secret: string, ttlSec = ARTIFACT_LINK_TTL_SEC): ArtifactLinkSigner {
  const signature = (artifactId: string, expires: number): string =>
    createHmac('sha256', secret).update(`${artifactId}.${expires}`).digest('base64url');
  return {
    sign: (artifactId, nowMs = Date.now()) => {
      const expires = Math.floor(nowMs / 1000) + ttlSec;
      return `${publicBaseUrl}/v1/artifacts/${artifactId}/content?expires=${expires}&sig=${signature(artifactId, expires)}`;
    },
    verify: (artifactId, expires, sig, nowMs = Date.now()) => {
      const expiresSec = Number(expires);
      if (!Number.isInteger(expiresSec) || expiresSec < nowMs / 1000) return false;
      const expected = Buffer.from(signature(artifactId, expiresSec));
      const given = Buffer.from(sig);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
