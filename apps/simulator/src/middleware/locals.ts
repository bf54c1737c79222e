import type { Request, Response } from 'express';
import type { SimulatorState } from '../state';

/** Typed access to what the simulator keeps in `res.locals`. */
export const requestIdOf = (res: Response): string => String(res.locals['requestId'] ?? '');

export const routeKeyOf = (res: Response): string | undefined => {
  const key: unknown = res.locals['routeKey'];
  return typeof key === 'string' ? key : undefined;
};

export const setRouteKey = (res: Response, key: string): void => {
  res.locals['routeKey'] = key;
};

export const isChinese = (req: Request): boolean => (req.get('accept-language') ?? '').toLowerCase().startsWith('zh');

/** Origin used in links to the simulator's own blobs. */
export const publicBaseUrl = (state: SimulatorState, req: Request): string =>
  state.options.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
