import type { Change } from '../src/repositories/jobs.repository';
import { jobUrlDeliveryId } from '../src/repositories/webhook-deliveries.repository';
import { newJobInput, secretOf, useRepositories } from './repository-fixtures';

/**
 * The outbox: a job change, its event and its webhook deliveries are written in one transaction, to
 * the targets the fan-out policy picks (here `fakeFanOut`; the real rules are tested in @genqueue/webhooks).
 */
describe('JobsRepository webhook outbox', () => {
  const { prisma, jobs, endpoints, secrets, newProject } = useRepositories('genqueue_test_outbox', { projectPrefix: 'outbox' });

  const newJob = (projectId: string, webhookUrl: string | null, webhookEvents: string[] = []): Promise<Change> =>
    jobs.create(newJobInput(projectId, webhookUrl, webhookEvents));

  const deliveriesOf = (jobId: string) => prisma.webhookDelivery.findMany({ where: { jobId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });

  it('writes nothing for a job without a URL in a project without endpoints, and nothing for job.created', async () => {
    const projectId = await newProject();
    const created = await newJob(projectId, null);
    expect(created.deliveryIds).toEqual([]);
    const started = await jobs.transition(created.job.id, 'running');
    const done = await jobs.transition(created.job.id, 'succeeded', { output: { ok: true } });
    expect(started?.deliveryIds).toEqual([]);
    expect(done?.deliveryIds).toEqual([]);
    expect(await deliveriesOf(created.job.id)).toEqual([]);
    // the project secret is made only when a job URL gets a delivery
    expect(await secrets.getProjectSecrets(projectId)).toBeNull();

    const withUrl = await newJob(projectId, 'https://example.org/hook');
    expect(withUrl.deliveryIds).toEqual([]);
  });

  it('fans a job URL and the endpoints out with the change, honouring event filters', async () => {
    const projectId = await newProject();
    const all = await endpoints.createEndpoint({ projectId, url: 'https://all.example/h', description: null, eventTypes: [], secret: secretOf(1) });
    const failedOnly = await endpoints.createEndpoint({ projectId, url: 'https://f.example/h', description: null, eventTypes: ['job.failed'], secret: secretOf(2) });
    const disabled = await endpoints.createEndpoint({ projectId, url: 'https://d.example/h', description: null, eventTypes: [], secret: secretOf(3) });
    await endpoints.disableEndpoint(disabled.id, 'test');

    const created = await newJob(projectId, 'https://example.org/hook', ['job.succeeded']);
    const started = await jobs.transition(created.job.id, 'running');
    expect(started?.deliveryIds).toHaveLength(1); // the "all" endpoint; the job URL wants only job.succeeded
    const done = await jobs.transition(created.job.id, 'succeeded', {});
    expect(done?.deliveryIds).toHaveLength(2);
    expect(done?.deliveryIds).toContain(jobUrlDeliveryId(done!.event.id));

    const rows = await deliveriesOf(created.job.id);
    expect(rows.map((r) => [r.eventType, r.endpointId, r.url]).sort()).toEqual(
      [
        ['job.started', all.id, 'https://all.example/h'],
        ['job.succeeded', all.id, 'https://all.example/h'],
        ['job.succeeded', null, 'https://example.org/hook'],
      ].sort(),
    );
    expect(rows.every((r) => r.status === 'pending')).toBe(true);
    expect(rows.some((r) => r.endpointId === failedOnly.id)).toBe(false);
    expect(new Set(rows.map((r) => r.webhookId)).size).toBe(3);
    const body = rows.find((r) => r.endpointId === null)?.payload as { type: string; data: { id: string; status: string } };
    expect(body).toMatchObject({ type: 'job.succeeded', data: { id: created.job.id, status: 'succeeded' } });
    const secret = (await secrets.getProjectSecrets(projectId))?.secret;
    expect(secret).toMatch(/^whsec_/);

    // the project's next job URL delivery is signed with the same secret: the first one stays
    const next = await newJob(projectId, 'https://example.org/hook', ['job.started']);
    const nextStarted = await jobs.transition(next.job.id, 'running');
    expect(nextStarted?.deliveryIds).toContain(jobUrlDeliveryId(nextStarted!.event.id));
    expect((await secrets.getProjectSecrets(projectId))?.secret).toBe(secret);
  });

  it('writes job.progress deliveries at most once per 5 s per job', async () => {
    const projectId = await newProject();
    await endpoints.createEndpoint({ projectId, url: 'https://p.example/h', description: null, eventTypes: ['job.progress'], secret: secretOf(4) });
    const created = await newJob(projectId, null);
    await jobs.transition(created.job.id, 'running');
    const first = await jobs.updateRunning(created.job.id, { progress: 10 }, 'job.progress');
    const second = await jobs.updateRunning(created.job.id, { progress: 20 }, 'job.progress');
    const quiet = await jobs.updateRunning(created.job.id, { progress: 30 });
    expect(first && 'deliveryIds' in first ? first.deliveryIds : null).toHaveLength(1);
    expect(second && 'deliveryIds' in second ? second.deliveryIds : null).toEqual([]);
    expect(quiet?.event).toBeNull();
    // an older progress delivery no longer holds the next one back
    await prisma.webhookDelivery.updateMany({ where: { jobId: created.job.id }, data: { createdAt: new Date(Date.now() - 6_000) } });
    const third = await jobs.updateRunning(created.job.id, { progress: 40 }, 'job.progress');
    expect(third && 'deliveryIds' in third ? third.deliveryIds : null).toHaveLength(1);
    expect((await deliveriesOf(created.job.id)).filter((d) => d.eventType === 'job.progress')).toHaveLength(2);
  });

  it('writes no delivery when the change loses its race', async () => {
    const projectId = await newProject();
    await endpoints.createEndpoint({ projectId, url: 'https://r.example/h', description: null, eventTypes: [], secret: secretOf(5) });
    const created = await newJob(projectId, null);
    await jobs.transition(created.job.id, 'running');
    const results = await Promise.all([
      jobs.transition(created.job.id, 'succeeded', {}),
      jobs.transition(created.job.id, 'failed', { error: { code: 'upstream_error', message: 'x', retryable: false } }),
      jobs.transition(created.job.id, 'canceled', {}),
    ]);
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    const finals = (await deliveriesOf(created.job.id)).filter((d) => d.eventType !== 'job.started');
    expect(finals.map((d) => d.eventType)).toEqual([winners[0]!.event.type]);
  });
});
