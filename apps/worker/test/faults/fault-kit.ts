import { PrivatePostgres, PrivateRedis, TestStack, type Project } from '@genqueue/testing';
import { clearFaults, pollUntil, submit } from '../helpers';
import { setTaskConfig, submissionsByKey, submissionsByState, TASK_ENV, TERMINAL_EVENTS } from '../tasks-helpers';
import { Receiver, type Received } from '../webhooks-helpers';

/**
 * The fault suite's bench (issue 10, item 7): a Postgres cluster and a redis-server of its own on
 * free ports, the simulator (fast time), genqueue's API and worker as separate processes, and a
 * webhook receiver. Every scenario submits jobs of every family and checks them through the public
 * API and the simulator's counters only.
 */

export type Family = 'image' | 'video' | 'mj' | 'audio' | 'embedding';
export const FAMILIES: Family[] = ['image', 'video', 'mj', 'audio', 'embedding'];
export type FaultJob = { id: string; family: Family; prompt: string };

/** Short clocks, so every recovery happens in seconds. */
export const FAULT_ENV: Record<string, string> = {
  ...TASK_ENV,
  SWEEP_INTERVAL_MS: '1000',
  LOG_LEVEL: 'info',
  WEBHOOK_RETRY_SCHEDULE_MS: '500,1000,2000,2000,2000,2000,2000',
  LANE_EMBEDDING_RPM: '100000',
  // Outages: held after 3 answers in a row, probed soon after
  GATEWAY_OUTAGE_THRESHOLD: '3',
  GATEWAY_OUTAGE_HOLD_MS: '500',
  GATEWAY_REFUSED_HOLD_MS: '2000',
};

/** One line of figures on stdout (the suite's report; Jest keeps console.log for failures). */
export function report(line: string): void {
  process.stdout.write(`[faults] ${line}\n`);
}

