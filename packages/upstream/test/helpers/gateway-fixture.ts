import { rejectionOf } from '@genqueue/testing';
import { createUpstreamClient, UpstreamError, type UpstreamClient, type UpstreamClientOptions } from '../../src';
import { startServer, type Handler, type LocalServer } from './local-server';

export const KEY = 'sk-test-key';

const cleanups: Array<() => Promise<void>> = [];

/** Closes every server and client the current test made; call from `afterEach`. */
export async function closeGateways(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export function clientFor(server: LocalServer, options: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  const client = createUpstreamClient({ baseUrl: server.origin, apiKey: KEY, ...options });
  cleanups.push(() => client.close());
  return client;
}

/** A local HTTP server playing the gateway, and a client pointed at it. */
export async function gateway(handler: Handler, options: Partial<UpstreamClientOptions> = {}): Promise<{ server: LocalServer; client: UpstreamClient }> {
  const server = await startServer(handler);
  cleanups.push(() => server.close());
  return { server, client: clientFor(server, options) };
}

export function trackCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/** The error `promise` rejects with, checked to be an UpstreamError. */
export const upstreamRejection = (promise: Promise<unknown>): Promise<UpstreamError> => rejectionOf(promise, UpstreamError);
