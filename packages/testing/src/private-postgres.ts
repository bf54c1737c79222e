import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

const PG_ROOT = '/usr/lib/postgresql';

/** The newest `/usr/lib/postgresql/<version>/bin` with initdb and pg_ctl, or null. */
export function postgresBinDir(): string | null {
  if (!existsSync(PG_ROOT)) return null;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(path.join(PG_ROOT, v, 'bin', 'initdb')) && existsSync(path.join(PG_ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(PG_ROOT, versions[0], 'bin') : null;
}

/**
 * A throwaway Postgres cluster of the test's own (initdb in a temp folder, a free port, fsync off)
 * that the test may stop and start again. Run as the `postgres` user when the test runs as root.
 */
export class PrivatePostgres {
  private running = false;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const bin = postgresBinDir();
    if (!bin) throw new Error(`no initdb/pg_ctl under ${PG_ROOT}/*/bin: install PostgreSQL's server package`);
    const dir = mkdtempSync(path.join(tmpdir(), 'genqueue-pg-'));
    const pg = new PrivatePostgres(await freePort(), dir, bin);
    if (isRoot()) {
      execFileSync('chown', ['-R', 'postgres:postgres', dir]);
    }
    chmodSync(dir, 0o700);
    pg.run('initdb', ['-D', pg.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    pg.startServer();
    return pg;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** the server's URL with `database` (default `postgres`) */
  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** `pg_ctl start -w`: resolves once the server accepts connections. */
  startServer(): void {
    this.run('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      path.join(this.dir, 'server.log'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      '-w',
      '-t',
      '30',
      'start',
    ]);
    this.running = true;
  }

  /** `pg_ctl stop -m fast`: every connection is cut, the server is gone when this returns. */
  stopServer(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
    this.running = false;
  }

  /** Stops the server (if running) and removes the cluster. */
  async stop(): Promise<void> {
    if (this.running) this.stopServer();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[]): void {
    const exe = path.join(this.bin, tool);
    const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
    execFileSync(cmd as string, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir });
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
