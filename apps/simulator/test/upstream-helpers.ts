import { rejectionOf } from '@genqueue/testing';
import { createUpstreamClient, UpstreamError, type UpstreamClient } from '@genqueue/upstream';
import type { RunningSimulator } from '../src';
import { boot, KEY } from './helpers';

/** The error `promise` rejects with, checked to be an UpstreamError. */
export const rejection = (promise: Promise<unknown>): Promise<UpstreamError> => rejectionOf(promise, UpstreamError);

/**
 * A fast-time simulator and the gateway client pointed at it for the enclosing `describe`, closed
 * after it; the simulator is reset before each test. `ready` receives both once they run.
 */
export function useSimulatorClient(ready: (started: { sim: RunningSimulator; client: UpstreamClient }) => void): void {
  let sim: RunningSimulator | undefined;
  let client: UpstreamClient | undefined;
  beforeAll(async () => {
    sim = await boot({ fastTime: true });
    client = createUpstreamClient({ baseUrl: sim.url, apiKey: KEY });
    ready({ sim, client });
  });
  afterAll(async () => {
    await client?.close();
    await sim?.close();
  });
  beforeEach(() => sim?.state.reset());
}
