import { balanceAlertFanOut, webhookFanOut } from '../src';

const endpoint = (id: string, eventTypes: string[]) => ({ id, url: `https://${id}.example/h`, eventTypes });

/** The fan-out policy the database outbox follows: who gets which job event, with what, how often. */
describe('webhookFanOut', () => {
  const all = endpoint('all', []);
  const failedOnly = endpoint('failed', ['job.failed']);
  const balance = endpoint('balance', ['gateway.balance_low']);

  it('sends a job URL its webhook_events, or the defaults (no job.progress) when it names none', () => {
    const defaults = { webhookUrl: 'https://job.example/h', webhookEvents: [] };
    expect(webhookFanOut.targetsOf('job.started', defaults, []).jobUrl).toBe('https://job.example/h');
    expect(webhookFanOut.targetsOf('job.progress', defaults, []).jobUrl).toBeNull();
    const progressOnly = { webhookUrl: 'https://job.example/h', webhookEvents: ['job.progress'] };
    expect(webhookFanOut.targetsOf('job.progress', progressOnly, []).jobUrl).toBe('https://job.example/h');
    expect(webhookFanOut.targetsOf('job.succeeded', progressOnly, []).jobUrl).toBeNull();
    expect(webhookFanOut.targetsOf('job.succeeded', { webhookUrl: null, webhookEvents: [] }, []).jobUrl).toBeNull();
  });

  it('sends an endpoint the types it names, or every job event (no admin event) when it names none', () => {
    const job = { webhookUrl: null, webhookEvents: [] };
    const ids = (type: string) => webhookFanOut.targetsOf(type, job, [all, failedOnly, balance]).endpoints.map((e) => e.id);
    expect(ids('job.started')).toEqual(['all']);
    expect(ids('job.failed')).toEqual(['all', 'failed']);
    expect(ids('gateway.balance_low')).toEqual(['balance']);
  });

  it('sends nothing anywhere for events that are no webhooks', () => {
    const job = { webhookUrl: 'https://job.example/h', webhookEvents: ['job.created', 'job.retried'] };
    for (const type of ['job.created', 'job.retried']) {
      expect(webhookFanOut.isWebhookEvent(type)).toBe(false);
      expect(webhookFanOut.targetsOf(type, job, [all, endpoint('named', [type])])).toEqual({ jobUrl: null, endpoints: [] });
    }
    expect(webhookFanOut.isWebhookEvent('job.succeeded')).toBe(true);
  });

  it('gives each delivery its own webhook id, the project a whsec_ secret, and the job snapshot as the body', () => {
    expect(webhookFanOut.newWebhookId()).toMatch(/^msg_[0-9A-Z]{26}$/);
    expect(webhookFanOut.newWebhookId()).not.toBe(webhookFanOut.newWebhookId());
    expect(webhookFanOut.newProjectSecret()).toMatch(/^whsec_/);
    const at = new Date('2026-11-25T10:00:00.000Z');
    expect(webhookFanOut.payloadOf({ type: 'job.started', createdAt: at, data: { id: 'job_x' } })).toEqual({
      type: 'job.started',
      timestamp: at.toISOString(),
      data: { id: 'job_x' },
    });
    expect(() => webhookFanOut.payloadOf({ type: 'job.created', createdAt: at, data: {} })).toThrow('no webhook event type');
  });

  it('holds job.progress to one delivery per job per 5 s, and every other event to none', () => {
    expect(webhookFanOut.minIntervalMs('job.progress')).toBe(5_000);
    expect(webhookFanOut.minIntervalMs('job.succeeded')).toBeNull();
  });
});

/** The balance alert's policy: endpoints that name gateway.balance_low, and its public body. */
describe('balanceAlertFanOut', () => {
  it('goes to endpoints that name it, not to those with an empty list or other events', () => {
    expect(balanceAlertFanOut.wants(['gateway.balance_low'])).toBe(true);
    expect(balanceAlertFanOut.wants(['job.failed', 'gateway.balance_low'])).toBe(true);
    expect(balanceAlertFanOut.wants([])).toBe(false);
    expect(balanceAlertFanOut.wants(['job.failed'])).toBe(false);
    expect(balanceAlertFanOut.eventType).toBe('gateway.balance_low');
  });

  it('sends the balance with its threshold in US$ (500,000 quota units to the dollar)', () => {
    const takenAt = new Date('2026-12-05T10:00:00.000Z');
    expect(balanceAlertFanOut.payloadOf({ availableUnits: 250_000, availableUsd: 0.5, thresholdUnits: 1_000_000, takenAt, snapshotId: 'gbs_1' })).toEqual({
      type: 'gateway.balance_low',
      timestamp: '2026-12-05T10:00:00.000Z',
      data: { object: 'gateway_balance', available_units: 250_000, available_usd: 0.5, threshold_usd: 2, taken_at: '2026-12-05T10:00:00.000Z', snapshot_id: 'gbs_1' },
    });
    expect(balanceAlertFanOut.newWebhookId()).toMatch(/^msg_/);
  });
});
