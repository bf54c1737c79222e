import { startSimulator } from './server';

/** CLI entry: `tsx apps/simulator/src/main.ts`. The only place that reads the environment. */
async function main(): Promise<void> {
  const env = process.env;
  const simulator = await startSimulator({
    port: Number(env['SIMULATOR_PORT'] ?? 8090),
    host: env['SIMULATOR_HOST'] ?? '127.0.0.1',
    fastTime: env['SIMULATOR_FAST_TIME'] === '1',
    timeFactor: env['SIMULATOR_TIME_FACTOR'] ? Number(env['SIMULATOR_TIME_FACTOR']) : undefined,
    apiKey: env['SIMULATOR_API_KEY'] || undefined,
    publicUrl: env['SIMULATOR_PUBLIC_URL'] || undefined,
  });
  console.log(
    JSON.stringify({ event: 'simulator.started', url: simulator.url, fast_time: simulator.state.clock.isFastTime, time_factor: simulator.state.clock.timeFactor }),
  );
  const stop = (): void => {
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ event: 'simulator.start_failed', err: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
