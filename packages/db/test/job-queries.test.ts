import type { Job } from '../src/generated/prisma/client';
import { JobQueries, searchWords, type JobListFilter } from '../src/repositories/job-queries';
import { JobsRepository, type NewJob } from '../src/repositories/jobs.repository';
import { ProjectsRepository } from '../src/repositories/projects.repository';
import { newJobInput, useMigratedDatabase } from './repository-fixtures';

/** The admin history: filters, search through search_text, keyset pages and counts, on real Postgres. */
describe('JobQueries', () => {
  const prisma = useMigratedDatabase('genqueue_test_job_queries', 4);
  const jobs = new JobsRepository(prisma, { webhookOutbox: null });
  const queries = new JobQueries(prisma);
  const projects = new ProjectsRepository(prisma);
  let projectA: string;
  let projectB: string;
  const byName = new Map<string, Job>();

  const job = (projectId: string, type: string, input: unknown, metadata: Record<string, string> = {}): NewJob => ({
    ...newJobInput(projectId, null, []),
    type,
    input,
    metadata,
  });

  /** Every page of `filter`, `limit` at a time. */
  async function allPages(filter: JobListFilter, limit: number): Promise<Job[]> {
    const seen: Job[] = [];
    let cursor: string | null = null;
    do {
      const page = await queries.list(filter, limit, cursor);
      seen.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    return seen;
  }

  const ids = (list: Job[]) => list.map((j) => j.id);
  const names = (list: Job[]) => list.map((j) => [...byName].find(([, v]) => v.id === j.id)?.[0]).sort();

  beforeAll(async () => {
    projectA = (await projects.create('queries-a')).id;
    projectB = (await projects.create('queries-b')).id;
    const one = async (name: string, input: NewJob) => byName.set(name, (await jobs.create(input)).job);
    await one('fox', job(projectA, 'image.generate', { prompt: 'A Red FOX running through snow' }, { order: 'A-1', env: 'prod' }));
    await one('speech', job(projectA, 'audio.speech', { input: 'Hello snowy world', voice: 'alloy' }, { env: 'prod' }));
    await one('chat', job(projectB, 'media.chat', { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'draw a fox in 100% wool' }] }] }, { env: 'staging' }));
    await one('blend', job(projectB, 'mj.blend', { images: [{ url: 'https://x.test/1.png' }, { url: 'https://x.test/2.png' }] }));
    // a bulk submission: one created_at for all, so pages must break the tie by id
    const bulk = await jobs.createMany(Array.from({ length: 7 }, (_, i) => job(projectB, 'image.generate', { prompt: `bulk cat number${i}` }, { batch: 'b1' })));
    bulk.forEach((change, i) => byName.set(`bulk${i}`, change.job));
    const video = await jobs.create(job(projectA, 'video.generate', { prompt: 'a fox at sunset' }));
    await jobs.transition(video.job.id, 'running', { upstreamTaskId: 'video_68e1abc' });
    await jobs.transition(video.job.id, 'failed', { error: { code: 'upstream_error', message: 'x', retryable: true } });
    byName.set('video', (await jobs.findById(video.job.id))!);
  });

  it('lists newest first, every job once across pages, ties on created_at broken by id', async () => {
    const everything = await allPages({}, 3);
    expect(everything).toHaveLength(byName.size);
    expect(new Set(ids(everything)).size).toBe(byName.size);
    const sorted = [...everything].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    expect(ids(everything)).toEqual(ids(sorted));
    expect(ids(await allPages({ metadata: { batch: 'b1' } }, 2))).toEqual(ids(sorted.filter((j) => j.metadata && (j.metadata as Record<string, string>)['batch'] === 'b1')));
  });

  it('filters by project, type, one status or several, created range and metadata', async () => {
    expect(names(await allPages({ projectId: projectA }, 10))).toEqual(['fox', 'speech', 'video']);
    expect(names(await allPages({ type: 'media.chat' }, 10))).toEqual(['chat']);
    expect(names(await allPages({ status: 'failed' }, 10))).toEqual(['video']);
    expect((await allPages({ status: ['failed', 'queued'] }, 10)).length).toBe(byName.size);
    expect(names(await allPages({ status: ['failed', 'running'], projectId: projectA }, 10))).toEqual(['video']);
    expect(names(await allPages({ metadata: { env: 'prod' } }, 10))).toEqual(['fox', 'speech']);
    expect(names(await allPages({ metadata: { env: 'prod', order: 'A-1' } }, 10))).toEqual(['fox']);
    expect(await allPages({ metadata: { env: 'nowhere' } }, 10)).toEqual([]);
    const fox = byName.get('fox')!;
    expect(names(await allPages({ createdBefore: new Date(fox.createdAt.getTime() + 1), projectId: projectA }, 10))).toEqual(['fox']);
    expect(names(await allPages({ createdAfter: fox.createdAt, projectId: projectA }, 10))).toEqual(['speech', 'video']);
  });

  it('finds a job by its id, its upstream task id, or every word of its text input', async () => {
    expect(names((await queries.list({ q: byName.get('chat')!.id }, 10, null)).data)).toEqual(['chat']);
    expect(names((await queries.list({ q: ' video_68e1abc ' }, 10, null)).data)).toEqual(['video']);
    expect(names((await queries.list({ q: 'FOX' }, 10, null)).data)).toEqual(['chat', 'fox', 'video']);
    expect(names((await queries.list({ q: 'fox snow' }, 10, null)).data)).toEqual(['fox']);
    // words inside words, any case; the speech text is searched too
    expect(names((await queries.list({ q: 'SNOW' }, 10, null)).data)).toEqual(['fox', 'speech']);
    // a short word still has to appear ("in", and inside "running"), though not through the index
    expect(names((await queries.list({ q: 'fox in' }, 10, null)).data)).toEqual(['chat', 'fox']);
    expect(names((await queries.list({ q: 'number3 cat' }, 10, null)).data)).toEqual(['bulk3']);
    // LIKE's wildcards stand for themselves
    expect(names((await queries.list({ q: '100%' }, 10, null)).data)).toEqual(['chat']);
    expect((await queries.list({ q: '%' }, 10, null)).data.map((j) => j.id)).toEqual([byName.get('chat')!.id]);
    expect((await queries.list({ q: 'red_fox' }, 10, null)).data).toEqual([]);
    expect((await queries.list({ q: '   ' }, 100, null)).data).toHaveLength(byName.size);
    expect(names((await queries.list({ q: 'fox', projectId: projectB }, 10, null)).data)).toEqual(['chat']);
  });

  it('counts what list finds, from job_counts when the filter allows and from the rows otherwise', async () => {
    for (const filter of [{}, { projectId: projectB }, { status: ['failed', 'queued'] }, { type: 'image.generate', status: 'queued' }, { q: 'fox' }, { metadata: { env: 'prod' } }, { createdAfter: new Date(0), q: 'snow' }] as JobListFilter[]) {
      expect(await queries.count(filter)).toBe((await allPages(filter, 100)).length);
    }
  });

  it('splits a search into distinct lower-cased words', () => {
    expect(searchWords('  Fox\tfox  SNOW\n ')).toEqual(['fox', 'snow']);
  });
});
