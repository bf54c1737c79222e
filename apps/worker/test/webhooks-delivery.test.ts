import pino from 'pino';
import type { AttemptRecord, DeliveryForSending } from '@genqueue/db';
import type { DeliveryEnqueue } from '@genqueue/queue';
import { createGuardedDispatcher } from '@genqueue/webhooks';
import { deliverOnce, type DeliveryDeps } from '../src/webhooks/delivery-processor';
import { Receiver, verifyWith } from './webhooks-helpers';

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const DAY_MS = 24 * 3600 * 1000;

type Recorded = { result: AttemptRecord; nextAttemptAt: Date | null; finalStatus: string | undefined };

/** The delivery processor's decisions, against a fake repository and a real local receiver. */
describe('deliverOnce', () => {
  let receiver: Receiver;
  const agent = createGuardedDispatcher({ allowPrivate: true });

  beforeAll(async () => {
    receiver = await Receiver.start();
  });

  afterAll(async () => {
    await receiver.close();
    await agent.close();
  });

  function fixture(options: { url: string; attemptCount?: number; endpoint?: DeliveryForSending['endpoint']; failingSince?: Date | null; status?: string }) {
    const recorded: Recorded[] = [];
    const enqueued: DeliveryEnqueue[] = [];
    const disabled: string[] = [];
    const found: DeliveryForSending = {
      delivery: {
        id: 'whd_01ARZ3NDEKTSV4RRFFQ69G5FAV',
        projectId: 'prj_x',
        jobId: 'job_x',
        eventId: 'evt_x',
        endpointId: options.endpoint?.id ?? null,
        webhookId: 'msg_01ARZ3NDEKTSV4RRFFQ69G5FAV',
        eventType: 'job.succeeded',
        url: options.url,
        payload: { type: 'job.succeeded', timestamp: '2026-11-25T10:00:00.000Z', data: { id: 'job_x', artifacts: [] } },
        status: options.status ?? 'pending',
        attemptCount: options.attemptCount ?? 0,
        nextAttemptAt: new Date(),
        createdAt: new Date(),
        updatedAt: new Date(),
      },
      endpoint: options.endpoint ?? null,
      secrets: { secret: SECRET, previousSecret: null, rotatedAt: null },
    } as DeliveryForSending;
    const deliveries: DeliveryDeps['deliveries'] = {
      findForSending: async () => found,
      recordAttempt: async (_id: string, result: AttemptRecord, nextAttemptAt: Date | null, finalStatus?: string) => {
        recorded.push({ result, nextAttemptAt, finalStatus });
        const status = finalStatus ?? (nextAttemptAt ? 'pending' : 'failed');
        return { delivery: { ...found.delivery, status, attemptCount: found.delivery.attemptCount + 1 }, attempt: {}, endpointFailingSince: options.failingSince ?? null } as unknown as Awaited<ReturnType<DeliveryDeps['deliveries']['recordAttempt']>>;
      },
    };
    const endpoints: DeliveryDeps['endpoints'] = {
      disableEndpoint: async (id: string) => {
        disabled.push(id);
        return true;
      },
    };
    const deps: DeliveryDeps = {
      deliveries,
      endpoints,
      enqueue: async (items) => {
        enqueued.push(...items);
      },
      dispatcher: agent,
      retryScheduleMs: [100, 200],
      timeoutMs: 2_000,
      signArtifactUrl: null,
      logger: pino({ level: 'silent' }),
    };
    return { deps, recorded, enqueued, disabled };
  }

  it('sends a signed request and records success', async () => {
    const url = receiver.target('/ok');
    const f = fixture({ url });
    expect(await deliverOnce(f.deps, 'whd_01ARZ3NDEKTSV4RRFFQ69G5FAV', 0)).toBe('delivered');
    const [received] = receiver.on('/ok');
    expect(verifyWith(SECRET, received!)).toMatchObject({ type: 'job.succeeded' });
    expect(f.recorded).toEqual([{ result: expect.objectContaining({ statusCode: 200 }), nextAttemptAt: null, finalStatus: 'succeeded' }]);
    expect(f.enqueued).toEqual([]);
  });

  it('skips a queue job for an attempt that already happened, or a delivery no longer pending', async () => {
    const url = receiver.target('/never');
    expect(await deliverOnce(fixture({ url, attemptCount: 2 }).deps, 'whd_x', 1)).toBe('skipped');
    expect(await deliverOnce(fixture({ url, status: 'succeeded' }).deps, 'whd_x', 0)).toBe('skipped');
    expect(receiver.on('/never')).toHaveLength(0);
  });

  it('schedules the next attempt after a failure, and fails once the schedule is spent', async () => {
    const url = receiver.target('/500', (_req, res) => res.writeHead(500).end('no'));
    const first = fixture({ url, attemptCount: 0 });
    expect(await deliverOnce(first.deps, 'whd_x', 0)).toBe('retry');
    expect(first.enqueued).toEqual([{ deliveryId: 'whd_x', attemptCount: 1, delayMs: 100 }]);
    const last = fixture({ url, attemptCount: 2 });
    expect(await deliverOnce(last.deps, 'whd_x', 2)).toBe('failed');
    expect(last.recorded[0]).toMatchObject({ nextAttemptAt: null, finalStatus: undefined });
    expect(last.enqueued).toEqual([]);
  });

  it('records but does not send for a disabled endpoint; disables an endpoint failing for 5 days', async () => {
    const url = receiver.target('/disabled');
    const off = fixture({ url, endpoint: { id: 'wep_a', disabledAt: new Date(), deletedAt: null } });
    expect(await deliverOnce(off.deps, 'whd_x', 0)).toBe('failed');
    expect(off.recorded[0]).toMatchObject({ finalStatus: 'failed', result: { statusCode: null, error: expect.stringContaining('disabled') } });
    expect(receiver.on('/disabled')).toHaveLength(0);

    const failing = receiver.target('/failing', (_req, res) => res.writeHead(503).end());
    const old = fixture({ url: failing, endpoint: { id: 'wep_b', disabledAt: null, deletedAt: null }, failingSince: new Date(Date.now() - 5 * DAY_MS - 1000) });
    await deliverOnce(old.deps, 'whd_x', 0);
    expect(old.disabled).toEqual(['wep_b']);
    const recent = fixture({ url: failing, endpoint: { id: 'wep_c', disabledAt: null, deletedAt: null }, failingSince: new Date(Date.now() - DAY_MS) });
    await deliverOnce(recent.deps, 'whd_x', 0);
    expect(recent.disabled).toEqual([]);
  });
});
