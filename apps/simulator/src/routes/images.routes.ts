import { Router, type Request, type Response } from 'express';
import { asObject } from '../body';
import { sha256Hex } from '../hash';
import { checkImageRequest, type RawImageRequest } from '../images/image-request';
import { buildImageResponse } from '../images/image-response';
import { gatewayError } from '../errors';
import { publicBaseUrl, requestIdOf } from '../middleware/locals';
import { relayRoute } from '../middleware/route-guards';
import { isImageField, isMultipart, parseMultipart } from '../multipart';
import type { SimulatorState, UploadedPart } from '../state';

/** `POST /v1/images/generations` (JSON) and `POST /v1/images/edits` (multipart or JSON). */
export function imagesRoutes(state: SimulatorState): Router {
  const router = Router();

  router.post('/v1/images/generations', ...relayRoute(state, 'images.generations'), (req, res) => {
    answer(state, req, res, asObject(req.body), { isEdit: false, inputSha256s: [] });
  });

  router.post('/v1/images/edits', ...relayRoute(state, 'images.edits'), async (req, res) => {
    const upload = isMultipart(req) ? await readMultipartEdit(req, res) : readJsonEdit(asObject(req.body));
    if (!upload) return;
    state.uploads.push({ routeKey: 'images.edits', requestId: requestIdOf(res), atMs: state.clock.now(), fields: upload.fields, files: upload.parts });
    const inputSha256s = upload.parts.filter((p) => isImageField(p.field)).map((p) => p.sha256);
    answer(state, req, res, upload.fields, { isEdit: true, inputSha256s });
  });

  return router;
}

type EditUpload = { fields: Record<string, string>; parts: UploadedPart[] };

function answer(state: SimulatorState, req: Request, res: Response, raw: RawImageRequest, input: { isEdit: boolean; inputSha256s: string[] }): void {
  const check = checkImageRequest(state, raw, input, requestIdOf(res));
  if (!check.ok) {
    res.status(check.status).json(check.body);
    return;
  }
  res.json(buildImageResponse(state, publicBaseUrl(state, req), check.job));
}

async function readMultipartEdit(req: Request, res: Response): Promise<EditUpload | null> {
  try {
    const form = await parseMultipart(req);
    const parts = form.files.map((f) => ({ field: f.field, filename: f.filename, contentType: f.contentType, bytes: f.data.length, sha256: sha256Hex(f.data) }));
    return { fields: form.fields, parts };
  } catch (err) {
    const message = `failed to parse image edit form request: ${err instanceof Error ? err.message : String(err)}`;
    res.status(500).json(gatewayError(message, 'invalid_request', requestIdOf(res)));
    return null;
  }
}

/** JSON edits carry images as data URLs, bare base64 or http(s) URLs (hashed as text). */
function readJsonEdit(body: Record<string, unknown>): EditUpload {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string' || typeof value === 'number') fields[key] = String(value);
  }
  const sources = [body['image'], body['images']].flatMap((v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]));
  const parts = sources
    .filter((s): s is string => typeof s === 'string' && s !== '')
    .map((source) => {
      const bytes = decodeImageSource(source);
      return { field: 'image', filename: '', contentType: dataUrlType(source), bytes: bytes.length, sha256: sha256Hex(bytes) };
    });
  delete fields['image'];
  return { fields, parts };
}

function decodeImageSource(source: string): Buffer {
  if (/^https?:\/\//i.test(source)) return Buffer.from(source, 'utf8');
  const comma = source.startsWith('data:') ? source.indexOf(',') : -1;
  return Buffer.from(comma >= 0 ? source.slice(comma + 1) : source, 'base64');
}

const dataUrlType = (source: string): string => /^data:([^;,]+)/.exec(source)?.[1] ?? '';
