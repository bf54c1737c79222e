import type { RunningSimulator } from '../src';
import { cdnBaseUrl } from '../src/chat/chat-script';
import { authed, boot, call } from './helpers';

const FIXED_NOW = Date.UTC(2026, 5, 24, 0, 35, 37, 808);

async function session(sim: RunningSimulator): Promise<unknown[]> {
  await call(sim, '/_sim/counters'); // control traffic must not shift media ids
  const image = await authed(sim, '/v1/images/generations', { model: 'dall-e-3', prompt: 'a cat', n: 1 });
  const chat = await authed(sim, '/v1/chat/completions', { model: 'gpt-4o-image', messages: [{ role: 'user', content: 'a dog' }] });
  // links name the simulator by its address (the gateway's, or the simulated CDN's): the port differs per run
  const strip = (text: string): string => text.split(sim.url).join('<base>').split(cdnBaseUrl(sim.url)).join('<cdn>');
  return [image.headers.get('x-oneapi-request-id'), strip(await image.text()), strip(await chat.text())];
}

describe('determinism', () => {
  it('answers the same bytes and ids for the same seed, clock and requests', async () => {
    const first = await boot({ now: () => FIXED_NOW, fastTime: true });
    const second = await boot({ now: () => FIXED_NOW, fastTime: true });
    try {
      const [a, b] = [await session(first), await session(second)];
      expect(a).toEqual(b);
      expect(a[0]).toMatch(/^20260624003537808\d*[0-9a-f]{8}[A-Za-z0-9]{8}$/);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('rewinds ids on reset, and another seed gives other ids', async () => {
    const sim = await boot({ now: () => FIXED_NOW, fastTime: true });
    const other = await boot({ now: () => FIXED_NOW, fastTime: true, seed: 'other' });
    try {
      const before = await session(sim);
      await call(sim, '/_sim/reset', { method: 'POST' });
      expect(await session(sim)).toEqual(before);
      expect((await session(other))[1]).not.toEqual(before[1]);
    } finally {
      await Promise.all([sim.close(), other.close()]);
    }
  });
});
