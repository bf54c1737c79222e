import { actionOfCustomId, buttonsFor, markersIn, TaskStore, type SimMjTask, type SimVideoTask } from '../src';
import { observeMj } from '../src/tasks/mj-model';
import { firstPollAtOrAfter, lastPollBetween, nthPollAfter, pollsBetween, type PollGrid } from '../src/tasks/schedule';
import { observeVideo } from '../src/tasks/video-model';

const grid: PollGrid = { originMs: 1_000, tickMs: 100 };

describe('poll grid', () => {
  it('counts polls in (since, at] and finds the n-th and the first at or after a target', () => {
    expect(pollsBetween(grid, 1_000, 1_000)).toBe(0);
    expect(pollsBetween(grid, 1_000, 1_099)).toBe(0);
    expect(pollsBetween(grid, 1_000, 1_100)).toBe(1);
    expect(pollsBetween(grid, 1_050, 1_350)).toBe(3);
    expect(lastPollBetween(grid, 1_050, 1_099)).toBeNull();
    expect(lastPollBetween(grid, 1_050, 1_350)).toBe(1_300);
    expect(nthPollAfter(grid, 1_050, 1)).toBe(1_100);
    expect(nthPollAfter(grid, 1_100, 2)).toBe(1_300);
    expect(firstPollAtOrAfter(grid, 1_050, 1_160)).toEqual({ n: 2, atMs: 1_200 });
    expect(firstPollAtOrAfter(grid, 1_050, 1_000, 2)).toEqual({ n: 2, atMs: 1_200 });
    expect(firstPollAtOrAfter(grid, 1_050, 1_300)).toEqual({ n: 3, atMs: 1_300 });
  });
});

describe('markers and customIds', () => {
  it('finds markers without confusing sim:fail with sim:fail-raw', () => {
    expect([...markersIn('x SIM:FAIL y')]).toEqual(['sim:fail']);
    expect([...markersIn('x sim:fail-raw')]).toEqual(['sim:fail-raw']);
    expect([...markersIn('sim:failure is not a marker')]).toEqual([]);
  });

  it('reads customIds like the gateway (CoverPlusActionToNormalAction)', () => {
    expect(actionOfCustomId('MJ::JOB::upsample::1::h')).toBe('UPSCALE');
    expect(actionOfCustomId('MJ::JOB::upsample_v7_2x_subtle::1::h::SOLO')).toBe('UPSCALE');
    expect(actionOfCustomId('MJ::JOB::variation::2::h')).toBe('VARIATION');
    expect(actionOfCustomId('MJ::JOB::low_variation::1::h::SOLO')).toBe('LOW_VARIATION');
    expect(actionOfCustomId('MJ::JOB::high_variation::1::h::SOLO')).toBe('HIGH_VARIATION');
    expect(actionOfCustomId('MJ::JOB::reroll::0::h::SOLO')).toBe('REROLL');
    expect(actionOfCustomId('MJ::JOB::pan_left::1::h::SOLO')).toBe('PAN');
    expect(actionOfCustomId('MJ::Outpaint::50::1::h::SOLO')).toBe('ZOOM');
    expect(actionOfCustomId('MJ::CustomZoom::1::h')).toBe('CUSTOM_ZOOM');
    expect(actionOfCustomId('MJ::Inpaint::1::h::SOLO')).toBe('INPAINT');
    expect(actionOfCustomId('MJ::JOB::animate_high::1::h::SOLO')).toBe('unknown');
    expect(actionOfCustomId('MJ::Job::PicReader::1')).toBe('unknown');
    expect(actionOfCustomId('no-colons')).toBe('panic');
    // Every button the simulator offers is either an action the gateway relays or one it refuses on purpose.
    for (const b of buttonsFor('UPSCALE', 'h')) expect(actionOfCustomId(b.customId)).not.toBe('panic');
  });
});

describe('lazy state at scale', () => {
  it('computes 20 000 task views lazily from their submit time, without timers', () => {
    const store = new TaskStore(0, 'seed');
    const counters = { submissions: 1, modalSubmissions: 0, statusRequests: 0, fetchRequests: 0, listRequests: 0, contentRequests: 0, imageRequests: 0 };
    const base = { seq: 1, key: 'k', prompt: 'p', state: '', grid: { originMs: 0, tickMs: 250 }, durationMs: 1_500, timeoutMs: 60_000, costQuota: 0, isRefunded: false, inputSha256s: [], mediaSeed: 's', counters };
    const videos: SimVideoTask[] = [];
    const mjs: SimMjTask[] = [];
    for (let i = 0; i < 10_000; i += 1) {
      videos.push({ ...base, id: `v${i}`, family: 'video', submittedAtMs: i, model: 'sora-2', isSora: true, seconds: '4', size: '720x1280', action: 'textGenerate', outcome: 'success', createdAt: 0, contentTtlMs: 1_000, isStaleAfterTimeout: false });
      mjs.push({ ...base, id: `m${i}`, family: 'mj', submittedAtMs: i, durationMs: 750, action: 'IMAGINE', promptEn: 'p', description: 'd', botType: '', parentId: null, customId: '', outcome: 'success', modal: null, modalSubmittedAtMs: null, hash: store.uuidFor(`m${i}`), imageTtlMs: 1_000, hasButtons: true });
    }
    const now = 20_000;
    const videoStates = new Set(videos.map((t) => observeVideo(t, now, 1440).internal));
    const mjStates = new Set(mjs.map((t) => observeMj(t, now).status));
    expect(videoStates).toEqual(new Set(['SUCCESS']));
    expect(mjStates).toEqual(new Set(['SUCCESS']));
  });

  it('16-digit MJ ids stay unique within one millisecond', () => {
    const store = new TaskStore(0, 'seed');
    const ids = new Set<string>();
    for (let i = 0; i < 3_000; i += 1) {
      store.nextSeq();
      const id = store.mjId(1_770_313_599_000);
      store.add({ id, family: 'mj', seq: i, key: 'k', prompt: '', state: '', submittedAtMs: 0, grid, durationMs: 1, timeoutMs: 0, costQuota: 0, inputSha256s: [], mediaSeed: '', action: 'IMAGINE', promptEn: '', description: '', botType: '', parentId: null, customId: '', outcome: 'success', modal: null, modalSubmittedAtMs: null, hash: '', imageTtlMs: 0, hasButtons: false } as Omit<SimMjTask, 'counters' | 'isRefunded'>);
      expect(id).toMatch(/^\d{16}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(3_000);
  });
});
