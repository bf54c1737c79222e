import { Client } from 'pg';
import { ArtifactsRepository, createPrismaClient, EmbeddingChunksRepository, JobsRepository } from '@genqueue/db';
import { expectedEmbedding } from '@genqueue/simulator';
import { LocalDirectoryStorage } from '@genqueue/storage';
import { TestStack } from '@genqueue/testing';
import { finaliseBatch } from '../src/embeddings/batch-finaliser';
import { armFault, artifactBytes, clearFaults, crashWorker, pollUntil, submit } from './helpers';

/** A worker killed in the middle of a batch: the chunks it held run again elsewhere, the batch completes exactly. */
describe('embedding.batch survives a worker crash', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ env: { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  async function succeededChunks(jobId: string): Promise<number> {
    const client = new Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT count(*)::int AS n FROM embedding_chunks WHERE job_id = $1 AND status = 'succeeded'", [jobId]);
      return rows[0].n as number;
    } finally {
      await client.end();
    }
  }

  it('SIGKILL mid-batch, a new worker finishes it with every line in place', async () => {
    const project = await stack.createProject();
    const inputs = Array.from({ length: 400 }, (_, i) => `recovery text ${i}`);
    await armFault(stack, { route: 'embeddings', kind: 'slow', delay_ms: 30_000, times: -1 });
    const job = await submit(stack, project.key, { type: 'embedding.batch', input: { inputs, dimensions: 4, chunk_size: 10 } });
    await pollUntil('two finished chunks', async () => ((await succeededChunks(job.id)) >= 2 ? true : undefined));
    await crashWorker(stack);
    await clearFaults(stack);
    await stack.startWorker();

    const final = await stack.waitFinal(project.key, job.id);
    expect(final.status).toBe('succeeded');
    expect(final.output).toMatchObject({ count: 400, succeeded: 400, failed: 0 });
    expect(await succeededChunks(job.id)).toBe(40);
    const lines = (await artifactBytes(stack, project.key, final.output.result.artifact_id)).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(400);
    lines.forEach((line, i) => expect(JSON.parse(line)).toEqual({ index: i, embedding: expectedEmbedding('text-embedding-3-small', inputs[i]!, 4) }));
  });

  it('a finaliser run again after the chunk files were removed (the worker died before recording success) keeps the artifacts', async () => {
    const project = await stack.createProject();
    const inputs = Array.from({ length: 40 }, (_, i) => (i === 13 ? 'this one says FAIL_CHUNK' : `finaliser text ${i}`));
    const job = await stack.runJob(project.key, { type: 'embedding.batch', input: { inputs, dimensions: 4, chunk_size: 10 } });
    expect(job.status).toBe('succeeded');
    expect(job.output).toMatchObject({ count: 40, succeeded: 30, failed: 10, errors: { artifact_id: expect.stringMatching(/^art_/) } });

    // the run that assembled the batch removed the chunk files; this is the run after a crash
    const prisma = createPrismaClient(stack.databaseUrl, { poolMax: 2 });
    try {
      const artifacts = new ArtifactsRepository(prisma);
      const before = (await artifacts.listForJob(job.id)).map((a) => a.id).sort();
      const row = await new JobsRepository(prisma, { webhookOutbox: null }).findById(job.id);
      const storage = new LocalDirectoryStorage(stack.env['STORAGE_DIR']!);
      const again = await finaliseBatch(row!, { chunks: new EmbeddingChunksRepository(prisma), artifacts, storage });
      expect(again).toEqual(job.output);
      expect((await artifacts.listForJob(job.id)).map((a) => a.id).sort()).toEqual(before);
    } finally {
      await prisma.$disconnect();
    }
  });
});