export class FaultBed {
  private constructor(
    readonly pg: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly receiver: Receiver,
    readonly stack: TestStack,
    readonly project: Project,
    readonly hookUrl: string,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<FaultBed> {
    const [pg, redis, receiver] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start(), Receiver.start()]);
    const stack = await TestStack.start({ postgresUrl: pg.url(), env: { ...FAULT_ENV, REDIS_URL: redis.url, ...env } });
    const project = await stack.createProject({ requests_per_minute: 100_000 });
    // tasks run long enough (≈ 4 s video, ≈ 2 s MJ in fast time) to be in flight when something breaks
    await setTaskConfig(stack, { video_duration_ms: 240_000, mj_duration_ms: 120_000 });
    return new FaultBed(pg, redis, receiver, stack, project, receiver.target('/hooks'));
  }

  get key(): string {
    return this.project.key;
  }

  async stop(): Promise<void> {
    await clearFaults(this.stack).catch(() => undefined);
    await this.stack.stop().catch(() => undefined);
    await Promise.all([this.redis.stop(), this.pg.stop(), this.receiver.close()]);
  }

  body(family: Family, prompt: string): Record<string, unknown> {
    const input = (() => {
      switch (family) {
        case 'image':
          return { type: 'image.generate', input: { prompt } };
        case 'video':
          return { type: 'video.generate', input: { prompt } };
        case 'mj':
          return { type: 'mj.imagine', input: { prompt } };
        case 'audio':
          return { type: 'audio.speech', input: { input: prompt, voice: 'alloy', response_format: 'wav' } };
        case 'embedding':
          return {
            type: 'embedding.batch',
            input: { model: 'text-embedding-3-small', inputs: Array.from({ length: 20 }, (_, i) => `${prompt} #${i}`), dimensions: 8, chunk_size: 10 },
          };
      }
    })();
    return { ...input, webhook_url: this.hookUrl };
  }

  /** `perFamily` jobs of each family, prompts tagged with `tag` (unique per scenario). */
  async submitMix(tag: string, perFamily = 2, families: Family[] = FAMILIES): Promise<FaultJob[]> {
    const jobs: FaultJob[] = [];
    for (let i = 0; i < perFamily; i += 1) {
      for (const family of families) {
        const prompt = `${tag} ${family} ${i}`;
        const job = await submit(this.stack, this.key, this.body(family, prompt));
        jobs.push({ id: job.id, family, prompt });
      }
    }
    return jobs;
  }

  async statuses(jobs: FaultJob[]): Promise<Map<string, any>> {
    const rows = await Promise.all(jobs.map(async (j) => (await this.stack.api.get(`/v1/jobs/${j.id}`, { key: this.key })).body));
    return new Map(rows.map((row, i) => [jobs[i]!.id, row]));
  }

  /** How many of `jobs` are not final yet (and so in flight when something breaks). */
  async unfinished(jobs: FaultJob[]): Promise<number> {
    const rows = await this.statuses(jobs);
    const count = [...rows.values()].filter((row) => !['succeeded', 'failed', 'canceled', 'expired'].includes(row.status)).length;
    expect(count).toBeGreaterThan(0);
    return count;
  }

  /** Waits until every task job (video, MJ) has its upstream task id saved: parked, polling. */
  async waitTasksParked(jobs: FaultJob[], timeoutMs = 30_000): Promise<void> {
    const tasks = jobs.filter((j) => j.family === 'video' || j.family === 'mj');
    await pollUntil(
      'every task submitted and parked',
      async () => {
        const rows = await this.statuses(tasks);
        return [...rows.values()].every((row) => row.upstream?.task_id && row.status === 'running') ? true : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /** Every job final (through `?wait=`); resolves when the last one is. */
  async waitAllFinal(jobs: FaultJob[], maxWaits = 8): Promise<Map<string, any>> {
    const finals = await Promise.all(jobs.map((j) => this.stack.waitFinal(this.key, j.id, maxWaits)));
    return new Map(finals.map((f) => [f.id as string, f]));
  }

  async events(jobId: string): Promise<Array<{ id: string; type: string; seq: number; data: any }>> {
    const res = await this.stack.api.get(`/v1/jobs/${jobId}/events?limit=1000`, { key: this.key, headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new Error(`events of ${jobId}: ${res.status} ${res.text}`);
    if (res.body.next_cursor) throw new Error(`events of ${jobId}: more than one page`);
    return res.body.data;
  }

  /**
   * The promise, checked for `jobs`: every job final exactly once (`expected` status), its events
   * in order with one final event (the last), one accepted submission per video/MJ task, and every
   * webhook delivered under one `webhook-id` per delivery. `allowSubmitUnknown`: a task job may
   * instead have failed `upstream_submit_unknown` (a crash inside its submit window), with at most
   * one task created.
   */
  async expectExactlyOnce(jobs: FaultJob[], options: { allowSubmitUnknown?: boolean } = {}): Promise<Map<string, any>> {
    const finals = await this.waitAllFinal(jobs);
    const problems: string[] = [];
    const isTask = (j: FaultJob) => j.family === 'video' || j.family === 'mj';
    const submitUnknown = (j: FaultJob) => {
      const f = finals.get(j.id);
      return options.allowSubmitUnknown === true && isTask(j) && f.status === 'failed' && f.error?.code === 'upstream_submit_unknown';
    };
    for (const job of jobs) {
      const final = finals.get(job.id);
      if (final.status !== 'succeeded' && !submitUnknown(job)) problems.push(`${job.family} ${job.id}: ${final.status} ${JSON.stringify(final.error)}`);
      const events = await this.events(job.id);
      const terminal = events.filter((e) => TERMINAL_EVENTS.includes(e.type));
      if (terminal.length !== 1) problems.push(`${job.family} ${job.id}: ${terminal.length} final events (${terminal.map((e) => e.type).join(', ')})`);
      if (terminal.length > 0 && events[events.length - 1] !== terminal[0]) problems.push(`${job.family} ${job.id}: events after the final one`);
      const seqs = events.map((e) => e.seq);
      if (seqs.some((s, i) => s !== i + 1)) problems.push(`${job.family} ${job.id}: event seqs ${seqs.join(',')}`);
      if (terminal[0] && terminal[0].type !== `job.${final.status}`) problems.push(`${job.family} ${job.id}: final event ${terminal[0].type} for status ${final.status}`);
      if (isTask(job)) {
        const counter = job.family === 'video' ? await submissionsByKey(this.stack, job.prompt) : await submissionsByState(this.stack, job.id);
        if (submitUnknown(job)) {
          if (counter.accepted > 1) problems.push(`${job.family} ${job.id}: ${counter.accepted} tasks created`);
        } else if (counter.accepted !== 1 || counter.task_ids[0] !== final.upstream?.task_id) {
          problems.push(`${job.family} ${job.id}: submissions ${JSON.stringify(counter)}, job's task ${final.upstream?.task_id}`);
        }
      }
    }
    expect(problems).toEqual([]);
    await this.expectWebhooks(jobs, finals);
    return finals;
  }

  /** Every job's started and final webhooks delivered; one webhook-id per delivery, deduplicated by the receiver. */
  private async expectWebhooks(jobs: FaultJob[], finals: Map<string, any>): Promise<void> {
    const ids = new Set(jobs.map((j) => j.id));
    const deliveries = await pollUntil(
      'every webhook delivery of the jobs succeeded',
      async () => {
        const all = (
          await Promise.all(jobs.map(async (j) => (await this.stack.api.get(`/v1/webhook-deliveries?job_id=${j.id}&limit=100`, { key: this.key })).body.data ?? []))
        ).flat() as Array<{ webhook_id: string; event_type: string; job_id: string; status: string }>;
        return all.length >= jobs.length * 2 && all.every((d) => d.status === 'succeeded') ? all : undefined;
      },
      60_000,
      250,
    );
    const received = this.receiver.requests.filter((r: Received) => ids.has(r.json?.data?.id));
    const byWebhookId = new Map<string, Received[]>();
    for (const r of received) byWebhookId.set(r.headers['webhook-id']!, [...(byWebhookId.get(r.headers['webhook-id']!) ?? []), r]);
    const problems: string[] = [];
    for (const job of jobs) {
      const finalType = `job.${finals.get(job.id).status}`;
      const mine = deliveries.filter((d) => d.job_id === job.id);
      for (const type of ['job.started', finalType]) {
        const ofType = mine.filter((d) => d.event_type === type);
        if (ofType.length !== 1) problems.push(`${job.family} ${job.id}: ${ofType.length} deliveries of ${type}`);
        const hooks = received.filter((r) => r.json?.data?.id === job.id && r.json?.type === type);
        const hookIds = new Set(hooks.map((r) => r.headers['webhook-id']));
        if (hookIds.size !== 1) problems.push(`${job.family} ${job.id}: ${type} received under ${hookIds.size} webhook-ids`);
        if (ofType[0] && !hookIds.has(ofType[0].webhook_id)) problems.push(`${job.family} ${job.id}: ${type} delivery ${ofType[0].webhook_id} never received`);
      }
      if (mine.length !== 2) problems.push(`${job.family} ${job.id}: ${mine.length} deliveries (${mine.map((d) => d.event_type).join(', ')})`);
    }
    // a redelivery repeats the same id and the same payload (artifact links are signed afresh per attempt)
    const unsigned = (body: string) => body.replace(/(\/v1\/artifacts\/[^"?]+)\?[^"]*/g, '$1');
    for (const [id, copies] of byWebhookId) {
      if (new Set(copies.map((c) => unsigned(c.body))).size === 1) continue;
      const [a, b] = [copies[0]!.json, copies.find((c) => c.body !== copies[0]!.body)!.json];
      const differ = (x: any, y: any, at: string): string[] =>
        x && y && typeof x === 'object' && typeof y === 'object'
          ? [...new Set([...Object.keys(x), ...Object.keys(y)])].flatMap((k) => differ(x[k], y[k], `${at}.${k}`))
          : JSON.stringify(x) === JSON.stringify(y)
            ? []
            : [`${at}: ${JSON.stringify(x)?.slice(0, 80)} vs ${JSON.stringify(y)?.slice(0, 80)}`];
      problems.push(`${id} (${a?.type}): copies with different bodies: ${differ(a, b, '').join('; ')}`);
    }
    expect(problems).toEqual([]);
    const duplicates = received.length - byWebhookId.size;
    if (duplicates > 0) report(`  (${duplicates} webhook(s) received again under the same webhook-id: deduplicated)`);
  }
}

/** Requests the simulator received in all (every route). */
export async function simTotal(stack: TestStack): Promise<{ total: number; statuses: Record<string, number> }> {
  const res = await stack.sim.get('/_sim/counters');
  return { total: res.body.total ?? 0, statuses: res.body.statuses ?? {} };
}

export const secondsSince = (t: number): string => ((Date.now() - t) / 1000).toFixed(1);

const FINAL_STATUSES = ['succeeded', 'failed', 'canceled', 'expired'];
/** Pause between reconnects while the API is down: a client's backoff, not a wait for some state. */
const RECONNECT_BACKOFF_MS = 100;
const backoff = () => new Promise((resolve) => setTimeout(resolve, RECONNECT_BACKOFF_MS));

/**
 * A client that follows one job's events over SSE to its final event, reconnecting with
 * `Last-Event-ID` whenever the connection drops (the API killed under it). `frames` is everything
 * it received, in order; `connections` how many streams it opened.
 */
export class SseFollower {
  readonly frames: Array<{ id: number; event: string }> = [];
  connections = 0;
  drops = 0;
  finished = false;
  readonly done: Promise<void>;

  constructor(
    private readonly apiUrl: string,
    private readonly key: string,
    readonly jobId: string,
    private readonly deadline: number,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    for (;;) {
      if (Date.now() > this.deadline) throw new Error(`SSE of ${this.jobId}: no final event before the deadline (${this.frames.length} frames)`);
      const last = this.frames[this.frames.length - 1];
      try {
        const res = await fetch(`${this.apiUrl}/v1/jobs/${this.jobId}/events`, {
          headers: { authorization: `Bearer ${this.key}`, accept: 'text/event-stream', ...(last ? { 'last-event-id': String(last.id) } : {}) },
        });
        if (res.status !== 200 || !res.body) throw new Error(`SSE answered ${res.status}`);
        this.connections += 1;
        if (await this.read(res.body)) {
          this.finished = true;
          return;
        }
      } catch {
        // connection refused or cut: the API is down or was killed; reconnect
      }
      this.drops += 1;
      await backoff();
    }
  }

  /** Reads frames until the stream ends; true once a final event arrived. */
  private async read(body: ReadableStream<Uint8Array>): Promise<boolean> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
        }
        if (!fields.has('id')) continue;
        const event = fields.get('event') ?? '';
        this.frames.push({ id: Number(fields.get('id')), event });
        if (TERMINAL_EVENTS.includes(event)) return true;
      }
    }
    return false;
  }
}

/** A client that long-polls one job (`?wait=10`) until it is final, retrying through API restarts. */
export async function longPollFinal(apiUrl: string, key: string, jobId: string, deadline: number): Promise<{ status: string; polls: number; errors: number }> {
  let polls = 0;
  let errors = 0;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`long poll of ${jobId}: not final before the deadline`);
    try {
      polls += 1;
      const res = await fetch(`${apiUrl}/v1/jobs/${jobId}?wait=10`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { status?: string };
      if (res.status === 200 && body.status && FINAL_STATUSES.includes(body.status)) return { status: body.status, polls, errors };
      if (res.status !== 200) throw new Error(`long poll answered ${res.status}`);
    } catch {
      errors += 1;
      await backoff();
    }
  }
}
