import { z } from 'zod';
import {
  findJobType,
  isGatewayTaskType,
  isJobType,
  jobSpec,
  JOB_FAMILIES,
  JOB_TYPE_NAMES,
  JOB_TYPES,
  JOB_WEBHOOK_EVENT_TYPES,
  JOB_EVENT_TYPES,
  type JobInput,
  type JobType,
} from '../src';

describe('the job catalog', () => {
  it('names each type once', () => {
    expect(new Set(JOB_TYPE_NAMES).size).toBe(JOB_TYPES.length);
    expect(JOB_TYPE_NAMES).toEqual(JOB_TYPES.map((spec) => spec.type));
  });

  it.each(JOB_TYPES.map((spec) => [spec.type, spec] as const))('%s has a family, a schema and ordered clocks', (type, spec) => {
    expect(type).toMatch(/^[a-z]+\.[a-z_]+$/);
    expect(JOB_FAMILIES).toContain(spec.family);
    expect(spec.input).toBeInstanceOf(z.ZodType);
    expect(typeof spec.isGatewayTask).toBe('boolean');
    const { ttlSec, inactivitySec, deadlineSec } = spec.clocks;
    for (const sec of [ttlSec, inactivitySec, deadlineSec]) expect(Number.isInteger(sec) && sec > 0).toBe(true);
    expect(inactivitySec).toBeLessThanOrEqual(deadlineSec);
  });

  it('has the gateway tasks of the video and mj families, and only those', () => {
    const tasks = JOB_TYPES.filter((spec) => spec.isGatewayTask).map((spec) => spec.type);
    expect(tasks.sort()).toEqual(['mj.action', 'mj.blend', 'mj.describe', 'mj.imagine', 'mj.modal', 'video.generate', 'video.remix']);
    for (const spec of JOB_TYPES) expect(spec.isGatewayTask).toBe(spec.family === 'video' || spec.family === 'mj');
    expect(isGatewayTaskType('video.generate')).toBe(true);
    expect(isGatewayTaskType('image.generate')).toBe(false);
    expect(isGatewayTaskType('video.')).toBe(false);
  });

  it('gives every family at least one type', () => {
    for (const family of JOB_FAMILIES) expect(JOB_TYPES.some((spec) => spec.family === family)).toBe(true);
  });

  it('tells job types from other strings', () => {
    expect(isJobType('mj.imagine')).toBe(true);
    expect(isJobType('embedding.batch')).toBe(true);
    for (const other of ['', 'mj', 'mj.', 'MJ.IMAGINE', 'image.generate ', 'toString', '__proto__']) expect(isJobType(other)).toBe(false);
    expect(findJobType('toString')).toBeUndefined();
    expect(findJobType('audio.speech')?.family).toBe('audio');
  });

  it('fills in the defaults when an input is parsed, typed as the stored input', () => {
    const parsed: JobInput<'video.generate'> = jobSpec('video.generate').input.parse({ prompt: 'a wave' });
    expect(parsed).toEqual({ prompt: 'a wave', model: 'sora-2', seconds: '4', size: '720x1280' });
    const batch = findJobType('embedding.batch')?.input.parse({ inputs: ['a'] });
    expect(batch).toEqual({ model: 'text-embedding-3-small', inputs: ['a'], chunk_size: 100 });
    const speech = findJobType('audio.speech')?.input.parse({ input: 'hi', voice: 'alloy' });
    expect(speech).toEqual({ input: 'hi', voice: 'alloy', model: 'tts-1', response_format: 'mp3' });
  });

  it('lists as webhook events the job events other than created and retried', () => {
    expect([...JOB_WEBHOOK_EVENT_TYPES]).toEqual(JOB_EVENT_TYPES.filter((t) => t !== 'job.created' && t !== 'job.retried'));
  });
});

// Compile-time: the literal union is kept (a widened `string` would make these assignments pass).
const known: JobType = 'mj.imagine';
// @ts-expect-error not a job type
const unknown: JobType = 'mj.unknown';
void [known, unknown];
