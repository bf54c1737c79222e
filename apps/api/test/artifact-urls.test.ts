import { artifactLinkSigner } from '@genqueue/storage';
import { ArtifactUrls } from '../src/services/artifact-urls';

/**
 * The worker signs the artifact links of webhook payloads with the storage package's signer; the
 * API signs those of its answers with ArtifactUrls and checks every link on its content route.
 * A link made by either must verify in the API.
 */
const BASE = 'http://127.0.0.1:3000';
const SECRET = 'instance-artifact-secret';
const ARTIFACT = 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW';

const partsOf = (link: string) => {
  const url = new URL(link);
  return { path: url.pathname, expires: url.searchParams.get('expires') ?? '', sig: url.searchParams.get('sig') ?? '' };
};

describe('artifact links between the worker and the API', () => {
  it('the API verifies a link the worker signed, and the worker’s link is the one the API would make', () => {
    const nowMs = Date.UTC(2026, 11, 5, 21, 0, 0);
    const workerLink = artifactLinkSigner(BASE, SECRET).sign(ARTIFACT, nowMs);
    const apiUrls = new ArtifactUrls(BASE, SECRET);
    const { path, expires, sig } = partsOf(workerLink);
    expect(path).toBe(`/v1/artifacts/${ARTIFACT}/content`);
    expect(apiUrls.verify(ARTIFACT, expires, sig, nowMs)).toBe(true);
    expect(apiUrls.sign(ARTIFACT, nowMs)).toBe(workerLink);
  });

  it('a link the API signed verifies with the shared signer, and neither accepts another secret’s link', () => {
    const apiLink = partsOf(new ArtifactUrls(BASE, SECRET).sign(ARTIFACT));
    expect(artifactLinkSigner(BASE, SECRET).verify(ARTIFACT, apiLink.expires, apiLink.sig)).toBe(true);
    const foreign = partsOf(artifactLinkSigner(BASE, 'other-secret').sign(ARTIFACT));
    expect(new ArtifactUrls(BASE, SECRET).verify(ARTIFACT, foreign.expires, foreign.sig)).toBe(false);
  });

  it('the signer handed to job views works unbound (as withSignedArtifactUrls calls it)', () => {
    const { sign } = new ArtifactUrls(BASE, SECRET);
    const { expires, sig } = partsOf(sign(ARTIFACT));
    expect(new ArtifactUrls(BASE, SECRET).verify(ARTIFACT, expires, sig)).toBe(true);
  });
});
