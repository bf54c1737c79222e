/**
 * `npm run seed:history -- --jobs 1000000 [--database-url URL] [--projects N] [--seed N]`
 *
 * Fills a database of its own (default genqueue_history on the local server; created and migrated
 * when missing) with a realistic job history: the admin dashboard's benchmark runs against it.
 * `--jobs` is how many the database should hold: a second run adds only what is missing. It never
 * writes to any database but the one named, and refuses one holding jobs it did not make.
 */
import { DEFAULT_HISTORY_DATABASE_URL, seedHistory } from './seed-history/seed';

type Args = { jobs: number; databaseUrl: string; projects: number; seed: number };

function parseArgs(argv: string[]): Args {
  const args: Args = { jobs: 1_000_000, databaseUrl: DEFAULT_HISTORY_DATABASE_URL, projects: 5, seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--jobs') args.jobs = Number(value);
    else if (flag === '--database-url') args.databaseUrl = value;
    else if (flag === '--projects') args.projects = Number(value);
    else if (flag === '--seed') args.seed = Number(value);
    else throw new Error(`unknown option ${flag}; usage: seed:history -- --jobs N [--database-url URL] [--projects N] [--seed N]`);
  }
  if (!Number.isInteger(args.jobs) || args.jobs < 0) throw new Error('--jobs must be a whole number');
  if (!Number.isInteger(args.projects) || args.projects < 1) throw new Error('--projects must be at least 1');
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const url = new URL(args.databaseUrl);
  if (url.password) url.password = '***';
  console.log(`seed: database ${url.toString()}`);
  await seedHistory({ ...args, log: (line) => console.log(line) });
}

main().catch((err: unknown) => {
  console.error(`seed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
