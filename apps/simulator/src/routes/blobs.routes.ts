import { Router } from 'express';
import { checkBlobAccess } from '../blob-url';
import { blobStorageError } from '../errors';
import { faultGate } from '../middleware/fault-gate';
import { perMinuteLimit, tagRoute } from '../middleware/route-guards';
import type { SimulatorState } from '../state';

const xml = 'application/xml';

/** `GET /_sim/blobs/<id>.<ext>`: the simulated CDN behind image and video links, no auth. */
export function blobsRoutes(state: SimulatorState): Router {
  const router = Router();
  router.get('/_sim/blobs/:file', tagRoute(state, 'blobs'), perMinuteLimit(state, 'blobs'), faultGate(state, 'blobs', 'blob'), (req, res) => {
    const file = String(req.params['file']);
    const dot = file.lastIndexOf('.');
    const blob = state.blobs.get(file.slice(0, dot));
    if (!blob || file.slice(dot + 1) !== blob.kind) {
      res.status(404).type(xml).send(blobStorageError('BlobNotFound', 'The specified blob does not exist.'));
      return;
    }
    const access = checkBlobAccess(state, blob, req.query['se'], req.query['sig']);
    if (access === 'unsigned') {
      res.status(404).type(xml).send(blobStorageError('ResourceNotFound', 'The specified resource does not exist.'));
      return;
    }
    if (access === 'bad_signature') {
      res.status(403).type(xml).send(blobStorageError('AuthenticationFailed', 'Server failed to authenticate the request.', 'Signature did not match.'));
      return;
    }
    if (access === 'expired') {
      const expiry = new Date(Number(req.query['se']) * 1000).toUTCString();
      const detail = `Signed expiry time [${expiry}] must be after the current time [${new Date(state.clock.now()).toUTCString()}]`;
      res.status(403).type(xml).send(blobStorageError('AuthenticationFailed', 'Server failed to authenticate the request.', detail));
      return;
    }
    const { bytes, contentType } = state.blobs.render(blob);
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.status(200).type(contentType).send(bytes);
  });
  return router;
}
