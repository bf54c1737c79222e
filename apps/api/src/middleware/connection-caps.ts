import type { RequestHandler } from 'express';
import type { ConnectionSlots } from '../services/connection-slots';

/**
 * `GET /admin/v1/events` holds a connection open (and re-reads Postgres every 2 s): the process
 * keeps at most `slots`' limit of them. Mounted in front of the admin routers.
 */
export function capAdminStreams(slots: ConnectionSlots): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' || req.path !== '/events') return next();
    res.on('close', slots.acquire('admin'));
    next();
  };
}
