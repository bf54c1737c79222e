import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port';

const READY_LINE = 'Ready to accept connections';

export type ClusterShard = { port: number; slots: Array<[number, number]> };

/**
 * A real Redis Cluster of the test's own: three masters (`redis-server --cluster-enabled yes` on
 * free ports, no persistence), joined with `redis-cli --cluster create`. genqueue reaches it through
 * `redis+cluster://` seed URLs.
 */
export class PrivateRedisCluster {
  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly children: ChildProcess[],
  ) {}

  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'genqueue-redis-cluster-'));
    const ports: number[] = [];
    while (ports.length < masters) {
      const port = await freePort();
      // a cluster node also listens on port + 10000 (the bus): both must be free
      if (port + 10_000 <= 65_535 && !ports.includes(port)) ports.push(port);
    }
    const children = await Promise.all(ports.map((port) => launchNode(port, dir)));
    const cluster = new PrivateRedisCluster(ports, dir, children);
    try {
      const create = spawnSync(
        'redis-cli',
        ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
        { encoding: 'utf8', timeout: 30_000 },
      );
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
      await cluster.waitUntilOk();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The seed URL genqueue's settings take (`REDIS_URL`). */
  get url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }

  /** Which master serves which slot ranges (from `CLUSTER SLOTS`). */
  async shards(): Promise<ClusterShard[]> {
    const client = new Redis(this.ports[0]!, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]]]>;
      const byPort = new Map<number, ClusterShard>();
      for (const [from, to, [, port]] of slots) {
        const shard = byPort.get(port) ?? { port, slots: [] };
        shard.slots.push([from, to]);
        byPort.set(port, shard);
      }
      return [...byPort.values()].sort((a, b) => a.port - b.port);
    } finally {
      client.disconnect();
    }
  }

  /** The hash slot of a key (`CLUSTER KEYSLOT`), as the cluster itself computes it. */
  async keySlot(key: string): Promise<number> {
    const client = new Redis(this.ports[0]!, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      return Number(await client.call('CLUSTER', 'KEYSLOT', key));
    } finally {
      client.disconnect();
    }
  }

  /** Keys matching `pattern` on each master, by port. */
  async keysByNode(pattern: string): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (const port of this.ports) {
      const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      try {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        out.set(port, keys);
      } finally {
        client.disconnect();
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitUntilOk(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.ports.map(async (port) => {
          const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
          try {
            return /cluster_state:ok/.test(String(await client.call('CLUSTER', 'INFO')));
          } finally {
            client.disconnect();
          }
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`the Redis Cluster on ${this.ports.join(', ')} is not ok after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100)); // polling the cluster's own state
    }
  }
}

function launchNode(port: number, dir: string, timeoutMs = 10_000): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes',
      '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', '5000',
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server (cluster node) on ${port} not ready within ${timeoutMs} ms: ${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes(READY_LINE)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => fail(new Error(`redis-server (cluster node) on ${port} exited with ${code}: ${output}`)));
    child.once('error', (err) => fail(new Error(`redis-server could not start (${err.message}): install Redis`)));
  });
}
