import { ALL_QUEUE_NAMES, EMBEDDING_CHUNK_QUEUE, queuePrefix, WEBHOOK_DELIVER_QUEUE } from '@genqueue/queue';
import { freePort, HttpClient, PrivateRedisCluster, startTsProcess, TestStack, type ManagedProcess, type Project } from '@genqueue/testing';
import { jobEvents } from './helpers';
import { setTaskConfig, TASK_ENV, TERMINAL_EVENTS } from './tasks-helpers';
import { Receiver } from './webhooks-helpers';

/**
 * genqueue on a real 3-master Redis Cluster (issue 13, item 7): two API and two worker processes,
 * jobs of every family and webhooks through it. Each queue has a hash tag of its own, so the queues
 * spread over the shards while every BullMQ script finds its keys in one slot.
 */
const BODIES: Array<{ family: string; body: (n: number) => Record<string, unknown> }> = [
  { family: 'image', body: (n) => ({ type: 'image.generate', input: { prompt: `a clustered fox ${n}` } }) },
  { family: 'video', body: (n) => ({ type: 'video.generate', input: { prompt: `a clustered river ${n}` } }) },
  { family: 'mj', body: (n) => ({ type: 'mj.imagine', input: { prompt: `a clustered castle ${n}` } }) },
  { family: 'audio', body: (n) => ({ type: 'audio.speech', input: { input: `clustered words ${n}`, voice: 'alloy', response_format: 'wav' } }) },
  {
    family: 'embedding',
    body: (n) => ({
      type: 'embedding.batch',
      input: { model: 'text-embedding-3-small', inputs: Array.from({ length: 30 }, (_, i) => `clustered line ${n}.${i}`), dimensions: 8, chunk_size: 10 },
    }),
  },
];

describe('a Redis Cluster', () => {
  let cluster: PrivateRedisCluster;
  let stack: TestStack;
  let project: Project;
  let receiver: Receiver;
  let secondApi: ManagedProcess;
  let secondWorker: ManagedProcess;
  let apis: HttpClient[];

  beforeAll(async () => {
    [cluster, receiver] = await Promise.all([PrivateRedisCluster.start(3), Receiver.start()]);
    stack = await TestStack.start({ env: { ...TASK_ENV, REDIS_URL: cluster.url, LANE_EMBEDDING_RPM: '100000' } });
    const port = await freePort();
    secondApi = startTsProcess('api-2', 'apps/api/src/main.ts', { ...stack.env, PORT: String(port) }, stack.logDir);
    secondWorker = startTsProcess('worker-2', 'apps/worker/src/main.ts', stack.env, stack.logDir);
    await Promise.all([secondApi.waitForLine('api.listening', 60_000), secondWorker.waitForLine('worker.started', 60_000)]);
    apis = [stack.api, new HttpClient(`http://127.0.0.1:${port}`)];
    project = await stack.createProject({ requests_per_minute: 100_000 });
    await setTaskConfig(stack, { video_duration_ms: 60_000, mj_duration_ms: 60_000 });
    const endpoint = await stack.api.post('/v1/webhook-endpoints', { key: project.key, body: { url: receiver.target('/hooks'), event_types: ['job.succeeded', 'job.failed'] } });
    expect(endpoint.status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([secondApi?.stop(), secondWorker?.stop()]);
    await stack?.stop();
    await Promise.all([cluster?.stop(), receiver?.close()]);
  });

  it('runs jobs of every family through two APIs and two workers, with webhooks', async () => {
    const submitted: Array<{ id: string; family: string }> = [];
    for (let n = 0; n < 4; n += 1) {
      for (const { family, body } of BODIES) {
        const api = apis[(n + submitted.length) % 2]!;
        const res = await api.post('/v1/jobs', { key: project.key, body: body(n) });
        expect(res.status).toBe(202);
        submitted.push({ id: res.body.id, family });
      }
    }
    // each job read back through the other API than the one that took it
    for (const [i, job] of submitted.entries()) {
      const api = apis[(i + 1) % 2]!;
      let final: any;
      for (let tries = 0; tries < 6 && !final; tries += 1) {
        const res = await api.get(`/v1/jobs/${job.id}?wait=30`, { key: project.key });
        if (['succeeded', 'failed', 'canceled', 'expired'].includes(res.body.status)) final = res.body;
      }
      expect({ id: job.id, family: job.family, status: final?.status }).toEqual({ id: job.id, family: job.family, status: 'succeeded' });
      const events = await jobEvents(stack, project.key, job.id);
      expect(events.filter((e) => TERMINAL_EVENTS.includes(e.type)).map((e) => e.type)).toEqual(['job.succeeded']);
    }
    const succeededHooks = () => new Set(receiver.on('/hooks').filter((r) => r.json?.type === 'job.succeeded').map((r) => r.json.data.id));
    await receiver.waitFor(`${submitted.length} job.succeeded webhooks`, () => succeededHooks().size >= submitted.length, 60_000);
    expect([...succeededHooks()].sort()).toEqual(submitted.map((j) => j.id).sort());
  }, 240_000);

  it('spreads the queues over the shards, each queue within one slot', async () => {
    const prefix = String(stack.env['QUEUE_PREFIX']);
    const shards = await cluster.shards();
    const shardOf = (slot: number) => shards.find((s) => s.slots.some(([from, to]) => slot >= from && slot <= to))!.port;
    const placement: Record<string, number> = {};
    for (const name of [...ALL_QUEUE_NAMES, EMBEDDING_CHUNK_QUEUE, WEBHOOK_DELIVER_QUEUE]) {
      const base = queuePrefix(prefix, name);
      // every key family of one queue hashes to the same slot
      const slots = new Set(await Promise.all(['wait', 'active', 'delayed', 'meta', 'events', 'id', 'job_x'].map((k) => cluster.keySlot(`${base}:${name}:${k}`))));
      expect(slots.size).toBe(1);
      placement[name] = shardOf([...slots][0]!);
    }
    const used = new Set(Object.values(placement));
    process.stdout.write(`[cluster] queue → shard port: ${JSON.stringify(placement)}; shards: ${JSON.stringify(shards)}\n`);
    expect(used.size).toBeGreaterThanOrEqual(2);

    // and the keys the run left are really spread over the masters
    const keys = await cluster.keysByNode(`${prefix}:*`);
    const nodesWithKeys = [...keys.values()].filter((list) => list.length > 0).length;
    process.stdout.write(`[cluster] keys under ${prefix}: ${JSON.stringify(Object.fromEntries([...keys].map(([port, list]) => [port, list.length])))}\n`);
    expect(nodesWithKeys).toBeGreaterThanOrEqual(2);
  });
});
