/**
 * The error `promise` rejects with, which must be an instance of `type`; throws (failing the test)
 * when it resolves or rejects with something else.
 */
export async function rejectionOf<E>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof type) return err;
    throw new Error(`expected a rejection with ${type.name}, got: ${String(err)}`, { cause: err });
  }
  throw new Error(`expected a rejection with ${type.name}, but it resolved`);
}
