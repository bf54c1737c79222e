import { createHmac } from 'node:crypto';
import { ARTIFACT_LINK_TTL_SEC, artifactLinkSigner } from '../src';

const BASE = 'https://gq.example.org';
const ARTIFACT = 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const NOW_MS = Date.UTC(2026, 11, 5, 12, 0, 0);

/** The `expires` and `sig` of a link, as the API's content route reads them. */
function partsOf(link: string): { id: string; expires: string; sig: string } {
  const url = new URL(link);
  const match = /^\/v1\/artifacts\/([^/]+)\/content$/.exec(url.pathname);
  if (!match?.[1]) throw new Error(`not an artifact link: ${link}`);
  return { id: match[1], expires: url.searchParams.get('expires') ?? '', sig: url.searchParams.get('sig') ?? '' };
}

describe('artifactLinkSigner', () => {
  it('links to the content route, valid 24 h, signed as HMAC-SHA256 of "<id>.<expires>" (the persisted format)', () => {
    const secret = 'the-instance-secret';
    const link = artifactLinkSigner(BASE, secret).sign(ARTIFACT, NOW_MS);
    const { id, expires, sig } = partsOf(link);
    expect(link.startsWith(`${BASE}/v1/artifacts/${ARTIFACT}/content?`)).toBe(true);
    expect(id).toBe(ARTIFACT);
    expect(Number(expires)).toBe(NOW_MS / 1000 + ARTIFACT_LINK_TTL_SEC);
    expect(ARTIFACT_LINK_TTL_SEC).toBe(24 * 3600);
    expect(sig).toBe(createHmac('sha256', secret).update(`${ARTIFACT}.${expires}`).digest('base64url'));
  });

  it('verifies a link made by another signer of the same secret (the API checks what the worker signed)', () => {
    const madeByWorker = artifactLinkSigner('http://worker-side.invalid', 's3cret').sign(ARTIFACT, NOW_MS);
    const { id, expires, sig } = partsOf(madeByWorker);
    expect(artifactLinkSigner(BASE, 's3cret').verify(id, expires, sig, NOW_MS)).toBe(true);
    expect(artifactLinkSigner(BASE, 'another-secret').verify(id, expires, sig, NOW_MS)).toBe(false);
  });

  it('refuses a link once it has expired, and up to its last second accepts it', () => {
    const signer = artifactLinkSigner(BASE, 's3cret');
    const { id, expires, sig } = partsOf(signer.sign(ARTIFACT, NOW_MS));
    const expiresMs = Number(expires) * 1000;
    expect(signer.verify(id, expires, sig, expiresMs)).toBe(true);
    expect(signer.verify(id, expires, sig, expiresMs + 1000)).toBe(false);
  });

  it('refuses a signature moved to another artifact, a changed expiry, and malformed parts', () => {
    const signer = artifactLinkSigner(BASE, 's3cret');
    const { expires, sig } = partsOf(signer.sign(ARTIFACT, NOW_MS));
    expect(signer.verify('art_01JD7Q3V9XK6M2N4P8R0S5T7VX', expires, sig, NOW_MS)).toBe(false);
    expect(signer.verify(ARTIFACT, String(Number(expires) + 1), sig, NOW_MS)).toBe(false);
    expect(signer.verify(ARTIFACT, `${expires}.5`, sig, NOW_MS)).toBe(false);
    expect(signer.verify(ARTIFACT, 'tomorrow', sig, NOW_MS)).toBe(false);
    expect(signer.verify(ARTIFACT, expires, sig.slice(1), NOW_MS)).toBe(false);
    expect(signer.verify(ARTIFACT, expires, '', NOW_MS)).toBe(false);
  });

  it('signs with the current time when none is given', () => {
    const signer = artifactLinkSigner(BASE, 's3cret');
    const { expires, sig } = partsOf(signer.sign(ARTIFACT));
    expect(Math.abs(Number(expires) - (Date.now() / 1000 + ARTIFACT_LINK_TTL_SEC))).toBeLessThan(5);
    expect(signer.verify(ARTIFACT, expires, sig)).toBe(true);
  });
});
