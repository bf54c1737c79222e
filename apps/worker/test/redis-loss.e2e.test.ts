import { PrivateRedis, TestStack, type Project } from '@genqueue/testing';
import { armFault, clearFaults, jobEvents, pollUntil, simulatedMs, StackRedis, submit } from './helpers';
import { setTaskConfig, submissionsByKey, TASK_ENV, TERMINAL_EVENTS, waitForJob } from './tasks-helpers';
import { Receiver } from './webhooks-helpers';

const SWEEP_INTERVAL_MS = 2_000;
/** What a worker may take to notice a new Redis and reconnect (ioredis retries every 200 ms and more), and the check's own polling. */
const RECONNECT_SLACK_MS = 1_000;
const IMAGES = 16;
const VIDEOS = 6;
const LIVE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children'];

type Submitted = { id: string; queue: string; prompt: string; isVideo: boolean };

/**
 * Redis may vanish at any moment (issue 10, item 1): flushed, or killed and replaced by an empty one.
 * Postgres keeps every job, and the sweeper (a timer in every worker, its ticks deduplicated by a
 * Postgres lease) puts the queued and running rows back: each job ends exactly once, no video
 * task is submitted twice, and every webhook is delivered.
 */
describe('Redis loses everything', () => {
  let redisServer: PrivateRedis;
  let stack: TestStack;
  let project: Project;
  let redis: StackRedis;
  let receiver: Receiver;
  let hookUrl: string;

  beforeAll(async () => {
    redisServer = await PrivateRedis.start();
    receiver = await Receiver.start();
    hookUrl = receiver.target('/hooks');
    stack = await TestStack.start({ env: { ...TASK_ENV, REDIS_URL: redisServer.url, SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS) } });
    project = await stack.createProject({ requests_per_minute: 10_000 });
    redis = new StackRedis(stack);
    // videos run ≈ 4 s (fast time): still parked, polling, when Redis goes
    await setTaskConfig(stack, { video_duration_ms: 240_000 });
  }, 120_000);

  afterEach(async () => {
    await clearFaults(stack);
  });

  afterAll(async () => {
    await redis?.close();
    await stack?.stop();
    await redisServer?.stop();
    await receiver?.close();
  });

  /** Videos parked with their task ids saved, images running (slow gateway) and waiting behind them. */
  async function submitMix(tag: string): Promise<Submitted[]> {
    await armFault(stack, { route: 'images.generations', kind: 'slow', times: -1, delay_ms: await simulatedMs(stack, 1_500) });
    const jobs: Submitted[] = [];
    for (let i = 0; i < VIDEOS; i += 1) {
      const prompt = `${tag}: a parked video ${i}`;
      const job = await submit(stack, project.key, { type: 'video.generate', input: { prompt }, webhook_url: hookUrl });
      jobs.push({ id: job.id, queue: 'job-video', prompt, isVideo: true });
    }
    for (let i = 0; i < IMAGES; i += 1) {
      const prompt = `${tag}: an image ${i}`;
      const job = await submit(stack, project.key, { type: 'image.generate', input: { prompt }, webhook_url: hookUrl });
      jobs.push({ id: job.id, queue: 'job-image', prompt, isVideo: false });
    }
    for (const video of jobs.filter((j) => j.isVideo)) {
      await waitForJob(stack, project.key, video.id, `${video.id} to save its task id`, (job) => Boolean(job.upstream?.task_id));
    }
    await pollUntil('images running and waiting', async () => {
      const statuses = await Promise.all(jobs.filter((j) => !j.isVideo).map(async (j) => (await stack.api.get(`/v1/jobs/${j.id}`, { key: project.key })).body.status));
      return statuses.includes('running') && statuses.includes('queued') ? true : undefined;
    });
    return jobs;
  }

  /** Whether the job is final, or Redis holds live work for it again. */
  async function isFinalOrQueued(job: Submitted): Promise<boolean> {
    const status = (await stack.api.get(`/v1/jobs/${job.id}`, { key: project.key })).body.status;
    if (['succeeded', 'failed', 'canceled', 'expired'].includes(status)) return true;
    return LIVE_STATES.includes(await redis.jobState(job.queue, job.id));
  }

  async function expectRecovery(label: string, jobs: Submitted[], redisEmptyAtMs: number): Promise<void> {
    const backInQueueMs = await pollUntil(
      'every unfinished job back in its queue',
      async () => ((await Promise.all(jobs.map(isFinalOrQueued))).every(Boolean) ? Date.now() - redisEmptyAtMs : undefined),
      60_000,
      100,
    );
    const finals = [];
    for (const job of jobs) finals.push(await stack.waitFinal(project.key, job.id));
    const recoveryMs = Date.now() - redisEmptyAtMs;
    console.log(`${label}: ${jobs.length} jobs (${VIDEOS} videos parked, ${IMAGES} images), every unfinished job queued again after ${backInQueueMs} ms, all final ${recoveryMs} ms after Redis was empty`);

    expect(backInQueueMs).toBeLessThanOrEqual(2 * SWEEP_INTERVAL_MS + RECONNECT_SLACK_MS);
    expect(finals.map((job) => ({ id: job.id, status: job.status, error: job.error }))).toEqual(jobs.map((job) => ({ id: job.id, status: 'succeeded', error: null })));
    for (const job of jobs) {
      const events = await jobEvents(stack, project.key, job.id);
      expect({ id: job.id, finalEvents: events.filter((e) => TERMINAL_EVENTS.includes(e.type)).map((e) => e.type) }).toEqual({ id: job.id, finalEvents: ['job.succeeded'] });
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events[events.length - 1]?.type).toBe('job.succeeded');
    }
    // webhooks: the started and the final event of every job reach the receiver, and every delivery ends delivered
    const hookTypes = ['job.started', 'job.succeeded'];
    await receiver.waitFor('the started and succeeded webhooks of every job', (requests) =>
      jobs.every((job) => hookTypes.every((type) => requests.some((r) => r.json?.type === type && r.json?.data?.id === job.id))),
    );
    const deliveries = await pollUntil('every delivery recorded as succeeded', async () => {
      const all = (await Promise.all(jobs.map(async (job) => (await stack.api.get(`/v1/webhook-deliveries?job_id=${job.id}`, { key: project.key })).body.data))).flat();
      return all.every((d: { status: string }) => d.status === 'succeeded') ? all : undefined;
    });
    expect(deliveries).toHaveLength(jobs.length * hookTypes.length);

    for (const [i, job] of jobs.entries()) {
      if (!job.isVideo) continue;
      const submissions = await submissionsByKey(stack, job.prompt);
      expect({ id: job.id, attempts: submissions.attempts, taskIds: submissions.task_ids }).toEqual({ id: job.id, attempts: 1, taskIds: [finals[i].upstream.task_id] });
    }
  }

  it('recovers from FLUSHALL', async () => {
    const jobs = await submitMix('flushed');
    await redisServer.flushAll();
    await expectRecovery('FLUSHALL', jobs, Date.now());
  }, 120_000);

  it('recovers from a SIGKILLed Redis replaced by an empty one on the same port', async () => {
    const jobs = await submitMix('killed');
    await redisServer.restartEmpty();
    await expectRecovery('SIGKILL + empty restart', jobs, Date.now());
  }, 120_000);
});
