import type { z } from 'zod';
import { AppError, zodDetails } from '@genqueue/core';

/** Parses request parts at the edge: a failure is a 400 listing each failing field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string, prefix = ''): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new AppError('invalid_request', `The ${what} is invalid`, zodDetails(result.error, prefix));
  return result.data;
}
