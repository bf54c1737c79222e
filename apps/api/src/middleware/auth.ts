import type { Request, RequestHandler } from 'express';
import { AppError } from '@genqueue/core';
import { LAST_USED_RESOLUTION_MS, type ApiKeysRepository } from '@genqueue/db';

export type Principal =
  | { kind: 'project'; keyId: string; projectId: string; limits: { requests_per_minute?: number; jobs_per_minute?: number } }
  | { kind: 'admin'; keyId: string };

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

function bearerOf(req: Request): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * Best effort and off the request's path: the dashboard's "last used" is a hint, not a ledger. The
 * record may be the key cache's: noting the use on it keeps the next requests from writing again.
 */
function noteKeyUse(apiKeys: ApiKeysRepository, record: { id: string; lastUsedAt: Date | null }): void {
  const now = new Date();
  if (record.lastUsedAt && now.getTime() - record.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  record.lastUsedAt = now;
  apiKeys.touchLastUsed(record.id, now).catch(() => undefined);
}

/** Resolves the bearer key onto `req.principal`; `required: 'admin'` answers 403 to a valid project key. */
export async function resolvePrincipal(apiKeys: ApiKeysRepository, req: Request, required: 'any' | 'admin'): Promise<Principal> {
  const key = bearerOf(req);
  if (!key) throw new AppError('unauthorized', 'Missing API key: send Authorization: Bearer <key>');
  const record = await apiKeys.findActiveByKey(key);
  if (!record) throw new AppError('unauthorized', 'Unknown or revoked API key');
  noteKeyUse(apiKeys, record);
  let principal: Principal;
  if (record.kind === 'admin') {
    principal = { kind: 'admin', keyId: record.id };
  } else {
    if (required === 'admin') throw new AppError('forbidden', 'This route needs the admin key');
    if (!record.projectId || !record.project) throw new AppError('unauthorized', 'Unknown or revoked API key');
    principal = {
      kind: 'project',
      keyId: record.id,
      projectId: record.projectId,
      limits: (record.project.limits ?? {}) as { requests_per_minute?: number; jobs_per_minute?: number },
    };
  }
  req.principal = principal;
  return principal;
}

export function authenticate(apiKeys: ApiKeysRepository, required: 'any' | 'admin'): RequestHandler {
  return async (req, _res, next) => {
    await resolvePrincipal(apiKeys, req, required);
    next();
  };
}

/** The project a request acts for: its key's project, or for the admin key `?project_id=` (else none). */
export function projectIdOf(req: Request): string | null {
  const principal = req.principal;
  if (!principal) return null;
  if (principal.kind === 'project') return principal.projectId;
  const fromQuery = req.query['project_id'];
  return typeof fromQuery === 'string' ? fromQuery : null;
}

export function requireProjectId(req: Request): string {
  const id = projectIdOf(req);
  if (!id) throw new AppError('invalid_request', 'The admin key must name a project: add ?project_id=prj_…', [{ path: 'project_id', message: 'required with the admin key' }]);
  return id;
}
