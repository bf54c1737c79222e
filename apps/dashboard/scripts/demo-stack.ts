/**
 * A throwaway genqueue with a varied history, for looking at the dashboard by hand:
 *   npx tsx apps/dashboard/scripts/demo-stack.ts
 * prints the dashboard URL and the admin key, and runs until Ctrl-C (the database is dropped).
 */
import { createServer } from 'node:http';
import { TestStack } from '@genqueue/testing';

async function main(): Promise<void> {
  process.env['GENQUEUE_TEST_DATABASE_URL'] ??= 'postgresql://postgres@127.0.0.1:5432/genqueue_dashboard_demo';
  let hookCalls = 0;
  const hooks = createServer((req, res) => {
    hookCalls += 1;
    req.resume();
    // every third call fails, so the deliveries page has something red
    res.writeHead(hookCalls % 3 === 0 ? 500 : 200, { 'content-type': 'application/json' }).end(hookCalls % 3 === 0 ? '{"error":"db locked"}' : '{"ok":true}');
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hooks`;

  const stack = await TestStack.start({ env: { TASK_POLL_MIN_MS: '200', TASK_POLL_MAX_MS: '500', WEBHOOK_RETRY_SCHEDULE_MS: '2000,60000' } });
  const shop = await stack.createProject();
  const studio = await stack.createProject({ max_running_jobs: 4 });
  await stack.api.post('/v1/webhook-endpoints', { key: shop.key, body: { url: hookUrl, description: 'order service' } });

  const prompts = ['a lighthouse at dusk, oil painting', 'a red fox running through snow', 'isometric city block at night', 'macro photo of a dew drop on a leaf', 'retro poster of a rocket launch'];
  const runs: Array<Promise<unknown>> = [];
  for (const [i, prompt] of prompts.entries()) {
    runs.push(stack.runJob(shop.key, { type: 'image.generate', input: { prompt, n: i === 0 ? 2 : 1 }, metadata: { order: `A-10${i}` }, webhook_url: hookUrl }));
  }
  runs.push(stack.runJob(studio.key, { type: 'video.generate', input: { prompt: 'a paper boat drifting down a rainy street', seconds: '4' } }));
  runs.push(stack.runJob(studio.key, { type: 'audio.speech', input: { input: 'Your order has shipped and will arrive on Tuesday.', voice: 'alloy', response_format: 'wav' } }));
  runs.push(stack.runJob(studio.key, { type: 'embedding.batch', input: { inputs: ['alpha', 'beta', 'gamma', 'delta'], dimensions: 8 } }));
  runs.push(stack.runJob(studio.key, { type: 'mj.imagine', input: { prompt: 'a castle in the clouds --ar 16:9' } }));
  runs.push(stack.runJob(shop.key, { type: 'image.generate', input: { prompt: 'a forbidden picture' } }));
  runs.push(stack.runJob(studio.key, { type: 'video.generate', input: { prompt: 'sim:fail a glitchy video', seconds: '4' } }));
  await Promise.all(runs);
  const speech = await stack.api.get('/v1/jobs?type=audio.speech', { key: studio.key });
  const audioArtifact = speech.body.data[0]?.output?.audio?.artifact_id;
  if (audioArtifact) await stack.runJob(studio.key, { type: 'audio.transcribe', input: { audio: { artifact_id: audioArtifact }, response_format: 'srt' } });
  // a long video left running, and some queued behind it
  await stack.sim.post('/_sim/tasks/config', { body: { video_duration_ms: 3_600_000 } });
  await stack.api.post('/v1/jobs', { key: studio.key, body: { type: 'video.generate', input: { prompt: 'a slow sunrise timelapse', seconds: '8' } } });

  console.log(`\nDashboard: ${stack.apiUrl}/admin/\nAdmin key: ${stack.adminKey}\n`);
  const stop = async () => {
    await stack.stop();
    hooks.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
