import { hasPrefix } from '@genqueue/core';
import type { WebhookDelivery, WebhookEndpoint } from '../src/generated/prisma/client';
import type { Change } from '../src/repositories/jobs.repository';
import {
  decodeDeliveryCursor,
  jobUrlDeliveryId,
  type AttemptRecord,
  type WebhookDeliveriesRepository,
} from '../src/repositories/webhook-deliveries.repository';
import { WebhookOutbox } from '../src/repositories/webhook-outbox';
import { fakeFanOut } from './fake-fan-out';
import { newJobInput, secretOf, useRepositories } from './repository-fixtures';

describe('the webhook repositories (endpoints, project secrets, deliveries) and the outbox write', () => {
  // this file fans out by hand; the repository's own outbox write is tested in jobs-outbox.test.ts
  const { prisma, endpoints, secrets, deliveries, jobs, newProject } = useRepositories('genqueue_test_webhooks', { projectPrefix: 'webhooks', webhookOutbox: false });

  const newJob = (projectId: string, webhook: { url?: string | null; events?: string[] } = {}): Promise<Change> =>
    jobs.create(newJobInput(projectId, webhook.url === undefined ? 'https://example.org/hooks/job' : webhook.url, webhook.events ?? []));

  /** A job that has just started: its job.started event. */
  const startedJob = async (projectId: string, webhook: { url?: string | null; events?: string[] } = {}): Promise<Change> => {
    const created = await newJob(projectId, webhook);
    const started = await jobs.transition(created.job.id, 'running');
    if (!started) throw new Error('transition failed');
    return started;
  };

  const endpoint = (projectId: string, url: string, eventTypes: string[] = [], secret = secretOf(9)): Promise<WebhookEndpoint> =>
    endpoints.createEndpoint({ projectId, url, description: null, eventTypes, secret });

  /** An event's deliveries to these endpoints (and the job URL), by hand; `projectSecret` is what the project gets if it has none. */
  const fanOut = (change: Change, targets: WebhookEndpoint[], projectSecret = secretOf(1), now?: Date): Promise<WebhookDelivery[]> =>
    prisma.$transaction((tx) => new WebhookOutbox(prisma, fakeFanOut({ projectSecret })).writeTo(tx, change.job, change.event, targets, now));

  const failure: AttemptRecord = { statusCode: 500, durationMs: 12, error: null, responseBody: 'oops' };
  const success: AttemptRecord = { statusCode: 200, durationMs: 7, error: null, responseBody: 'ok' };

  describe('endpoints', () => {
    it('creates, lists, finds per project and soft-deletes', async () => {
      const projectId = await newProject();
      const other = await newProject();
      const a = await endpoints.createEndpoint({ projectId, url: 'https://a.example/h', description: 'A', eventTypes: ['job.failed'], secret: secretOf(2) });
      const b = await endpoint(projectId, 'https://b.example/h');

      expect(hasPrefix(a.id, 'wep')).toBe(true);
      expect(a).toMatchObject({ projectId, url: 'https://a.example/h', description: 'A', eventTypes: ['job.failed'], secret: secretOf(2), disabledAt: null });
      expect((await endpoints.listEndpoints(projectId)).map((e) => e.id)).toEqual([a.id, b.id]);
      expect(await endpoints.findEndpointForProject(other, a.id)).toBeNull();
      expect(await endpoints.deleteEndpoint(other, a.id)).toBe(false);

      expect(await endpoints.deleteEndpoint(projectId, a.id)).toBe(true);
      expect(await endpoints.deleteEndpoint(projectId, a.id)).toBe(false);
      expect(await endpoints.findEndpointForProject(projectId, a.id)).toBeNull();
      expect((await endpoints.listEndpoints(projectId)).map((e) => e.id)).toEqual([b.id]);
      expect(await prisma.webhookEndpoint.findUnique({ where: { id: a.id } })).toMatchObject({ deletedAt: expect.any(Date) });
    });

    it('lists as active only endpoints neither disabled nor deleted; disabling keeps the first reason', async () => {
      const projectId = await newProject();
      const live = await endpoint(projectId, 'https://live.example/h');
      const gone = await endpoint(projectId, 'https://gone.example/h');
      const removed = await endpoint(projectId, 'https://removed.example/h');

      expect(await endpoints.disableEndpoint(gone.id, 'answered 410 Gone')).toBe(true);
      expect(await endpoints.disableEndpoint(gone.id, 'failing for 5 days')).toBe(false);
      await endpoints.deleteEndpoint(projectId, removed.id);

      expect((await endpoints.listActiveEndpoints(projectId)).map((e) => e.id)).toEqual([live.id]);
      const listed = await endpoints.listEndpoints(projectId);
      expect(listed.map((e) => e.id)).toEqual([live.id, gone.id]);
      expect(listed[1]).toMatchObject({ disabledAt: expect.any(Date), disabledReason: 'answered 410 Gone' });
    });

    it('rotates an endpoint secret, keeping the previous one', async () => {
      const projectId = await newProject();
      const ep = await endpoint(projectId, 'https://r.example/h', [], secretOf(3));
      const at = new Date('2026-11-25T12:00:00.000Z');
      const rotated = await endpoints.rotateEndpointSecret(projectId, ep.id, secretOf(4), at);
      expect(rotated).toMatchObject({ secret: secretOf(4), previousSecret: secretOf(3), secretRotatedAt: at });
      expect(await endpoints.rotateEndpointSecret(await newProject(), ep.id, secretOf(5))).toBeNull();
    });

    it('tracks the start of an unbroken run of failures', async () => {
      const projectId = await newProject();
      const ep = await endpoint(projectId, 'https://f.example/h');
      const t1 = new Date('2026-11-20T10:00:00.000Z');
      const t2 = new Date('2026-11-21T10:00:00.000Z');
      expect(await endpoints.recordEndpointFailure(ep.id, t1)).toEqual(t1);
      expect(await endpoints.recordEndpointFailure(ep.id, t2)).toEqual(t1);
      await endpoints.recordEndpointSuccess(ep.id);
      expect((await endpoints.findEndpointForProject(projectId, ep.id))?.failingSince).toBeNull();
      expect(await endpoints.recordEndpointFailure(ep.id, t2)).toEqual(t2);
    });
  });

  describe('project secret', () => {
    it('is created once, by the first caller, and read back the same', async () => {
      const projectId = await newProject();
      expect(await secrets.getProjectSecrets(projectId)).toBeNull();

      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => secrets.getOrCreateProjectSecret(projectId, () => secretOf(10 + n))));
      const secret = results[0]?.secret;
      expect(secret).toMatch(/^whsec_/);
      for (const r of results) expect(r).toEqual({ secret, previousSecret: null, rotatedAt: null });
      expect(await secrets.getOrCreateProjectSecret(projectId, () => secretOf(99))).toEqual({ secret, previousSecret: null, rotatedAt: null });
      expect(await secrets.getOrCreateProjectSecret('prj_missing', () => secretOf(1))).toBeNull();
    });

    it('rotates, keeping the previous secret and when it was rotated', async () => {
      const projectId = await newProject();
      await secrets.getOrCreateProjectSecret(projectId, () => secretOf(20));
      const at = new Date('2026-11-25T12:00:00.000Z');
      expect(await secrets.rotateProjectSecret(projectId, secretOf(21), at)).toEqual({ secret: secretOf(21), previousSecret: secretOf(20), rotatedAt: at });
      expect(await secrets.getProjectSecrets(projectId)).toEqual({ secret: secretOf(21), previousSecret: secretOf(20), rotatedAt: at });
      expect(await secrets.rotateProjectSecret('prj_missing', secretOf(22))).toBeNull();
    });
  });

  describe('WebhookOutbox.writeTo', () => {
    it('writes one delivery per matching target with the webhook body, and sets the project secret', async () => {
      const projectId = await newProject();
      const all = await endpoint(projectId, 'https://all.example/h');
      await endpoint(projectId, 'https://failed-only.example/h', ['job.failed']);
      const startedOnly = await endpoint(projectId, 'https://started.example/h', ['job.started']);
      const change = await startedJob(projectId);
      const now = new Date('2026-11-25T10:00:00.000Z');

      const written = await fanOut(change, await endpoints.listActiveEndpoints(projectId), secretOf(30), now);

      expect(written).toHaveLength(3);
      expect(new Set(written.map((d) => d.endpointId))).toEqual(new Set([null, all.id, startedOnly.id]));
      const jobUrl = written.find((d) => d.endpointId === null);
      expect(jobUrl).toMatchObject({ id: jobUrlDeliveryId(change.event.id), url: 'https://example.org/hooks/job' });
      for (const d of written) {
        expect(hasPrefix(d.id, 'whd')).toBe(true);
        expect(hasPrefix(d.webhookId, 'msg')).toBe(true);
        expect(d).toMatchObject({
          projectId,
          jobId: change.job.id,
          eventId: change.event.id,
          eventType: 'job.started',
          status: 'pending',
          attemptCount: 0,
          nextAttemptAt: now,
        });
        expect(d.payload).toEqual({ type: 'job.started', timestamp: change.event.createdAt.toISOString(), data: change.event.data });
      }
      expect(new Set(written.map((d) => d.webhookId)).size).toBe(3);
      expect((await secrets.getProjectSecrets(projectId))?.secret).toBe(secretOf(30));
    });

    it('is idempotent per event and target, also for the job URL (null endpoint) and when racing', async () => {
      const projectId = await newProject();
      await endpoint(projectId, 'https://all.example/h');
      const change = await startedJob(projectId);
      const active = await endpoints.listActiveEndpoints(projectId);

      const first = await fanOut(change, active);
      const again = await fanOut(change, active, secretOf(31));
      const raced = await Promise.all([fanOut(change, active), fanOut(change, active)]);

      expect(first).toHaveLength(2);
      expect(again).toEqual(first);
      for (const r of raced) expect(r).toEqual(first);
      expect(await prisma.webhookDelivery.count({ where: { eventId: change.event.id } })).toBe(2);
      // The first secret set stays.
      expect((await secrets.getProjectSecrets(projectId))?.secret).toBe(secretOf(1));
    });

    it('writes only the targets the fan-out policy picks: none for job.created or job.retried', async () => {
      const projectId = await newProject();
      const ep = await endpoint(projectId, 'https://all.example/h');
      const progressOnly = await startedJob(projectId, { events: ['job.progress'] });
      expect((await fanOut(progressOnly, [ep])).map((d) => d.endpointId)).toEqual([ep.id]);

      const created = await newJob(projectId);
      expect(await fanOut(created, [ep])).toEqual([]);

      const failed = await jobs.transition(created.job.id, 'failed');
      const retried = failed && (await jobs.transition(created.job.id, 'queued'));
      expect(retried?.event.type).toBe('job.retried');
      expect(await fanOut(retried as Change, [ep])).toEqual([]);
    });

    it('without a job URL sends only to endpoints and leaves the project secret alone', async () => {
      const projectId = await newProject();
      const ep = await endpoint(projectId, 'https://all.example/h');
      const change = await startedJob(projectId, { url: null });
      expect((await fanOut(change, [ep])).map((d) => d.endpointId)).toEqual([ep.id]);
      expect(await secrets.getProjectSecrets(projectId)).toBeNull();
    });

    it('writes nothing when the surrounding transaction rolls back', async () => {
      const projectId = await newProject();
      const change = await startedJob(projectId);
      await expect(
        prisma.$transaction(async (tx) => {
          await new WebhookOutbox(prisma, fakeFanOut({ projectSecret: secretOf(1) })).writeTo(tx, change.job, change.event, []);
          throw new Error('crash before commit');
        }),
      ).rejects.toThrow('crash before commit');
      expect(await prisma.webhookDelivery.count({ where: { eventId: change.event.id } })).toBe(0);
      expect(await secrets.getProjectSecrets(projectId)).toBeNull();
    });
  });

  describe('claimDue', () => {
    it('hands out due pending deliveries once per lease, never the same row to two callers', async () => {
      // Everything this file created so far is due at its creation time: push it out of the way.
      await prisma.webhookDelivery.updateMany({ data: { nextAttemptAt: new Date('2100-01-01T00:00:00.000Z') } });
      const projectId = await newProject();
      const eps = await Promise.all([1, 2, 3, 4, 5].map((n) => endpoint(projectId, `https://e${n}.example/h`)));
      const change = await startedJob(projectId, { url: null });
      const now = new Date('2026-11-25T10:00:00.000Z');
      const written = await fanOut(change, eps, secretOf(1), new Date(now.getTime() - 1000));
      expect(written).toHaveLength(5);
      const [notDue, done] = written as [WebhookDelivery, WebhookDelivery];
      await prisma.webhookDelivery.update({ where: { id: notDue.id }, data: { nextAttemptAt: new Date(now.getTime() + 1) } });
      await prisma.webhookDelivery.update({ where: { id: done.id }, data: { status: 'succeeded' } });

      const [a, b] = await Promise.all([deliveries.claimDue(now, 2), deliveries.claimDue(now, 2)]);
      const claimed = [...(a ?? []), ...(b ?? [])].map((c) => c.id);
      const expected = written.slice(2).map((d) => d.id);
      expect(new Set(claimed)).toEqual(new Set(expected));
      expect(claimed).toHaveLength(3);
      expect(a?.[0]).toEqual({ id: expect.any(String), attemptCount: 0 });

      expect(await deliveries.claimDue(now, 10)).toEqual([]);
      const afterLease = await deliveries.claimDue(new Date(now.getTime() + 60_000), 10, { leaseMs: 5000 });
      expect(new Set(afterLease.map((c) => c.id))).toEqual(new Set([...expected, notDue.id]));
      const leased = await prisma.webhookDelivery.findUnique({ where: { id: notDue.id } });
      expect(leased?.nextAttemptAt).toEqual(new Date(now.getTime() + 65_000));
    });
  });

  describe('attempts', () => {
    const setup = async (): Promise<{ projectId: string; ep: WebhookEndpoint; delivery: WebhookDelivery; jobUrl: WebhookDelivery }> => {
      const projectId = await newProject();
      const ep = await endpoint(projectId, 'https://a.example/h');
      const written = await fanOut(await startedJob(projectId), [ep]);
      const delivery = written.find((d) => d.endpointId === ep.id);
      const jobUrl = written.find((d) => d.endpointId === null);
      if (!delivery || !jobUrl) throw new Error('missing deliveries');
      return { projectId, ep, delivery, jobUrl };
    };

    it('records failures with the next time, then success, and maintains the endpoint failure run', async () => {
      const { projectId, ep, delivery } = await setup();
      const t1 = new Date('2026-11-25T10:00:00.000Z');
      const next = new Date('2026-11-25T10:00:05.000Z');

      const first = await deliveries.recordAttempt(delivery.id, { ...failure, at: t1 }, next);
      expect(first?.delivery).toMatchObject({ status: 'pending', attemptCount: 1, nextAttemptAt: next, webhookId: delivery.webhookId });
      expect(first?.attempt).toMatchObject({ deliveryId: delivery.id, at: t1, statusCode: 500, durationMs: 12, error: null, responseBody: 'oops' });
      expect(hasPrefix(first?.attempt.id ?? '', 'wha')).toBe(true);
      expect(first?.endpointFailingSince).toEqual(t1);

      const t2 = new Date('2026-11-25T10:00:06.000Z');
      const timedOut: AttemptRecord = { statusCode: null, durationMs: 10_000, error: 'timeout: no complete answer within 10000 ms', responseBody: null, at: t2 };
      const second = await deliveries.recordAttempt(delivery.id, timedOut, new Date('2026-11-25T10:05:06.000Z'));
      expect(second?.endpointFailingSince).toEqual(t1);

      const third = await deliveries.recordAttempt(delivery.id, { ...success, at: new Date('2026-11-25T10:05:07.000Z') }, null, 'succeeded');
      expect(third?.delivery).toMatchObject({ status: 'succeeded', attemptCount: 3, nextAttemptAt: null });
      expect(third?.endpointFailingSince).toBeNull();
      expect((await endpoints.findEndpointForProject(projectId, ep.id))?.failingSince).toBeNull();

      const found = await deliveries.findForProject(projectId, delivery.id);
      expect(found?.attempts.map((a) => [a.statusCode, a.error])).toEqual([
        [500, null],
        [null, 'timeout: no complete answer within 10000 ms'],
        [200, null],
      ]);
    });

    it('fails the delivery when no next time is given, and never reopens a finished one', async () => {
      const { delivery, jobUrl } = await setup();
      const last = await deliveries.recordAttempt(jobUrl.id, failure, null);
      expect(last?.delivery).toMatchObject({ status: 'failed', nextAttemptAt: null, attemptCount: 1 });
      expect(last?.endpointFailingSince).toBeNull();

      await deliveries.recordAttempt(delivery.id, success, null, 'succeeded');
      const late = await deliveries.recordAttempt(delivery.id, failure, new Date());
      expect(late?.delivery).toMatchObject({ status: 'succeeded', attemptCount: 2, nextAttemptAt: null });
      expect(await prisma.webhookAttempt.count({ where: { deliveryId: delivery.id } })).toBe(2);

      expect(await deliveries.recordAttempt('whd_missing', failure, null)).toBeNull();
    });

    it('loads a delivery with the secrets to sign it', async () => {
      const { projectId, ep, delivery, jobUrl } = await setup();
      const forEndpoint = await deliveries.findForSending(delivery.id);
      expect(forEndpoint).toEqual({
        delivery,
        endpoint: { id: ep.id, disabledAt: null, deletedAt: null },
        secrets: { secret: ep.secret, previousSecret: null, rotatedAt: null },
      });
      const forJobUrl = await deliveries.findForSending(jobUrl.id);
      expect(forJobUrl).toEqual({ delivery: jobUrl, endpoint: null, secrets: await secrets.getProjectSecrets(projectId) });
      expect(forJobUrl?.secrets?.secret).toBe(secretOf(1));
      expect(await deliveries.findForSending('whd_missing')).toBeNull();
    });

    it('redelivers with the same webhook id and a fresh schedule, keeping the attempts', async () => {
      const { projectId, delivery } = await setup();
      await deliveries.recordAttempt(delivery.id, success, null, 'succeeded');
      const now = new Date('2026-11-26T09:00:00.000Z');

      expect(await deliveries.resetForRedelivery(await newProject(), delivery.id, now)).toBeNull();
      const reset = await deliveries.resetForRedelivery(projectId, delivery.id, now);
      expect(reset).toMatchObject({ id: delivery.id, webhookId: delivery.webhookId, status: 'pending', nextAttemptAt: now, attemptCount: 0 });
      expect((await deliveries.findForProject(projectId, delivery.id))?.attempts).toHaveLength(1);
    });
  });

  describe('listDeliveries', () => {
    it('filters by job, endpoint and status within a project, newest first, with keyset pages', async () => {
      const projectId = await newProject();
      const other = await newProject();
      const ep = await endpoint(projectId, 'https://a.example/h');
      const jobA = await startedJob(projectId);
      const jobB = await startedJob(projectId);
      const a = await fanOut(jobA, [ep]);
      const b = await fanOut(jobB, [ep]);
      await fanOut(await startedJob(other), []);
      const succeeded = b.find((d) => d.endpointId === ep.id) as WebhookDelivery;
      await deliveries.recordAttempt(succeeded.id, failure, new Date());
      await deliveries.recordAttempt(succeeded.id, success, null, 'succeeded');

      const everything = await deliveries.listDeliveries({ projectId }, 100, null);
      expect(everything.data).toHaveLength(4);
      expect(everything.nextCursor).toBeNull();
      const keys = everything.data.map((d) => `${d.createdAt.toISOString()}|${d.id}`);
      expect(keys).toEqual([...keys].sort().reverse());

      expect((await deliveries.listDeliveries({ projectId, jobId: jobA.job.id }, 100, null)).data.map((d) => d.id).sort()).toEqual(a.map((d) => d.id).sort());
      expect((await deliveries.listDeliveries({ projectId, endpointId: ep.id }, 100, null)).data).toHaveLength(2);
      const done = await deliveries.listDeliveries({ projectId, status: 'succeeded' }, 100, null);
      expect(done.data.map((d) => d.id)).toEqual([succeeded.id]);
      expect(done.data[0]?.attempts.map((x) => x.statusCode)).toEqual([500, 200]);
      expect((await deliveries.listDeliveries({ projectId: other, jobId: jobA.job.id }, 100, null)).data).toEqual([]);

      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page += 1) {
        const result: Awaited<ReturnType<WebhookDeliveriesRepository['listDeliveries']>> = await deliveries.listDeliveries({ projectId }, 3, cursor);
        seen.push(...result.data.map((d) => d.id));
        cursor = result.nextCursor;
        if (!cursor) break;
        expect(decodeDeliveryCursor(cursor)).not.toBeNull();
      }
      expect(seen).toEqual(everything.data.map((d) => d.id));
    });

    it('finds a delivery only within its project', async () => {
      const projectId = await newProject();
      const [delivery] = await fanOut(await startedJob(projectId), []);
      expect(delivery).toBeDefined();
      expect((await deliveries.findForProject(projectId, delivery?.id ?? ''))?.attempts).toEqual([]);
      expect(await deliveries.findForProject(await newProject(), delivery?.id ?? '')).toBeNull();
      expect(decodeDeliveryCursor('garbage')).toBeNull();
    });
  });
});
