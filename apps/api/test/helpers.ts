import { createHmac } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { TestStack, testDatabaseUrl, type StackOptions } from '@genqueue/testing';

export const JOB_ID = /^job_[0-9A-HJKMNP-TV-Z]{26}$/;
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const FINAL_STATUSES = ['succeeded', 'failed', 'canceled', 'expired'];

let stackDatabaseUrl: string | null = null;

/** The database of this file's stack (each test file runs in its own module registry). */
export function databaseUrl(): string {
  return stackDatabaseUrl ?? testDatabaseUrl();
}

/**
 * A TestStack on a database of its own. Stacks on the shared run database see each other's rows,
 * and every worker's sweeper enqueues any stale queued row it finds there: jobs of one file would
 * run on another file's worker, against its simulator and its armed faults.
 */
/** The file's stack; its own database is made and dropped by TestStack. */
export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const stack = await TestStack.start(options);
  stackDatabaseUrl = stack.databaseUrl;
  return stack;
}

export async function stopStack(stack: TestStack | undefined): Promise<void> {
  await stack?.stop();
  stackDatabaseUrl = null;
}

/**
 * The stack of the enclosing `describe`: started (`startStack`) before its tests, stopped after them.
 * `ready` receives it once it runs, and may set up more on it before the first test.
 */
export function useStack(ready: (stack: TestStack) => void | Promise<void>, options: StackOptions = {}): void {
  let stack: TestStack | undefined;

  beforeAll(async () => {
    stack = await startStack(options);
    await ready(stack);
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });
}

/** One query against the stack's database (the truth the API must agree with). */
export async function sql<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

export async function countJobRows(projectId: string): Promise<number> {
  const [row] = await sql<{ n: string }>('SELECT count(*)::text AS n FROM jobs WHERE project_id = $1', [projectId]);
  return Number(row?.n ?? 0);
}

export async function countFileRows(projectId: string): Promise<number> {
  const [row] = await sql<{ n: string }>('SELECT count(*)::text AS n FROM files WHERE project_id = $1', [projectId]);
  return Number(row?.n ?? 0);
}

/** Ids of every BullMQ job entry under the stack's prefix (all job queues). */
export async function queuedJobIds(stack: TestStack): Promise<string[]> {
  const redis = new Redis(String(stack.env['REDIS_URL']), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const prefix = String(stack.env['QUEUE_PREFIX']);
    const ids = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:{job-*}:job-*:job_*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const match = /:(job_[0-9A-Z]{26})$/.exec(key);
        if (match?.[1]) ids.add(match[1]);
      }
    } while (cursor !== '0');
    return [...ids].sort();
  } finally {
    redis.disconnect();
  }
}

/** Every file below `dir` (recursively), including temporary `.part` files; [] when it does not exist. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

/** Polls `read` until `accept` holds; for the rare states no event announces. */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await read();
  }
  return last;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid RGB PNG; `noise` fills it with pseudo-random pixels stored uncompressed (so it is big). */
export function makePng(size: number, options: { noise?: boolean; seed?: number } = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  let state = (options.seed ?? 1) >>> 0 || 1;
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y += 1) {
    const row = y * (size * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < size * 3; x += 1) {
      if (options.noise) {
        state = (state * 1103515245 + 12345) >>> 0;
        raw[row + 1 + x] = state >>> 24;
      } else {
        raw[row + 1 + x] = (x * 7 + y * 13 + (options.seed ?? 0)) & 0xff;
      }
    }
  }
  const idat = deflateSync(raw, { level: options.noise ? 0 : 6 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export function uploadForm(parts: Array<['purpose', string] | ['file', Buffer, string, string?]>): FormData {
  const form = new FormData();
  for (const part of parts) {
    if (part[0] === 'purpose') form.append('purpose', part[1]);
    else form.append('file', new Blob([new Uint8Array(part[1])], { type: part[3] ?? 'application/octet-stream' }), part[2]);
  }
  return form;
}

export type SseMessage = { id?: string; event?: string; data?: string; comment?: string };
export type SseResult = { status: number; contentType: string; messages: SseMessage[]; closedByServer: boolean; body?: unknown };

/**
 * Reads an SSE response until the server closes it, or until `stopWhen` says enough (the client
 * then hangs up), or `timeoutMs` passes (closedByServer false).
 */
export async function readSse(
  url: string,
  options: { key?: string; headers?: Record<string, string>; timeoutMs?: number; stopWhen?: (messages: SseMessage[]) => boolean } = {},
): Promise<SseResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 20_000);
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.key) headers['authorization'] = `Bearer ${options.key}`;
  const messages: SseMessage[] = [];
  let closedByServer = false;
  try {
    const res = await fetch(url, { headers, signal: controller.signal });
    const contentType = res.headers.get('content-type') ?? '';
    if (!contentType.startsWith('text/event-stream') || !res.body) {
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, contentType, messages, closedByServer: true, body };
    }
    const decoder = new TextDecoder();
    let buffer = '';
    let current: SseMessage = {};
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          closedByServer = true;
          break;
        }
        buffer += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (Object.keys(current).length > 0) messages.push(current);
            current = {};
          } else if (line.startsWith(':')) {
            messages.push({ comment: line.slice(1).trim() });
          } else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id' || field === 'event') current[field] = value;
            if (field === 'data') current.data = current.data === undefined ? value : `${current.data}\n${value}`;
          }
        }
        if (options.stopWhen?.(messages)) {
          await reader.cancel();
          break;
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    }
    return { status: res.status, contentType, messages, closedByServer };
  } finally {
    clearTimeout(timer);
  }
}

/** The events of an SSE result, parsed (comments dropped). */
export function sseEvents(result: SseResult): Array<{ id: string; event: string; data: any }> {
  return result.messages
    .filter((m) => m.data !== undefined)
    .map((m) => ({ id: m.id ?? '', event: m.event ?? '', data: JSON.parse(m.data ?? 'null') }));
}

/** The API's artifact URL signature, computed from the instance secret stored in Postgres. */
export async function signArtifact(artifactId: string, expires: number): Promise<string> {
  const [row] = await sql<{ value: string }>(`SELECT value FROM system_settings WHERE key = 'artifact_url_secret'`);
  if (!row) throw new Error('no artifact_url_secret in the test database');
  return createHmac('sha256', row.value).update(`${artifactId}.${expires}`).digest('base64url');
}

/** Asserts the contract's error envelope and returns it. */
export function expectError(res: { status: number; body: any; text: string }, status: number, code: string): { code: string; message: string; details: Array<{ path: string; message: string }> } {
  if (res.status !== status) throw new Error(`expected ${status} ${code}, got ${res.status}: ${res.text.slice(0, 500)}`);
  expect(res.body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Array) } });
  expect(res.body.error.message.length).toBeGreaterThan(0);
  return res.body.error;
}

/** Object keys anywhere in `value` that are not snake_case (the wire convention of api.md). */
export function nonSnakeKeys(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => nonSnakeKeys(item, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => [
    ...(/^[a-z0-9_]+$/.test(key) ? [] : [`${path}.${key}`]),
    ...nonSnakeKeys(inner, `${path}.${key}`),
  ]);
}

/** A job without its signed artifact links (they are re-signed, with a new expiry, on every read). */
export function unsigned(job: any): any {
  return { ...job, artifacts: (job.artifacts ?? []).map(({ url: _url, ...rest }: { url?: string }) => rest) };
}
