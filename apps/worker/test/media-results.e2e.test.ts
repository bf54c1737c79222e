import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Project, TestStack } from '@genqueue/testing';
import { useStack } from './helpers';
import { simTask, TASK_ENV } from './tasks-helpers';

const MIB = 1024 * 1024;

/** /proc/<pid>/status fields in bytes (VmRSS: now, VmHWM: the peak since the last reset). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Sets the process's peak RSS back to its current RSS (Linux: "5" to clear_refs). */
const resetPeak = (pid: number): void => writeFileSync(`/proc/${pid}/clear_refs`, '5');

const fileSha256 = (file: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

/**
 * Results (video content, MJ images, gateway image URLs) stream from the gateway into storage
 * within the per-object cap and the run's media budget (MEDIA_JOB_MAX_BYTES): never held whole, and
 * a result over the budget fails the job with no file and no artifact left.
 */
describe('media results stream into storage within the job budget', () => {
  let stack: TestStack;
  let project: Project;
  useStack((started) => ({ stack, project } = started), { env: { ...TASK_ENV, MEDIA_JOB_MAX_BYTES: String(62 * MIB) } });

  const workerPid = (): number => stack.worker!.child.pid as number;
  const storedFiles = (projectId: string): string[] => {
    const dir = path.join(String(stack.env['STORAGE_DIR']), 'artifacts', projectId);
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  const video = (prompt: string): Promise<any> =>
    stack.runJob(project.key, { type: 'video.generate', input: { prompt, model: 'sora-2', seconds: '4', size: '1280x720' } });

  it('stores a 60 MiB video byte for byte with its sha256 while the worker RSS grows far less than the file', async () => {
    // a small video first, so the path's code is loaded and compiled before the measure
    const warmUp = await video('a warm-up clip of a quiet street');
    expect(warmUp.error).toBeNull();
    expect(warmUp.status).toBe('succeeded');

    const pid = workerPid();
    resetPeak(pid);
    const before = memoryOf(pid);
    const job = await video('one long take over a frozen lake sim:mib=60');
    const after = memoryOf(pid);

    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    const [artifact] = job.artifacts;
    const task = await simTask(stack, job.upstream.task_id);
    expect(task.result.bytes).toBe(60 * MIB);
    expect(artifact).toMatchObject({ kind: 'video', content_type: 'video/mp4', bytes: 60 * MIB, sha256: task.result.sha256 });
    const files = storedFiles(project.id).filter((f) => f.startsWith(artifact.id));
    expect(files).toHaveLength(1);
    expect(await fileSha256(path.join(String(stack.env['STORAGE_DIR']), 'artifacts', project.id, files[0] as string))).toBe(task.result.sha256);

    const growth = after.peak - before.rss;
    process.stdout.write(`media-results: 60 MiB video, worker RSS ${(before.rss / MIB).toFixed(1)} MiB -> peak ${(after.peak / MIB).toFixed(1)} MiB (+${(growth / MIB).toFixed(1)} MiB)\n`);
    // buffered whole, the file is held twice (its chunks, then their concatenation): up to 120 MiB. Streamed,
    // what grows is 64 KiB chunks not yet collected (0.3 to 29 MiB seen), whatever the file's size
    expect(growth).toBeLessThan(40 * MIB);
  }, 180_000);

  it('fails a video over the job media budget with the budget error, leaving no file and no artifact', async () => {
    const own = await stack.createProject();
    const job = await stack.runJob(own.key, { type: 'video.generate', input: { prompt: 'a very long take sim:mib=63', model: 'sora-2', seconds: '4', size: '1280x720' } });

    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'invalid_input', retryable: false });
    expect(job.error.message).toMatch(/over its budget of 65011712 bytes \(MEDIA_JOB_MAX_BYTES\)/);
    expect(job.artifacts).toEqual([]);
    expect(storedFiles(own.id)).toEqual([]);
  }, 180_000);

  describe('with a budget of one and a half images', () => {
    const twoImages = { type: 'image.generate', input: { prompt: 'two paper boats on a pond', model: 'gpt-image-1', n: 2 } };
    let budget = 0;
    beforeAll(async () => {
      // the simulator's images are deterministic: the same request within the current (62 MiB) budget gives their sizes
      const probe = await stack.runJob(project.key, twoImages);
      const [first, second] = probe.artifacts.map((a: any) => a.bytes as number);
      budget = (first as number) + Math.floor((second as number) / 2);
      await stack.stopWorker();
      await stack.startWorker({ MEDIA_JOB_MAX_BYTES: String(budget) });
    }, 120_000);

    it('counts every image of a run against the budget: the second of n=2 fails the job and leaves no file of its own', async () => {
      const own = await stack.createProject();
      const job = await stack.runJob(own.key, twoImages);

      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'invalid_input', retryable: false });
      expect(job.error.message).toMatch(new RegExp(`over its budget of ${budget} bytes`));
      // the first image was complete when the second went over: its file is the only one (a failed job's
      // artifacts are detached, then taken by retention), no partial file of the second
      expect(job.artifacts.length).toBeLessThanOrEqual(1);
      expect(storedFiles(own.id)).toEqual([expect.stringMatching(/^[^.]+\.png$/)]);
    }, 120_000);
  });

  describe('with a budget smaller than one image', () => {
    beforeAll(async () => {
      await stack.stopWorker();
      await stack.startWorker({ MEDIA_JOB_MAX_BYTES: '100' });
    }, 120_000);

    it('fails a Midjourney image over the budget, leaving no file and no artifact', async () => {
      const own = await stack.createProject();
      const job = await stack.runJob(own.key, { type: 'mj.imagine', input: { prompt: 'a brass owl on a shelf' } });

      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'invalid_input', retryable: false });
      expect(job.error.message).toMatch(/over its budget of 100 bytes/);
      expect(job.artifacts).toEqual([]);
      expect(storedFiles(own.id)).toEqual([]);
    }, 120_000);

    it('fails a gateway image URL over the budget, leaving no file and no artifact', async () => {
      const own = await stack.createProject();
      const job = await stack.runJob(own.key, { type: 'image.generate', input: { prompt: 'a lighthouse at dusk', model: 'dall-e-3', size: '1024x1024' } });

      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'invalid_input', retryable: false });
      expect(job.error.message).toMatch(/over its budget of 100 bytes/);
      expect(job.artifacts).toEqual([]);
      expect(storedFiles(own.id)).toEqual([]);
    }, 120_000);
  });
});
