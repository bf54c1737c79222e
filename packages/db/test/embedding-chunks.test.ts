import { JobsRepository } from '../src/repositories/jobs.repository';
import { EmbeddingChunksRepository } from '../src/repositories/embedding-chunks.repository';
import { ProjectsRepository } from '../src/repositories/projects.repository';
import { newJobInput, useMigratedDatabase } from './repository-fixtures';

/** The statements every embedding chunk runs (raw SQL on the pool): claim, success, counts, as Prisma answered them. */
describe('EmbeddingChunksRepository', () => {
  const prisma = useMigratedDatabase('genqueue_test_chunks', 3);
  const chunks = new EmbeddingChunksRepository(prisma);

  async function batchWithChunks(count: number): Promise<string> {
    const project = await new ProjectsRepository(prisma).create('chunks-1');
    const { job } = await new JobsRepository(prisma, { webhookOutbox: null }).create({ ...newJobInput(project.id, null, []), type: 'embedding.batch' });
    await chunks.createMany(job.id, Array.from({ length: count }, (_, index) => ({ index, firstInput: index * 10, inputCount: 10 })));
    return job.id;
  }

  it('claims an open chunk counting the attempt, marks it succeeded once, and counts final chunks', async () => {
    const jobId = await batchWithChunks(3);
    expect(await chunks.counts(jobId)).toEqual({ total: 3, finished: 0 });

    const claimed = await chunks.claim(jobId, 1);
    expect(claimed).toEqual(await prisma.embeddingChunk.findUnique({ where: { id: `${jobId}:1` } }));
    expect(claimed).toMatchObject({ jobId, index: 1, firstInput: 10, inputCount: 10, status: 'running', attempts: 1, resultKey: null, error: null });
    // a repeat after a crash claims it again (still open), counting one more attempt
    expect(await chunks.claim(jobId, 1)).toMatchObject({ status: 'running', attempts: 2 });

    await chunks.markFailed(jobId, 2, { code: 'upstream_error', message: 'no' });
    expect(await chunks.markSucceeded(jobId, 1, { resultKey: 'k/out-1.jsonl', promptTokens: 7, totalTokens: 9 })).toBe(true);
    expect(await chunks.markSucceeded(jobId, 1, { resultKey: 'other', promptTokens: 1, totalTokens: 1 })).toBe(false);
    expect(await chunks.markSucceeded(jobId, 2, { resultKey: 'late', promptTokens: 1, totalTokens: 1 })).toBe(false);
    expect(await chunks.find(jobId, 1)).toMatchObject({ status: 'succeeded', resultKey: 'k/out-1.jsonl', promptTokens: 7, totalTokens: 9, error: null });
    expect(await chunks.claim(jobId, 1)).toBeNull();
    expect(await chunks.counts(jobId)).toEqual({ total: 3, finished: 2 });
    expect(await chunks.counts('job_none')).toEqual({ total: 0, finished: 0 });
  });
});
