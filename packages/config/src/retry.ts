/**
 * Retries a start-up step (a migration, a first connection) until it succeeds: a process waits for
 * its dependencies instead of exiting because one was briefly away.
 */
export async function retryUntilDone<T>(
  step: () => Promise<T>,
  onRetry: (err: unknown, attempt: number, delayMs: number) => void,
  maxDelayMs = 10_000,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (err) {
      const delayMs = Math.min(maxDelayMs, 500 * 2 ** Math.min(attempt - 1, 5));
      onRetry(err, attempt, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
