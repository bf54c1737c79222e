import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../..');

export type ManagedProcess = {
  name: string;
  child: ChildProcess;
  /** resolves when a stdout line contains `marker` (rejects if the process exits first or after timeout) */
  waitForLine(marker: string, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  exited: Promise<number | null>;
};

/**
 * The compiled bundle of each process entry (scripts/build-processes.mjs), which production runs.
 * With GENQUEUE_RUN_BUNDLES=1 in its env a process runs from it (the benches measure what ships);
 * the caller makes sure the bundles are current.
 */
const BUNDLES: Readonly<Record<string, string>> = {
  'apps/api/src/main.ts': 'dist/api.js',
  'apps/worker/src/main.ts': 'dist/worker.js',
  'apps/simulator/src/main.ts': 'dist/simulator.js',
};

/**
 * Runs `entry` (a .ts file under the repo) in one node process with tsx's loader, so a signal
 * reaches the program itself (the tsx launcher would survive a SIGKILL's target). Output goes to a
 * log file for post-mortems.
 */
export function startTsProcess(name: string, entry: string, env: NodeJS.ProcessEnv, logDir: string): ManagedProcess {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  const bundle = env['GENQUEUE_RUN_BUNDLES'] === '1' ? BUNDLES[entry] : undefined;
  const args = bundle ? [path.join(REPO_ROOT, bundle)] : ['--import', 'tsx', path.join(REPO_ROOT, entry)];
  const child = spawn(process.execPath, args, { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: string[] = [];
  const waiters: Array<{ marker: string; resolve: () => void }> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      seen.push(line);
      for (const w of [...waiters]) {
        if (line.includes(w.marker)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return {
    name,
    child,
    exited,
    waitForLine(marker, timeoutMs = 30_000) {
      if (seen.some((l) => l.includes(marker))) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no "${marker}" within ${timeoutMs} ms (see ${logDir}/${name}.log)`)), timeoutMs);
        waiters.push({ marker, resolve: () => (clearTimeout(timer), resolve()) });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited with ${code} before "${marker}" (see ${logDir}/${name}.log)`));
        });
      });
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      log.end();
    },
  };
}
