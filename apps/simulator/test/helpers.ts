import { inflateSync } from 'node:zlib';
import { crc32, PNG_SIGNATURE } from '../src';
import { startSimulator, type RunningSimulator, type StartSimulatorOptions } from '../src/server';

export const KEY = 'sk-test-key';
export const AUTH = { authorization: `Bearer ${KEY}` };

/** Starts a simulator on a free port; `stop()` in afterAll/afterEach. */
export async function boot(options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  return startSimulator({ port: 0, ...options });
}

export async function call(sim: RunningSimulator, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, headers, ...rest } = init;
  return fetch(`${sim.url}${path}`, {
    ...rest,
    method: rest.method ?? (json === undefined ? 'GET' : 'POST'),
    headers: { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...(headers as Record<string, string> | undefined) },
    body: json === undefined ? rest.body : JSON.stringify(json),
  });
}

export const authed = (sim: RunningSimulator, path: string, json?: unknown): Promise<Response> => call(sim, path, { headers: AUTH, json });

export async function armFault(sim: RunningSimulator, fault: Record<string, unknown>): Promise<void> {
  const res = await call(sim, '/_sim/faults', { json: fault });
  if (res.status !== 201) throw new Error(`arming fault failed: ${res.status} ${await res.text()}`);
}

/** `data:` payloads of an SSE body, in order; comment lines are returned as `: …`. */
export function sseEvents(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => (block.startsWith('data: ') ? block.slice(6) : block));
}

/** Polls `predicate` until it holds, failing after `timeoutMs` (waits on state, not on a fixed sleep). */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export type PngInfo = { width: number; height: number; bitDepth: number; colourType: number; pixels: Buffer; chunkTypes: string[] };

/** Parses a PNG, checking the signature and every chunk CRC; inflates the IDAT data. */
export function readPng(bytes: Buffer): PngInfo {
  if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('bad PNG signature');
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | null = null;
  for (let offset = 8; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    const crc = bytes.readUInt32BE(offset + 8 + length);
    if (crc !== crc32(bytes.subarray(offset + 4, offset + 8 + length))) throw new Error(`bad CRC in ${type}`);
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = Buffer.from(data);
    if (type === 'IDAT') idat.push(Buffer.from(data));
    offset += 12 + length;
  }
  if (!ihdr) throw new Error('no IHDR');
  return {
    width: ihdr.readUInt32BE(0),
    height: ihdr.readUInt32BE(4),
    bitDepth: ihdr[8] as number,
    colourType: ihdr[9] as number,
    pixels: inflateSync(Buffer.concat(idat)),
    chunkTypes,
  };
}
