import { spawn } from 'node:child_process';
import path from 'node:path';

/** `exitOnSignals` in a real process: signals are sent to a child that uses it, its log and exit code are read. */

const REPO_ROOT = path.resolve(__dirname, '../../..');
const CHILD = path.join(__dirname, 'fixtures/shutdown-child.ts');

type LogLine = { msg: string; signal?: string };

function startChild(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const waiters: Array<{ matches: (line: LogLine) => boolean; resolve: () => void }> = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts) {
      const line = JSON.parse(part) as LogLine;
      logs.push(line);
      for (const w of waiters.filter((w) => w.matches(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  /** resolves once the child has logged `msg` (with `signal`, when given) */
  const logged = (msg: string, signal?: NodeJS.Signals) => {
    const matches = (line: LogLine) => line.msg === msg && (signal === undefined || line.signal === signal);
    return logs.some(matches)
      ? Promise.resolve()
      : Promise.race([
          new Promise<void>((resolve) => waiters.push({ matches, resolve })),
          exited.then(() => Promise.reject(new Error(`child exited before logging ${msg}: ${stderr}`))),
        ]);
  };
  return { child, logs, logged, exited, stderr: () => stderr, messages: () => logs.map((l) => l.msg) };
}

describe('exitOnSignals', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('on %s logs the signal, closes and exits with 0', async (signal) => {
    const p = startChild();
    await p.logged('child.ready');
    p.child.kill(signal);
    await expect(p.exited).resolves.toEqual({ code: 0, signal: null });
    expect(p.messages()).toEqual(['child.ready', 'child.shutting_down', 'child.closing', 'child.closed']);
    expect(p.logs[1]).toMatchObject({ signal });
  });

  it('ignores the other signal while it closes', async () => {
    const p = startChild({ CLOSE: 'stdin', OBSERVE: '1' });
    await p.logged('child.ready');
    p.child.kill('SIGTERM');
    await p.logged('child.closing');
    p.child.kill('SIGINT');
    await p.logged('child.signal', 'SIGINT');
    p.child.stdin.write('go on\n');
    await expect(p.exited).resolves.toEqual({ code: 0, signal: null });
    // the SIGINT reached the process while it closed, and started nothing
    expect(p.messages().filter((m) => m !== 'child.signal')).toEqual(['child.ready', 'child.shutting_down', 'child.closing', 'child.closed']);
    expect(p.logs.filter((l) => l.msg === 'child.signal').map((l) => l.signal)).toEqual(['SIGTERM', 'SIGINT']);
  });

  it('exits with 0 after forceExitAfterMs when close hangs', async () => {
    const p = startChild({ CLOSE: 'hang', FORCE_EXIT_MS: '200' });
    await p.logged('child.ready');
    p.child.kill('SIGTERM');
    await expect(p.exited).resolves.toEqual({ code: 0, signal: null });
    expect(p.messages()).toEqual(['child.ready', 'child.shutting_down', 'child.closing']);
  });

  it('ends with an error when close fails', async () => {
    const p = startChild({ CLOSE: 'reject' });
    await p.logged('child.ready');
    p.child.kill('SIGTERM');
    await expect(p.exited).resolves.toEqual({ code: 1, signal: null });
    expect(p.stderr()).toContain('close failed');
  });
});
