import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestStack } from '@genqueue/testing';
import { eventually, FINAL_STATUSES, useStack } from './helpers';

/**
 * Secrets and prompts never reach a log, and a secret reaches no HTTP answer but the one that
 * shows it (issue 11): a whole stack at LOG_LEVEL=debug makes keys, secrets and jobs with
 * distinctive prompts (webhooks delivered, a refused prompt, a failed media fetch), then every
 * log line of the API, the worker and the simulator is searched for each, and every answer the
 * test received for each secret.
 */
const TAG = randomBytes(5).toString('hex');
const UPSTREAM_KEY = `sk-grep${randomBytes(16).toString('hex')}`;
const token = (name: string): string => `zq${TAG}${name}`;

describe('secrets and prompts stay out of logs and answers', () => {
  let stack: TestStack;
  let receiver: Server;
  let receiverUrl = '';
  let delivered = 0;
  useStack(
    (ready) => {
      stack = ready;
    },
    { env: { LOG_LEVEL: 'debug', UPSTREAM_API_KEY: UPSTREAM_KEY }, simulatorEnv: { SIMULATOR_API_KEY: UPSTREAM_KEY, LOG_LEVEL: 'debug' } },
  );

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url !== '/hook') return void res.writeHead(404).end();
        delivered += 1;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  /** Every answer the test received, with what it was. */
  const answers: Array<{ what: string; text: string }> = [];
  const call = async (what: string, method: 'get' | 'post', route: string, key: string, body?: unknown): Promise<any> => {
    const res = method === 'get' ? await stack.api.get(route, { key }) : await stack.api.post(route, { key, body: body ?? {} });
    answers.push({ what, text: res.text });
    return res;
  };

  it('finds none of them where they must not be', async () => {
    const admin = stack.adminKey;
    const project = await call('create project', 'post', '/admin/v1/projects', admin, { name: `grep-${TAG}` });
    expect(project.status).toBe(201);
    const projectKey = await call('create project key', 'post', `/admin/v1/projects/${project.body.id}/api-keys`, admin, { name: 'grep' });
    expect(projectKey.status).toBe(201);
    const key: string = projectKey.body.key;
    const adminKey = await call('create admin key', 'post', '/admin/v1/admin-keys', admin, { name: `grep-${TAG}` });
    expect(adminKey.status).toBe(201);
    const endpoint = await call('create endpoint', 'post', '/v1/webhook-endpoints', key, { url: receiverUrl, description: 'grep' });
    expect(endpoint.status).toBe(201);
    const rotated = await call('rotate endpoint secret', 'post', `/v1/webhook-endpoints/${endpoint.body.id}/rotate-secret`, key);
    expect(rotated.status).toBe(200);
    const projectSecret = await call('reveal project webhook secret', 'get', '/v1/webhook-secret', key);
    expect(projectSecret.status).toBe(200);

    const secrets: Array<{ name: string; value: string; shownBy: string | null }> = [
      { name: 'ADMIN_API_KEY', value: admin, shownBy: null },
      { name: 'UPSTREAM_API_KEY', value: UPSTREAM_KEY, shownBy: null },
      { name: 'project key', value: key, shownBy: 'create project key' },
      { name: 'admin key made by route', value: adminKey.body.key, shownBy: 'create admin key' },
      { name: 'endpoint secret', value: endpoint.body.secret, shownBy: 'create endpoint' },
      { name: 'rotated endpoint secret', value: rotated.body.secret, shownBy: 'rotate endpoint secret' },
      { name: 'project webhook secret', value: projectSecret.body.secret, shownBy: 'reveal project webhook secret' },
    ];
    for (const secret of secrets) expect(secret.value).toMatch(/^(gq|sk-|whsec_)/);

    const prompts = {
      image: token('image'),
      chat: token('chat'),
      speech: token('speech'),
      embedding: token('embed'),
      refused: token('refused'),
      media: token('media'),
    };
    const jobs = [
      { type: 'image.generate', input: { prompt: `a lighthouse by ${prompts.image}` }, webhook_url: receiverUrl },
      { type: 'media.chat', input: { model: 'gpt-4o', messages: [{ role: 'user', content: `tell me about ${prompts.chat}` }] } },
      { type: 'audio.speech', input: { input: `say ${prompts.speech}`, voice: 'alloy' } },
      { type: 'embedding.batch', input: { inputs: [`first ${prompts.embedding}`, `second ${prompts.embedding}`] } },
      // refused by the gateway (a banned word): the error path
      { type: 'image.generate', input: { prompt: `something forbidden ${prompts.refused}` }, webhook_url: receiverUrl },
      // a media input that cannot be fetched: the media error path
      { type: 'image.edit', input: { prompt: `edit ${prompts.media}`, images: [{ url: `${receiverUrl.replace('/hook', '/missing.png')}` }] } },
    ];
    const ids: string[] = [];
    for (const [i, body] of jobs.entries()) {
      const res = await call(`submit job ${i}`, 'post', '/v1/jobs', key, body);
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    for (const id of ids) {
      const job = await eventually(() => call(`wait ${id}`, 'get', `/v1/jobs/${id}?wait=20`, key), (res) => FINAL_STATUSES.includes(res.body.status), 90_000, `job ${id} final`);
      expect(FINAL_STATUSES).toContain(job.body.status);
    }
    const statuses = await Promise.all(ids.map(async (id) => (await call(`read ${id}`, 'get', `/v1/jobs/${id}`, key)).body.status));
    expect(statuses).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'failed']);
    // per-job webhooks (2 jobs × started and final) and the endpoint's deliveries went out, signed
    await eventually(async () => delivered, (n) => n >= 4, 30_000, 'webhooks delivered');
    // reads that list what was made
    await call('list endpoints', 'get', '/v1/webhook-endpoints', key);
    await call('list deliveries', 'get', '/v1/webhook-deliveries', key);
    await call('list admin keys', 'get', '/admin/v1/admin-keys', admin);
    await call('list project keys', 'get', `/admin/v1/projects/${project.body.id}/api-keys`, admin);
    await call('admin job search', 'get', `/admin/v1/jobs?q=${prompts.image}`, admin);
    await call('list jobs', 'get', '/v1/jobs', key);

    const logFiles = readdirSync(stack.logDir).filter((f) => f.endsWith('.log'));
    expect(logFiles.sort()).toEqual(['api.log', 'simulator.log', 'worker.log']);
    const lines = logFiles.flatMap((file) => readFileSync(path.join(stack.logDir, file), 'utf8').split('\n').map((line) => ({ file, line })));
    // the logs were written: every request the API served, the failed runs the worker met
    expect(lines.filter((l) => l.file === 'api.log' && l.line.includes('/v1/jobs')).length).toBeGreaterThan(jobs.length);
    expect(lines.some((l) => l.file === 'worker.log' && l.line.includes(ids[4]!))).toBe(true);

    const found: string[] = [];
    for (const { name, value } of [...secrets, ...Object.entries(prompts).map(([name, value]) => ({ name: `prompt ${name}`, value }))]) {
      for (const { file, line } of lines) if (line.includes(value)) found.push(`${name} in ${file}: ${line.slice(0, 300)}`);
    }
    for (const secret of secrets) {
      for (const answer of answers) {
        if (answer.what !== secret.shownBy && answer.text.includes(secret.value)) found.push(`${secret.name} in the answer to "${answer.what}"`);
      }
      if (secret.shownBy) expect(answers.find((a) => a.what === secret.shownBy)?.text).toContain(secret.value);
    }
    expect(found).toEqual([]);
  }, 240_000);
});
