import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { hasPrefix } from '@genqueue/core';
import {
  activeSecrets,
  decodeWebhookSecret,
  generateWebhookSecret,
  InvalidWebhookSecretError,
  newWebhookId,
  SECRET_ROTATION_OVERLAP_MS,
  signPayload,
  unixSeconds,
  webhookHeaders,
} from '../src';

const body = JSON.stringify({ type: 'job.succeeded', timestamp: '2026-11-25T10:01:00.000Z', data: { id: 'job_1', object: 'job' } });

describe('generateWebhookSecret', () => {
  it('is whsec_ + base64 of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(decodeWebhookSecret(secret)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it('refuses secrets without the prefix, not base64, or shorter than 24 bytes', () => {
    expect(() => decodeWebhookSecret('abc')).toThrow(InvalidWebhookSecretError);
    expect(() => decodeWebhookSecret('whsec_not base64!')).toThrow(InvalidWebhookSecretError);
    expect(() => decodeWebhookSecret(`whsec_${Buffer.alloc(16).toString('base64')}`)).toThrow(/24 bytes/);
  });
});

describe('newWebhookId', () => {
  it('is msg_<ulid>', () => {
    const id = newWebhookId();
    expect(hasPrefix(id, 'msg')).toBe(true);
    expect(newWebhookId()).not.toBe(id);
  });
});

describe('webhookHeaders', () => {
  it('verifies with the standardwebhooks library', () => {
    const secret = generateWebhookSecret();
    const webhookId = newWebhookId();
    const timestamp = unixSeconds();
    const headers = webhookHeaders({ secrets: [secret], webhookId, timestamp, body });

    expect(headers).toEqual({
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
      'content-type': 'application/json',
    });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('produces the same signature as the library signs', () => {
    const secret = generateWebhookSecret();
    const timestamp = 1_764_064_800;
    const signature = signPayload({ secrets: [secret], webhookId: 'msg_x', timestamp, body });
    expect(signature).toBe(new Webhook(secret).sign('msg_x', new Date(timestamp * 1000), body));
  });

  it('does not verify with another secret, a changed body, id or timestamp', () => {
    const secret = generateWebhookSecret();
    const webhookId = newWebhookId();
    const timestamp = unixSeconds();
    const headers = webhookHeaders({ secrets: [secret], webhookId, timestamp, body });
    const wh = new Webhook(secret);

    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(`${body} `, headers)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, 'webhook-id': newWebhookId() })).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, 'webhook-timestamp': String(timestamp - 1) })).toThrow(WebhookVerificationError);
  });

  it('during a rotation sends two signatures, each verifiable with its own secret', () => {
    const previous = generateWebhookSecret();
    const current = generateWebhookSecret();
    const rotatedAt = new Date();
    const secrets = activeSecrets({ secret: current, previousSecret: previous, rotatedAt }, new Date(rotatedAt.getTime() + 60_000));
    expect(secrets).toEqual([current, previous]);

    const headers = webhookHeaders({ secrets, webhookId: newWebhookId(), timestamp: unixSeconds(), body });
    const signatures = headers['webhook-signature'].split(' ');
    expect(signatures).toHaveLength(2);
    for (const signature of signatures) expect(signature).toMatch(/^v1,/);

    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    // Each secret verifies on its own signature alone, too.
    const [first = '', second = ''] = signatures;
    expect(() => new Webhook(current).verify(body, { ...headers, 'webhook-signature': first })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers, 'webhook-signature': second })).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it('signs once per distinct secret and refuses an empty list or a fractional timestamp', () => {
    const secret = generateWebhookSecret();
    expect(signPayload({ secrets: [secret, secret], webhookId: 'msg_x', timestamp: 1, body }).split(' ')).toHaveLength(1);
    expect(() => signPayload({ secrets: [], webhookId: 'msg_x', timestamp: 1, body })).toThrow(InvalidWebhookSecretError);
    expect(() => signPayload({ secrets: [secret], webhookId: 'msg_x', timestamp: 1.5, body })).toThrow(RangeError);
  });
});

describe('activeSecrets', () => {
  const secret = 'whsec_new';
  const previousSecret = 'whsec_old';
  const rotatedAt = new Date('2026-11-25T10:00:00.000Z');

  it('keeps the previous secret for 24 h after a rotation, then drops it', () => {
    expect(activeSecrets({ secret, previousSecret, rotatedAt }, new Date(rotatedAt.getTime() + SECRET_ROTATION_OVERLAP_MS - 1))).toEqual([
      secret,
      previousSecret,
    ]);
    expect(activeSecrets({ secret, previousSecret, rotatedAt }, new Date(rotatedAt.getTime() + SECRET_ROTATION_OVERLAP_MS))).toEqual([secret]);
  });

  it('is the current secret alone when there was no rotation', () => {
    expect(activeSecrets({ secret, previousSecret: null, rotatedAt: null })).toEqual([secret]);
  });
});
