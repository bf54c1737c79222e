/**
 * The value `record` holds under `key` itself, never one it inherits: a client's model name such as
 * "constructor" or "toString" must not find Object.prototype's function in a lookup table.
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
