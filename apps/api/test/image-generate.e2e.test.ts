import { createHash } from 'node:crypto';
import type { Project, TestStack } from '@genqueue/testing';
import { useStack } from './helpers';

describe('image.generate end to end', () => {
  let stack: TestStack;
  let project: Project;
  useStack(async (started) => {
    stack = started;
    project = await stack.createProject();
  });

  it('runs the job and serves the artifact whose sha256 matches', async () => {
    const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a red fox in snow' } });
    expect(job.status).toBe('succeeded');
    expect(job.artifacts).toHaveLength(1);
    const artifact = job.artifacts[0];
    const res = await fetch(artifact.url);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
    expect(job.output.images[0].artifact_id).toBe(artifact.id);
  });
});
