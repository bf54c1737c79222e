import {
  cappedInput,
  EVENT_INPUT_MAX_BYTES,
  PublicArtifactSchema,
  PublicJobSchema,
  toEventSnapshot,
  toPublicArtifact,
  toPublicJob,
  withSignedArtifactUrls,
  type ArtifactRecord,
  type JobRecord,
} from '../src';

const created = new Date('2026-12-05T10:00:00.000Z');
const job = (over: Partial<JobRecord> = {}): JobRecord => ({
  id: 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW',
  projectId: 'prj_01JD7Q3V9XK6M2N4P8R0S5T7VW',
  type: 'image.generate',
  status: 'succeeded',
  input: { prompt: 'a fox', model: 'gpt-image-1', n: 1 },
  output: { images: [{ artifact_id: 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW' }] },
  error: null,
  progress: 100,
  attempts: 1,
  metadata: { order: 'A-1' },
  priority: 5,
  webhookUrl: 'https://example.org/hook',
  webhookEvents: ['job.succeeded'],
  upstreamTaskId: null,
  upstreamStatus: null,
  parentId: null,
  createdAt: created,
  startedAt: new Date('2026-12-05T10:00:00.120Z'),
  finishedAt: new Date('2026-12-05T10:00:09.000Z'),
  ...over,
});
const artifact: ArtifactRecord = {
  id: 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW',
  jobId: 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW',
  kind: 'image',
  contentType: 'image/png',
  bytes: 1234n,
  sha256: 'ab'.repeat(32),
  createdAt: created,
};
const sign = (id: string) => `https://gq.example.org/v1/artifacts/${id}/content?expires=1&sig=s`;

describe('toPublicJob', () => {
  it('is the wire shape: snake_case, ISO dates, the upstream pair, and what PublicJobSchema accepts', () => {
    const view = toPublicJob(job({ upstreamTaskId: 'task_9', upstreamStatus: 'SUCCESS', parentId: 'job_01JD7Q3V9XK6M2N4P8R0S5T7VX' }), [artifact], sign);
    expect(view).toEqual({
      id: 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW',
      object: 'job',
      type: 'image.generate',
      status: 'succeeded',
      progress: 100,
      input: { prompt: 'a fox', model: 'gpt-image-1', n: 1 },
      output: { images: [{ artifact_id: 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW' }] },
      error: null,
      artifacts: [
        {
          id: artifact.id,
          object: 'artifact',
          kind: 'image',
          content_type: 'image/png',
          bytes: 1234,
          sha256: 'ab'.repeat(32),
          url: sign(artifact.id),
        },
      ],
      metadata: { order: 'A-1' },
      webhook_url: 'https://example.org/hook',
      webhook_events: ['job.succeeded'],
      priority: 5,
      attempts: 1,
      upstream: { task_id: 'task_9', status: 'SUCCESS' },
      parent_id: 'job_01JD7Q3V9XK6M2N4P8R0S5T7VX',
      created_at: '2026-12-05T10:00:00.000Z',
      started_at: '2026-12-05T10:00:00.120Z',
      finished_at: '2026-12-05T10:00:09.000Z',
      pruned_at: null,
    });
    expect(PublicJobSchema.safeParse(view).success).toBe(true);
    expect(view).not.toHaveProperty('project_id');
    expect(view).not.toHaveProperty('projectId');
  });

  it('a queued job: no output, no error, null times, empty metadata, and still a valid PublicJob', () => {
    const view = toPublicJob(job({ status: 'queued', output: null, metadata: null, startedAt: null, finishedAt: null, progress: 0, attempts: 0 }), []);
    expect(view).toMatchObject({ status: 'queued', output: null, error: null, metadata: {}, started_at: null, finished_at: null, artifacts: [] });
    expect(PublicJobSchema.safeParse(view).success).toBe(true);
  });

  it('carries a failed job’s error and the time retention pruned it', () => {
    const error = { code: 'upstream_error', message: 'the gateway failed', retryable: true };
    const view = toPublicJob(job({ status: 'failed', output: null, error, prunedAt: new Date('2027-01-05T00:00:00.000Z') }), []);
    expect(view.error).toEqual(error);
    expect(view.pruned_at).toBe('2027-01-05T00:00:00.000Z');
    expect(PublicJobSchema.safeParse(view).success).toBe(true);
  });

  it('PublicJobSchema refuses an unknown status or error code (the document and the code agree)', () => {
    expect(PublicJobSchema.safeParse({ ...toPublicJob(job(), []), status: 'done' }).success).toBe(false);
    expect(PublicJobSchema.safeParse({ ...toPublicJob(job(), []), error: { code: 'oops', message: 'x', retryable: false } }).success).toBe(false);
  });
});

describe('artifacts and their links', () => {
  it('an artifact has a url only when a signer is given', () => {
    expect(toPublicArtifact(artifact)).not.toHaveProperty('url');
    expect(toPublicArtifact(artifact, sign).url).toBe(sign(artifact.id));
    expect(PublicArtifactSchema.safeParse(toPublicArtifact(artifact)).success).toBe(true);
  });

  it('event snapshots keep no links; withSignedArtifactUrls adds fresh ones without changing the snapshot', () => {
    const snapshot = toEventSnapshot(job(), [artifact]);
    expect(snapshot.artifacts[0]).not.toHaveProperty('url');
    const signed = withSignedArtifactUrls(snapshot, sign);
    expect(signed.artifacts.map((a) => a.url)).toEqual([sign(artifact.id)]);
    expect(snapshot.artifacts[0]).not.toHaveProperty('url');
    expect({ ...signed, artifacts: [] }).toEqual({ ...snapshot, artifacts: [] });
  });
});

describe('event snapshots cap the input', () => {
  it('keeps an input up to EVENT_INPUT_MAX_BYTES of JSON as it is', () => {
    const small = { prompt: 'a fox' };
    expect(cappedInput(small)).toBe(small);
    const exact = { p: 'x'.repeat(EVENT_INPUT_MAX_BYTES - JSON.stringify({ p: '' }).length) };
    expect(new TextEncoder().encode(JSON.stringify(exact)).length).toBe(EVENT_INPUT_MAX_BYTES);
    expect(cappedInput(exact)).toBe(exact);
  });

  it('replaces a larger one by {truncated, bytes}, counting UTF-8 bytes, not characters', () => {
    const oneOver = { p: 'x'.repeat(EVENT_INPUT_MAX_BYTES - JSON.stringify({ p: '' }).length + 1) };
    expect(cappedInput(oneOver)).toEqual({ truncated: true, bytes: EVENT_INPUT_MAX_BYTES + 1 });
    // 3,000 characters but 9,000 bytes
    const wide = { p: '€'.repeat(3000) };
    expect(cappedInput(wide)).toEqual({ truncated: true, bytes: 9000 + JSON.stringify({ p: '' }).length });
  });

  it('a snapshot is the public view with the input capped; the job view keeps the whole input', () => {
    const big = job({ input: { prompt: 'y'.repeat(20_000) } });
    expect(toEventSnapshot(big, []).input).toEqual({ truncated: true, bytes: 20_000 + JSON.stringify({ prompt: '' }).length });
    expect(toPublicJob(big, []).input).toEqual({ prompt: 'y'.repeat(20_000) });
    expect(cappedInput(undefined)).toBeUndefined();
  });
});
