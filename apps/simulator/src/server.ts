import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulatorApp } from './app';
import type { SimulatorOptions } from './options';
import { createSimulatorState, type SimulatorState } from './state';

export type StartSimulatorOptions = SimulatorOptions & {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
};

export type RunningSimulator = {
  url: string;
  port: number;
  state: SimulatorState;
  /** Stops listening and drops open connections, including hanging and streaming ones. */
  close(): Promise<void>;
};

export async function startSimulator(options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const state = createSimulatorState(options);
  const server = createServer(createSimulatorApp(state));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
