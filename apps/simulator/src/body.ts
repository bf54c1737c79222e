import express, { type RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';

/** The gateway accepts bodies up to MAX_REQUEST_BODY_MB (128 by default). */
const MAX_BODY = '128mb';

const isMultipartMessage = (req: IncomingMessage): boolean =>
  String(req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');

/** JSON whatever the declared content type (clients are sloppy), except multipart bodies. */
export const jsonBody: RequestHandler = express.json({ limit: MAX_BODY, type: (req) => !isMultipartMessage(req) });

export type JsonObject = Record<string, unknown>;

export const asObject = (value: unknown): JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};

export const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export const asString = (value: unknown): string => (typeof value === 'string' ? value : '');
