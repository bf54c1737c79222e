import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ArtifactsRepository, Job } from '@genqueue/db';
import { LocalDirectoryStorage, storableContentType } from '@genqueue/storage';
import { ArtifactWriter, peekHead } from '../src/media/artifact-writer';
import { MediaBudgetError } from '../src/media/media-budget';

/** Artifacts are typed by their bytes when stored: nothing script-capable keeps a type a browser would run. */
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(32, 1)]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>');
const HTML = Buffer.from('\uFEFF  <!doctype html><script>alert(1)</script>');

describe('storableContentType', () => {
  it.each([
    ['a PNG, whatever it is called', PNG, 'text/html', 'image/png'],
    ['SVG declared as SVG', SVG, 'image/svg+xml', 'application/octet-stream'],
    ['SVG declared as PNG', SVG, 'image/png', 'application/octet-stream'],
    ['HTML declared as HTML', HTML, 'text/html', 'application/octet-stream'],
    ['HTML declared as plain text', HTML, 'text/plain', 'application/octet-stream'],
    ['XML declared as JSON', Buffer.from('<?xml version="1.0"?><x/>'), 'application/json', 'application/octet-stream'],
    ['a PDF', Buffer.from('%PDF-1.7 ...'), 'application/pdf', 'application/octet-stream'],
    ['unknown bytes with no type', Buffer.from([1, 2, 3]), undefined, 'application/octet-stream'],
    ['subtitles', Buffer.from('WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n'), 'text/vtt', 'text/vtt'],
    ['SRT', Buffer.from('1\n00:00:00,000 --> 00:00:01,000\nhi\n'), 'application/x-subrip; charset=utf-8', 'application/x-subrip'],
    ['JSON lines', Buffer.from('{"index":0}\n'), 'application/x-ndjson', 'application/x-ndjson'],
    ['raw PCM', Buffer.from([0, 1, 0, 1]), 'audio/pcm', 'audio/pcm'],
  ])('%s', (_what, bytes, declared, stored) => {
    expect(storableContentType(bytes, declared)).toBe(stored);
  });
});

describe('ArtifactWriter', () => {
  let dir: string;
  const created: Array<Record<string, unknown>> = [];
  const artifacts = { create: async (row: Record<string, unknown>) => (created.push(row), row) } as unknown as ArtifactsRepository;
  const job = { id: 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW', projectId: 'prj_01JD7Q3V9XK6M2N4P8R0S5T7VW' } as Job;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gq-artifacts-'));
    created.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
    for (const part of parts) yield part;
  }

  it('stores SVG and HTML as application/octet-stream (.bin), a PNG as image/png', async () => {
    const writer = new ArtifactWriter(new LocalDirectoryStorage(dir), artifacts);
    await writer.save(job, { kind: 'image', data: SVG, contentType: 'image/svg+xml' });
    await writer.save(job, { kind: 'image', data: HTML, contentType: 'image/png' });
    await writer.save(job, { kind: 'image', data: PNG, contentType: 'image/png' });
    expect(created.map((a) => a['contentType'])).toEqual(['application/octet-stream', 'application/octet-stream', 'image/png']);
    expect(created.map((a) => path.extname(String(a['storageKey'])))).toEqual(['.bin', '.bin', '.png']);
  });

  it('streams a body in many chunks to storage, byte for byte, sniffing its head', async () => {
    const writer = new ArtifactWriter(new LocalDirectoryStorage(dir), artifacts);
    const body = chunks(PNG.subarray(0, 3), PNG.subarray(3), ...Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i)));
    const { head, rest } = await peekHead(body);
    await writer.saveStream(job, { kind: 'image', head, rest });
    const stored = readFileSync(path.join(dir, String(created[0]?.['storageKey'])));
    expect(created[0]).toMatchObject({ contentType: 'image/png', bytes: PNG.length + 500_000 });
    expect(stored.subarray(0, PNG.length)).toEqual(PNG);
    expect(stored.length).toBe(PNG.length + 500_000);
  });

  it("cuts a stream off at the run's budget and stores nothing of it", async () => {
    const writer = new ArtifactWriter(new LocalDirectoryStorage(dir), artifacts, { objectMaxBytes: 1_000_000, jobMaxBytes: 100_000, chatMaxLinks: 8 });
    const run = new AbortController().signal;
    const { head, rest } = await peekHead(chunks(PNG, Buffer.alloc(200_000)));
    await expect(writer.saveStream(job, { kind: 'image', head, rest, signal: run })).rejects.toBeInstanceOf(MediaBudgetError);
    expect(created).toEqual([]);
  });
});
