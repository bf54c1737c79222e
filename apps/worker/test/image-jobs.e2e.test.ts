import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestStack, type Project } from '@genqueue/testing';
import { artifactBytes, counterDelta, expectedSha, routeCounter, sha256 } from './helpers';

/** The image job families end to end: API → queue → worker → simulator → storage → API. */
describe('image job families end to end', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const newProject = (): Promise<Project> => stack.createProject();

  /** The artifact of each `output.images` entry, in order, checked against the job's artifact list. */
  function imagesOf(job: any): any[] {
    expect(Array.isArray(job.output?.images)).toBe(true);
    return job.output.images.map((image: any) => {
      const artifact = job.artifacts.find((a: any) => a.id === image.artifact_id);
      expect(artifact).toBeDefined();
      return artifact;
    });
  }

  describe('image.generate', () => {
    it('stores the b64_json image of gpt-image-1 byte for byte, with snake_case usage', async () => {
      const project = await newProject();
      const prompt = 'a red fox running through fresh snow';
      const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt, model: 'gpt-image-1' } });

      expect(job.status).toBe('succeeded');
      expect(job.error).toBeNull();
      expect(job.progress).toBe(100);
      expect(job.artifacts).toHaveLength(1);
      const [artifact] = imagesOf(job);
      expect(artifact).toMatchObject({ kind: 'image', content_type: 'image/png' });
      expect(artifact.sha256).toBe(await expectedSha(stack, 'gpt-image-1', prompt, 0));
      const bytes = await artifactBytes(stack, project.key, artifact.id);
      expect(sha256(bytes)).toBe(artifact.sha256);
      expect(bytes.length).toBe(artifact.bytes);
      expect(job.output.images[0]).not.toHaveProperty('revised_prompt');

      expect(job.output.usage).toEqual({
        input_tokens: expect.any(Number),
        output_tokens: expect.any(Number),
        total_tokens: expect.any(Number),
      });
      expect(job.output.usage.total_tokens).toBe(job.output.usage.input_tokens + job.output.usage.output_tokens);
    });

    it('downloads the URL answer of dall-e-3 and keeps its revised_prompt', async () => {
      const project = await newProject();
      const prompt = 'a lighthouse on a cliff at dusk';
      const blobsBefore = await routeCounter(stack, 'blobs');
      const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt, model: 'dall-e-3', size: '1024x1024' } });

      expect(job.status).toBe('succeeded');
      const [artifact] = imagesOf(job);
      expect(artifact.sha256).toBe(await expectedSha(stack, 'dall-e-3', prompt, 0));
      expect(job.output.images[0].revised_prompt).toBe(`A detailed, high quality picture of ${prompt}`);
      expect(job.output).not.toHaveProperty('usage');
      // the image was fetched from the gateway's CDN link, once
      expect(counterDelta(blobsBefore, await routeCounter(stack, 'blobs'))).toEqual({ received: 1, statuses: { '200': 1 } });
    });

    it('stores every image of n=2, in order', async () => {
      const project = await newProject();
      const prompt = 'two paper boats on a pond';
      const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt, n: 2 } });

      expect(job.status).toBe('succeeded');
      expect(job.output.images).toHaveLength(2);
      expect(job.artifacts).toHaveLength(2);
      const artifacts = imagesOf(job);
      expect(new Set(artifacts.map((a) => a.id)).size).toBe(2);
      expect(artifacts.map((a) => a.sha256)).toEqual([
        await expectedSha(stack, 'gpt-image-1', prompt, 0),
        await expectedSha(stack, 'gpt-image-1', prompt, 1),
      ]);
    });
  });

  describe('image.edit', () => {
    it('sends a file, an artifact and a URL as image parts (and an artifact as mask)', async () => {
      const project = await newProject();

      // an artifact of an earlier job
      const earlier = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'edit source: a teapot' } });
      expect(earlier.status).toBe('succeeded');
      const artifactId: string = earlier.artifacts[0].id;
      const artifactPng = await artifactBytes(stack, project.key, artifactId);

      // an uploaded file (a different picture)
      const other = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'edit source: a cup' } });
      const filePng = await artifactBytes(stack, project.key, other.artifacts[0].id);
      const form = new FormData();
      form.append('purpose', 'image');
      form.append('file', new Blob([filePng], { type: 'image/png' }), 'cup.png');
      const uploaded = await stack.api.post('/v1/files', { key: project.key, rawBody: form });
      expect(uploaded.status).toBe(201);
      expect(uploaded.body.sha256).toBe(sha256(filePng));

      // a URL served by the gateway's CDN (a dall-e link made directly on the simulator)
      const direct = await stack.sim.post('/v1/images/generations', {
        key: 'sk-test',
        body: { model: 'dall-e-2', prompt: 'edit source: a spoon', size: '256x256' },
      });
      expect(direct.status).toBe(200);
      // a tenant's URL on the gateway's own origin is refused: this one names the same blob on the CDN's
      const url: string = direct.body.data[0].url.replace('http://127.0.0.1:', 'http://localhost:');
      const urlPng = Buffer.from(await (await fetch(url)).arrayBuffer());

      const prompt = 'put them all on one table';
      const job = await stack.runJob(project.key, {
        type: 'image.edit',
        input: {
          prompt,
          images: [{ file_id: uploaded.body.id }, { artifact_id: artifactId }, { url }],
          mask: { artifact_id: artifactId },
        },
      });
      expect(job.status).toBe('succeeded');

      const uploads = (await stack.sim.get('/_sim/uploads')).body.uploads.filter((u: any) => u.fields.prompt === prompt);
      expect(uploads).toHaveLength(1);
      const [upload] = uploads;
      expect(upload.fields).toMatchObject({ model: 'gpt-image-1', prompt, n: '1' });
      const inputs = [filePng, artifactPng, urlPng];
      expect(upload.files).toEqual([
        ...inputs.map((png) => expect.objectContaining({ field: 'image', content_type: 'image/png', bytes: png.length, sha256: sha256(png) })),
        expect.objectContaining({ field: 'mask', bytes: artifactPng.length, sha256: sha256(artifactPng) }),
      ]);
      expect(upload.files[0].filename).toBe('cup.png');

      const [artifact] = imagesOf(job);
      expect(artifact.sha256).toBe(await expectedSha(stack, 'gpt-image-1', prompt, 0, inputs.map(sha256)));
      expect(job.output.usage).toEqual(expect.objectContaining({ input_tokens: expect.any(Number) }));
    });

    it('fails as invalid_input, without an edit call, when an input URL is gone', async () => {
      const project = await newProject();
      const before = await routeCounter(stack, 'images.edits');
      const url = `${stack.simulatorUrl}/_sim/blobs/img_doesnotexist.png`;
      const job = await stack.runJob(project.key, { type: 'image.edit', input: { prompt: 'edit a ghost', images: [{ url }] } });

      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'invalid_input', retryable: false });
      expect(job.error.message).toContain(new URL(url).host);
      expect(counterDelta(before, await routeCounter(stack, 'images.edits')).received).toBe(0);
    });
  });

  describe('image.gemini', () => {
    it('keeps the text and stores the inline image', async () => {
      const project = await newProject();
      const prompt = 'a bowl of ramen, studio light';
      const job = await stack.runJob(project.key, { type: 'image.gemini', input: { prompt, aspect_ratio: '16:9' } });

      expect(job.status).toBe('succeeded');
      expect(job.output.text).toBe(`Here is the image you asked for: ${prompt}`);
      const [artifact] = imagesOf(job);
      expect(artifact.content_type).toBe('image/png');
      expect(artifact.sha256).toBe(await expectedSha(stack, 'gemini-2.5-flash-image', prompt, 0));
      expect(job.output.usage).toEqual({ prompt_tokens: expect.any(Number), candidates_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    });

    it('sends input images inline', async () => {
      const project = await newProject();
      const earlier = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'gemini source: a kite' } });
      const png = await artifactBytes(stack, project.key, earlier.artifacts[0].id);
      const prompt = 'make the kite red';
      const job = await stack.runJob(project.key, {
        type: 'image.gemini',
        input: { prompt, images: [{ artifact_id: earlier.artifacts[0].id }] },
      });
      expect(job.status).toBe('succeeded');
      const [artifact] = imagesOf(job);
      expect(artifact.sha256).toBe(await expectedSha(stack, 'gemini-2.5-flash-image', prompt, 0, [sha256(png)]));
    });

    it('fails a banned prompt as upstream_rejected, naming the finish reason, without retrying', async () => {
      const project = await newProject();
      const before = await routeCounter(stack, 'gemini.generate');
      const job = await stack.runJob(project.key, { type: 'image.gemini', input: { prompt: 'something forbidden' } });

      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'upstream_rejected', retryable: false });
      expect(job.error.message).toContain('IMAGE_SAFETY');
      expect(job.artifacts).toEqual([]);
      expect(counterDelta(before, await routeCounter(stack, 'gemini.generate')).received).toBe(1);
    });

    it('fails a text-only answer', async () => {
      const project = await newProject();
      const job = await stack.runJob(project.key, { type: 'image.gemini', input: { prompt: 'answer in text only please' } });
      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'upstream_rejected', retryable: false });
      expect(job.error.message).toContain('STOP');
      expect(job.artifacts).toEqual([]);
    });
  });

  describe('media.chat', () => {
    let htmlServer: Server;
    let htmlHits = 0;
    let htmlUrl = '';

    beforeAll(async () => {
      htmlServer = createServer((_req, res) => {
        htmlHits += 1;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html><body>not an image</body></html>');
      });
      await new Promise<void>((resolve) => htmlServer.listen(0, '127.0.0.1', resolve));
      htmlUrl = `http://127.0.0.1:${(htmlServer.address() as AddressInfo).port}/page.html`;
    });

    afterAll(async () => {
      await new Promise((resolve) => htmlServer.close(resolve));
    });

    it('stores the data: image of a Gemini image model and leaves no base64 in the text', async () => {
      const project = await newProject();
      const prompt = 'draw a cat wearing a hat';
      const job = await stack.runJob(project.key, {
        type: 'media.chat',
        input: { model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: prompt }] },
      });

      expect(job.status).toBe('succeeded');
      expect(job.output.media).toHaveLength(1);
      const artifactId = job.output.media[0].artifact_id;
      const artifact = job.artifacts.find((a: any) => a.id === artifactId);
      expect(artifact.sha256).toBe(await expectedSha(stack, 'gemini-2.5-flash-image', prompt, 0));
      expect(job.output.text).toContain('Here is your image:');
      expect(job.output.text).toContain(artifactId);
      expect(job.output.text).not.toMatch(/base64|iVBORw0KGgo/);
      expect(job.output.text.length).toBeLessThan(200);
      expect(job.output.usage).toEqual({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    });

    it('downloads the link printed by gpt-4o-image', async () => {
      const project = await newProject();
      const prompt = 'a watercolor of a harbor';
      const blobsBefore = await routeCounter(stack, 'blobs');
      const job = await stack.runJob(project.key, {
        type: 'media.chat',
        input: { model: 'gpt-4o-image', messages: [{ role: 'user', content: prompt }] },
      });

      expect(job.status).toBe('succeeded');
      expect(job.output.media).toHaveLength(1);
      const artifact = job.artifacts.find((a: any) => a.id === job.output.media[0].artifact_id);
      expect(artifact).toMatchObject({ kind: 'image', content_type: 'image/png' });
      expect(artifact.sha256).toBe(await expectedSha(stack, 'gpt-4o-image', prompt, 0));
      // the simulated CDN: the simulator under its other loopback name, not the gateway's origin
      expect(job.output.text).toMatch(/!\[image\]\(http:\/\/localhost:\d+\/_sim\/blobs\/[^)]+\.png\)/);
      expect(counterDelta(blobsBefore, await routeCounter(stack, 'blobs')).received).toBe(1);
    });

    it('skips links that are not media (an HTML page)', async () => {
      const project = await newProject();
      const job = await stack.runJob(project.key, {
        type: 'media.chat',
        input: { model: 'gpt-4o', messages: [{ role: 'user', content: `see [the page](${htmlUrl})` }] },
      });

      expect(job.status).toBe('succeeded');
      expect(job.output.media).toEqual([]);
      expect(job.artifacts).toEqual([]);
      expect(job.output.text).toContain(htmlUrl);
      expect(htmlHits).toBeLessThanOrEqual(1);
    });
  });
});
