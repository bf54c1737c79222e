import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './free-port';

const READY_LINE = 'Ready to accept connections';

/**
 * A redis-server of the test's own on a free port, with no persistence (a restart comes back empty),
 * that the test may flush, SIGKILL and start again on the same port.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** FLUSHALL through a connection of its own. */
  async flushAll(): Promise<void> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
  }

  /** SIGKILLs the server (no shutdown, nothing saved) and resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  /** A fresh, empty server on the same port; resolves once it accepts connections. */
  async restartEmpty(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
  }

  private launch(timeoutMs = 10_000): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    return new Promise((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => fail(new Error(`redis-server on ${this.port} not ready within ${timeoutMs} ms: ${output}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes(READY_LINE)) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          // keep draining, or a full pipe would stall the server
          child.stdout!.resume();
          resolve();
        }
      };
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.once('exit', (code) => fail(new Error(`redis-server on ${this.port} exited with ${code}: ${output}`)));
      // not installed (ENOENT): fail the suite, never skip it
      child.once('error', (err) => fail(new Error(`redis-server could not start (${err.message}): install Redis`)));
    });
  }
}
