import { createHmac, randomBytes } from 'node:crypto';
import { newId } from '@genqueue/core';

// Standard Webhooks (https://www.standardwebhooks.com/), as api.md describes it.
// WARNING: the header names, the signed content "{id}.{timestamp}.{body}", the `v1,` prefix and
// the `whsec_` secret format are a public contract; receivers verify with any Standard Webhooks library.

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** The spec asks for 24..64 random bytes; we use 32. */
export const WEBHOOK_SECRET_BYTES = 32;
/** After a rotation the previous secret keeps signing (a second signature) this long. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'content-type': 'application/json';
};

export type SignInput = {
  /** Every secret to sign with, newest first; a rotation passes the new and the previous one. */
  secrets: readonly string[];
  /** `msg_…`, the same on every retry of one delivery. */
  webhookId: string;
  /** Unix seconds. */
  timestamp: number;
  /** The exact bytes that are sent. */
  body: string;
};

/** A project's or an endpoint's secrets as stored. */
export type StoredSecrets = {
  secret: string;
  previousSecret: string | null;
  rotatedAt: Date | null;
};

export class InvalidWebhookSecretError extends Error {
  override readonly name = 'InvalidWebhookSecretError';
}

/** `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(WEBHOOK_SECRET_BYTES).toString('base64');
}

/** `msg_<ulid>`: the Standard Webhooks `webhook-id` of one delivery. */
export function newWebhookId(): string {
  return newId('msg');
}

/** The HMAC key: the base64 after the `whsec_` prefix, decoded. */
export function decodeWebhookSecret(secret: string): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
    throw new InvalidWebhookSecretError(`a webhook secret must start with ${WEBHOOK_SECRET_PREFIX}`);
  }
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new InvalidWebhookSecretError('a webhook secret must be base64 after its prefix');
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 24) throw new InvalidWebhookSecretError('a webhook secret must hold at least 24 bytes');
  return key;
}

/** One `v1,<base64>` signature over "{id}.{timestamp}.{body}". */
export function signatureFor(secret: string, webhookId: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', decodeWebhookSecret(secret)).update(`${webhookId}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header value: one signature per secret, space-separated. */
export function signPayload(input: SignInput): string {
  if (input.secrets.length === 0) throw new InvalidWebhookSecretError('no secret to sign with');
  if (!Number.isInteger(input.timestamp) || input.timestamp < 0) {
    throw new RangeError('webhook timestamp must be whole unix seconds');
  }
  const unique = [...new Set(input.secrets)];
  return unique.map((secret) => signatureFor(secret, input.webhookId, input.timestamp, input.body)).join(' ');
}

/** Every header of one delivery attempt. */
export function webhookHeaders(input: SignInput): WebhookHeaders {
  return {
    'webhook-id': input.webhookId,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signPayload(input),
    'content-type': 'application/json',
  };
}

/** Unix seconds of `at`, for `webhook-timestamp`. */
export function unixSeconds(at: Date = new Date()): number {
  return Math.floor(at.getTime() / 1000);
}

/**
 * The secrets to sign with now: the current one, plus the previous one for 24 h after a rotation
 * so receivers that still hold the old secret keep verifying.
 */
export function activeSecrets(stored: StoredSecrets, now: Date = new Date(), overlapMs = SECRET_ROTATION_OVERLAP_MS): string[] {
  const secrets = [stored.secret];
  if (
    stored.previousSecret &&
    stored.previousSecret !== stored.secret &&
    stored.rotatedAt &&
    now.getTime() - stored.rotatedAt.getTime() < overlapMs
  ) {
    secrets.push(stored.previousSecret);
  }
  return secrets;
}
