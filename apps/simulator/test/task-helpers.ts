import { renderPng, type RunningSimulator, type StartSimulatorOptions, type TaskOptions } from '../src';
import { AUTH, boot, call } from './helpers';

/** 2026-02-05T17:46:39Z: the `created_at` of docs/gateway.md §8's examples. */
export const T0 = 1_770_313_599_000;
export const T0_SEC = T0 / 1000;

/** A simulator on a frozen clock starting at T0 (the poll grid starts there too); move it with `advance`. */
export function bootFrozen(tasks: TaskOptions = {}, options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  return boot({ now: () => T0, ...options, tasks });
}

export const advance = (sim: RunningSimulator, ms: number): number => sim.state.clock.advance(ms);

/** Moves the clock to T0 + `ms`. */
export const advanceTo = (sim: RunningSimulator, ms: number): number => sim.state.clock.advance(T0 + ms - sim.state.clock.now());

export async function getJson<T = any>(sim: RunningSimulator, path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await call(sim, path, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T, headers: res.headers };
}

export const postJson = <T = any>(sim: RunningSimulator, path: string, json: unknown) => getJson<T>(sim, path, { json });

export async function simTasks(sim: RunningSimulator, query = ''): Promise<any> {
  return (await call(sim, `/_sim/tasks${query}`)).json();
}

export async function simTask(sim: RunningSimulator, id: string): Promise<any> {
  return (await call(sim, `/_sim/tasks/${id}`)).json();
}

/** A small distinct PNG as a data URL (MJ submit bodies carry images this way). */
export const pngDataUrl = (n: number): string => `data:image/png;base64,${renderPng(`input-${n}`, 4).toString('base64')}`;
