import { findJobType, isGatewayTaskType, jobSpec, newId, VIDEO_REMIXABLE_JOB_TYPES, type JobInput } from '../src';

describe('video.remix in the catalog', () => {
  const parentId = newId('job');

  it('is a video gateway task on the video clocks', () => {
    const spec = jobSpec('video.remix');
    expect(spec).toMatchObject({ family: 'video', isGatewayTask: true });
    expect(spec.clocks).toEqual(jobSpec('video.generate').clocks);
    expect(isGatewayTaskType('video.remix')).toBe(true);
  });

  it('takes a parent job id and a prompt, trimmed, with no defaults added', () => {
    const parsed: JobInput<'video.remix'> = jobSpec('video.remix').input.parse({ parent_id: parentId, prompt: '  make it night  ' });
    expect(parsed).toEqual({ parent_id: parentId, prompt: 'make it night' });
  });

  it.each([
    ['no parent', { prompt: 'p' }, 'parent_id'],
    ['a parent that is not a job id', { parent_id: 'art_123', prompt: 'p' }, 'parent_id'],
    ['an empty prompt', { parent_id: parentId, prompt: '   ' }, 'prompt'],
    ['a field the gateway route does not take', { parent_id: parentId, prompt: 'p', seconds: '8' }, ''],
  ])('refuses %s', (_name, input, path) => {
    const result = findJobType('video.remix')?.input.safeParse(input);
    expect(result?.success).toBe(false);
    expect(result?.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });

  it('remixes only video jobs that carry a gateway video task', () => {
    expect([...VIDEO_REMIXABLE_JOB_TYPES].sort()).toEqual(['video.generate', 'video.remix']);
  });
});
