import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrateDatabase } from '@genqueue/db';
import { startTsProcess, type ManagedProcess } from './child-process';
import { freePort } from './free-port';
import { HttpClient } from './http-client';
import { testDatabaseUrl, testRedisUrl, withDatabase } from './test-env';

export type StackOptions = {
  /** extra environment for the API and worker (settings of api.md) */
  env?: Record<string, string>;
  simulatorEnv?: Record<string, string>;
  /** start no worker (tests that check what happens while none runs) */
  withoutWorker?: boolean;
  /** give each worker started by startWorker its /metrics, /healthz and /readyz port (off by default: several workers may run) */
  withWorkerHttp?: boolean;
  /**
   * a Postgres server of the test's own (any database in the URL); the stack makes its database
   * there instead of next to the run's test database
   */
  postgresUrl?: string;
};

export type Project = { id: string; key: string };

/**
 * A whole genqueue for one test file: simulator, API and worker as real processes, with their own
 * database, BullMQ prefix and storage directory. (One database per stack: a sweeper serves every
 * project of its database, so stacks sharing one would run each other's jobs.)
 */
export class TestStack {
  readonly api: HttpClient;
  readonly sim: HttpClient;
  worker: ManagedProcess | null = null;
  /** the HTTP base URL of the last worker startWorker started, with `withWorkerHttp` */
  workerUrl: string | null = null;
  private withWorkerHttp = false;

  private constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly adminKey: string,
    readonly logDir: string,
    private readonly processes: { simulator: ManagedProcess; api: ManagedProcess },
    readonly apiUrl: string,
    readonly simulatorUrl: string,
  ) {
    this.api = new HttpClient(apiUrl);
    this.sim = new HttpClient(simulatorUrl);
  }

  static async start(options: StackOptions = {}): Promise<TestStack> {
    const tag = randomBytes(4).toString('hex');
    const logDir = mkdtempSync(path.join(tmpdir(), `genqueue-test-${tag}-`));
    const [apiPort, simPort] = await Promise.all([freePort(), freePort()]);
    const simulatorUrl = `http://127.0.0.1:${simPort}`;
    const adminKey = `gqa_test_${randomBytes(16).toString('hex')}`;
    const databaseUrl = options.postgresUrl
      ? withDatabase(options.postgresUrl, `genqueue_${tag}`)
      : withDatabase(testDatabaseUrl(), `${new URL(testDatabaseUrl()).pathname.slice(1)}_${tag}`);
    await migrateDatabase(databaseUrl);
    const simulator = startTsProcess(
      'simulator',
      'apps/simulator/src/main.ts',
      { ...process.env, SIMULATOR_PORT: String(simPort), SIMULATOR_FAST_TIME: '1', ...options.simulatorEnv },
      logDir,
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: `gqt-${tag}`,
      STORAGE_DIR: path.join(logDir, 'artifacts'),
      UPSTREAM_BASE_URL: simulatorUrl,
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: 'info',
      RETRY_BASE_DELAY_MS: '100',
      RETRY_MAX_DELAY_MS: '1000',
      RATE_LIMIT_PAUSE_MS: '200',
      SWEEP_INTERVAL_MS: '1000',
      // two suites run at once, each with its own processes: keep them well inside max_connections
      DATABASE_POOL_MAX: '8',
      // the simulator and the tests' webhook receivers live on 127.0.0.1
      ALLOW_PRIVATE_URLS: 'true',
      // a 429 a test injects teaches the lane a lower rate; keep room so later tests do not crawl
      LANE_IMAGE_RPM: '6000',
      LANE_AUDIO_RPM: '6000',
      // faults the tests arm hold a gateway lane briefly, not for production's seconds
      GATEWAY_OUTAGE_HOLD_MS: '300',
      GATEWAY_REFUSED_HOLD_MS: '300',
      // the worker's port would be the API's + 1, which another suite may hold: startWorker gives one when asked
      WORKER_HTTP_PORT: '0',
      ...options.env,
    };
    const api = startTsProcess('api', 'apps/api/src/main.ts', env, logDir);
    await Promise.all([simulator.waitForLine('simulator.started'), api.waitForLine('api.listening', 60_000)]);
    const stack = new TestStack(env, adminKey, logDir, { simulator, api }, `http://127.0.0.1:${apiPort}`, simulatorUrl);
    stack.withWorkerHttp = options.withWorkerHttp ?? false;
    if (!options.withoutWorker) await stack.startWorker();
    return stack;
  }

  async startWorker(extraEnv: Record<string, string> = {}): Promise<ManagedProcess> {
    const httpPort = this.withWorkerHttp && extraEnv['WORKER_HTTP_PORT'] === undefined ? String(await freePort()) : null;
    const worker = startTsProcess('worker', 'apps/worker/src/main.ts', { ...this.env, ...(httpPort ? { WORKER_HTTP_PORT: httpPort } : {}), ...extraEnv }, this.logDir);
    await worker.waitForLine('worker.started', 60_000);
    this.worker = worker;
    this.workerUrl = httpPort ? `http://127.0.0.1:${httpPort}` : null;
    return worker;
  }

  async stopWorker(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.worker?.stop(signal);
    this.worker = null;
  }

  /** Stops the API process with `signal` (SIGKILL: a crash) and starts a new one on the same port. */
  async restartApi(signal: NodeJS.Signals = 'SIGKILL'): Promise<ManagedProcess> {
    await this.processes.api.stop(signal);
    const api = startTsProcess('api', 'apps/api/src/main.ts', this.env, this.logDir);
    this.processes.api = api;
    await api.waitForLine('api.listening', 60_000);
    return api;
  }

  /** A new project with its own key, through the admin API. */
  async createProject(limits?: Record<string, number>): Promise<Project> {
    const name = `p-${randomBytes(6).toString('hex')}`;
    const project = await this.api.post('/admin/v1/projects', { key: this.adminKey, body: { name, ...(limits ? { limits } : {}) } });
    if (project.status !== 201) throw new Error(`create project: ${project.status} ${project.text}`);
    const key = await this.api.post(`/admin/v1/projects/${project.body.id}/api-keys`, { key: this.adminKey, body: {} });
    if (key.status !== 201) throw new Error(`create key: ${key.status} ${key.text}`);
    return { id: project.body.id, key: key.body.key };
  }

  /** Submits a job and holds until it is final (through the API's own ?wait). */
  async runJob(key: string, body: unknown): Promise<any> {
    const created = await this.api.post('/v1/jobs', { key, body });
    if (created.status !== 202) throw new Error(`submit: ${created.status} ${created.text}`);
    return this.waitFinal(key, created.body.id);
  }

  async waitFinal(key: string, jobId: string, maxWaits = 4): Promise<any> {
    for (let i = 0; i < maxWaits; i += 1) {
      const res = await this.api.get(`/v1/jobs/${jobId}?wait=30`, { key });
      if (['succeeded', 'failed', 'canceled', 'expired'].includes(res.body.status)) return res.body;
    }
    throw new Error(`job ${jobId} not final after ${maxWaits * 30} s (logs: ${this.logDir})`);
  }

  /** the API process (benches read its CPU and memory) */
  get apiProcess(): ManagedProcess {
    return this.processes.api;
  }

  get databaseUrl(): string {
    return String(this.env['DATABASE_URL']);
  }

  async stop(): Promise<void> {
    await Promise.all([this.worker?.stop(), this.processes.api.stop(), this.processes.simulator.stop()]);
    const admin = new Client({ connectionString: withDatabase(this.databaseUrl, 'postgres') });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${new URL(this.databaseUrl).pathname.slice(1)}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
