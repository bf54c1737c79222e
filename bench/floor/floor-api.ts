/**
 * The floor's API: the least a job service can do per submission on this stack (Express, pg,
 * BullMQ), with no genqueue code: parse JSON, insert a row, enqueue its id, answer 202.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { Pool } from 'pg';

const env = process.env;
const pool = new Pool({ connectionString: env['FLOOR_DATABASE_URL'], max: 10 });
const connection = new Redis(env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const queue = new Queue('floor-jobs', { connection, prefix: env['FLOOR_PREFIX'] ?? '{floor}' });

const app = express();
app.use(express.json({ limit: '1mb' }));
app.post('/jobs', async (req, res) => {
  const id = randomUUID();
  await pool.query('INSERT INTO floor_jobs (id, status, input) VALUES ($1, $2, $3)', [id, 'queued', req.body]);
  await queue.add('job', { id, input: req.body?.input ?? {} }, { jobId: id, removeOnComplete: true, removeOnFail: true });
  res.status(202).json({ id, status: 'queued' });
});
const server = app.listen(Number(env['PORT']), '127.0.0.1', () => console.log('floor.api.listening'));
server.keepAliveTimeout = 30_000;
process.on('SIGTERM', () => {
  server.close();
  void Promise.all([queue.close(), pool.end()]).finally(() => process.exit(0));
});
