/**
 * The floor's worker: take a job id from BullMQ, call the gateway stand-in once, store the answer
 * with one UPDATE. No events, no artifacts, no outbox: the cost every job service pays at least.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { Agent, request } from 'undici';

const env = process.env;
const pool = new Pool({ connectionString: env['FLOOR_DATABASE_URL'], max: 10 });
const connection = new Redis(env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const gateway = `${env['UPSTREAM_BASE_URL']}/v1/images/generations`;
const dispatcher = new Agent({ connections: 128 });

const worker = new Worker(
  'floor-jobs',
  async (job) => {
    const { id, input } = job.data as { id: string; input: unknown };
    const res = await request(gateway, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-floor' },
      body: JSON.stringify(input),
    });
    const answer = (await res.body.json()) as { data?: unknown[] };
    await pool.query("UPDATE floor_jobs SET status = 'succeeded', output = $2, finished_at = now() WHERE id = $1", [
      id,
      { images: (answer.data ?? []).length },
    ]);
  },
  { connection, prefix: env['FLOOR_PREFIX'] ?? '{floor}', concurrency: Number(env['FLOOR_CONCURRENCY'] ?? 64) },
);
worker.on('ready', () => console.log('floor.worker.started'));
process.on('SIGTERM', () => {
  void worker.close().finally(() => void pool.end().finally(() => process.exit(0)));
});
