/**
 * `npm start`: the whole service on one machine. Makes sure Redis and Postgres run, migrates,
 * creates the default project and keys on first start, then runs the simulator (when no
 * UPSTREAM_BASE_URL is set), the API and a worker as child processes, exactly as when scaled out.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadSettings } from '@genqueue/config';
import { createPrismaClient, ensureBootstrap, firstStartKeyLines, keepFirstStartKeys, migrateDatabase } from '@genqueue/db';
import { lineFormatter } from './lib/pretty-log';

const root = path.resolve(__dirname, '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const children: ChildProcess[] = [];
/** In production the processes run their bundles (scripts/build-processes.mjs, run at install): no TypeScript compiled at run time. */
const production = process.env['NODE_ENV'] === 'production';
const BUNDLES: Record<string, string> = { simulator: 'dist/simulator.js', api: 'dist/api.js', worker: 'dist/worker.js' };

/** node on the process's bundle in production when it is built; tsx on its TypeScript entry otherwise. */
function commandOf(name: string, entry: string): [string, string[]] {
  const bundle = BUNDLES[name] ? path.join(root, BUNDLES[name]) : null;
  if (production && bundle && existsSync(bundle)) return [process.execPath, ['--enable-source-maps', bundle]];
  if (production) console.warn(`${name}: no ${BUNDLES[name] ?? 'bundle'} (run npm run build:processes); running its TypeScript through tsx`);
  return [tsx, [path.join(root, entry)]];
}

/** On a terminal each process's JSON lines are shown readable and coloured; LOG_FORMAT=json keeps them raw. */
const pretty = process.stdout.isTTY === true && process.env['LOG_FORMAT'] !== 'json';

function run(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const [command, args] = commandOf(name, entry);
  const child = spawn(command, args, { env, stdio: ['ignore', pretty ? 'pipe' : 'inherit', pretty ? 'pipe' : 'inherit'] });
  if (pretty) {
    const options = { color: process.env['NO_COLOR'] === undefined, width: 9 };
    child.stdout!.on('data', lineFormatter(name, children.length, options, (text) => process.stdout.write(text)));
    child.stderr!.on('data', lineFormatter(name, children.length, options, (text) => process.stderr.write(text)));
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${name} stopped (${signal ?? `exit ${code}`}); stopping the rest.`);
    void stopAll(1);
  });
  children.push(child);
  return child;
}

async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

let stopping = false;
async function stopAll(code: number): Promise<void> {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
  process.exit(code);
}

async function main(): Promise<void> {
  const settings = loadSettings();
  const services = spawnSync('bash', [path.join(root, 'scripts/ensure-services.sh')], {
    env: { ...process.env, REDIS_URL: settings.REDIS_URL, DATABASE_URL: settings.DATABASE_URL },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (services.status !== 0) process.exit(1);

  await migrateDatabase(settings.DATABASE_URL);
  const prisma = createPrismaClient(settings.DATABASE_URL);
  const boot = await ensureBootstrap(prisma, settings.ADMIN_API_KEY);
  await prisma.$disconnect();

  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!settings.UPSTREAM_BASE_URL) {
    env['UPSTREAM_BASE_URL'] = `http://127.0.0.1:${settings.SIMULATOR_PORT}`;
    // the simulator's result links are on 127.0.0.1: this dev start allows private URLs, and says so below
    env['ALLOW_PRIVATE_URLS'] ??= 'true';
    run('simulator', 'apps/simulator/src/main.ts', env);
    await waitForHttp(`${env['UPSTREAM_BASE_URL']}/_sim/counters`);
  }
  run('api', 'apps/api/src/main.ts', env);
  run('worker', 'apps/worker/src/main.ts', env);
  await waitForHttp(`http://127.0.0.1:${settings.PORT}/healthz`);

  const lines = [
    '',
    'genqueue is running',
    `  API:        ${settings.publicBaseUrl}   (OpenAPI: ${settings.publicBaseUrl}/openapi.json)`,
    `  dashboard:  ${settings.publicBaseUrl}/admin   (sign in with the admin key)`,
    `  upstream:   ${env['UPSTREAM_BASE_URL']}${settings.UPSTREAM_BASE_URL ? '' : '   (built-in simulator)'}`,
    `  metrics:    ${settings.publicBaseUrl}/metrics${settings.workerHttpPort > 0 ? ` and http://127.0.0.1:${settings.workerHttpPort}/metrics (the worker)` : ''}   (admin key or METRICS_TOKEN)`,
    ...(env['ALLOW_PRIVATE_URLS'] === 'true' ? ['  note:       private URLs are allowed (ALLOW_PRIVATE_URLS=true) because the simulator runs on 127.0.0.1'] : []),
  ];
  const keyLines = firstStartKeyLines(boot);
  if (keyLines.length > 0) {
    const file = keepFirstStartKeys(keyLines, path.join(root, 'data'));
    // keys go to a terminal only, never into a captured log; the 0600 file keeps them either way
    if (process.stdout.isTTY) lines.push(...keyLines, `  These keys are shown once; a copy is in ${path.relative(root, file)} (readable by you only).`);
    else lines.push(`  First start: the keys are in ${path.relative(root, file)} (readable by you only).`);
  } else {
    lines.push('  Keys were created on the first start (see data/first-start-keys.txt if you kept it).');
  }
  lines.push(
    '',
    `  try: curl -s -X POST ${settings.publicBaseUrl}/v1/jobs -H "Authorization: Bearer <API key>" \\`,
    `         -H 'content-type: application/json' -d '{"type":"image.generate","input":{"prompt":"a red fox"}}'`,
    '',
  );
  console.log(lines.join('\n'));
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  stopWhenOrphaned();
}

/**
 * `npm start` ended by a signal to npm alone: npm exits without passing it on, and this process
 * would keep the service running with nobody to stop it. Seeing its parent gone, it stops the rest.
 */
function stopWhenOrphaned(): void {
  // process.ppid is read once at start in Node 20: ask whether that parent still exists instead
  const parent = process.ppid;
  const isAlive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  setInterval(() => {
    if (parent > 1 && !stopping && !isAlive(parent)) {
      console.error('npm start was stopped; stopping the processes.');
      void stopAll(0);
    }
  }, 1_000).unref();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  void stopAll(1);
});
