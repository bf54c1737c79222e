import { firstPollAtOrAfter, lastPollBetween, pollsBetween } from './schedule';
import type { MjAction, MjTask } from './task-store';

export type MjStatus = '' | 'SUBMITTED' | 'MODAL' | 'IN_PROGRESS' | 'SUCCESS' | 'FAILURE' | 'CANCEL';

export type MjButton = { customId: string; emoji: string; label: string; type: number; style: number };

export const MJ_TIMEOUT_REASON = '上游任务超时（超过1小时）';
export const MJ_FAIL_REASON = '[Invalid parameter] Invalid value';
export const DISCORD_INSTANCE_ID = '1118138338562560102';

/** What the gateway's database says about an MJ task at one moment. */
export type MjView = {
  /** Gateway polls since the current run started (submit, or modal submit). */
  polls: number;
  status: MjStatus;
  /** `"0%"`…`"100%"`, or `""` (raw proxy failure). */
  progress: string;
  failReason: string;
  startTimeMs: number;
  finishTimeMs: number;
  isTimedOut: boolean;
  /** `/mj/image/{id}` serves the result until then. */
  imageExpiresAtMs: number | null;
  terminalAtMs: number | null;
  /** Whether the gateway has stored anything from the proxy yet (buttons, image). */
  hasPolled: boolean;
};

/**
 * The gateway's reading of a `customId` (NA `CoverPlusActionToNormalAction`): split on `::`,
 * take `[2]` after `JOB`, else `[1]`. `panic` = no `::` at all (the gateway crashes: 500 E9).
 */
export function actionOfCustomId(customId: string): MjAction | 'unknown' | 'panic' {
  const splits = customId.split('::');
  if (splits.length < 2) return 'panic';
  const name = (splits[1] === 'JOB' ? splits[2] : splits[1]) ?? '';
  if (name.includes('upsample')) return 'UPSCALE';
  if (name === 'low_variation') return 'LOW_VARIATION';
  if (name === 'high_variation') return 'HIGH_VARIATION';
  if (name.includes('variation')) return 'VARIATION';
  if (name.includes('pan')) return 'PAN';
  if (name.includes('reroll')) return 'REROLL';
  if (name === 'Outpaint') return 'ZOOM';
  if (name === 'CustomZoom') return 'CUSTOM_ZOOM';
  if (name === 'Inpaint') return 'INPAINT';
  return 'unknown';
}

/** Actions answered with code 21 + MODAL that the gateway does not rewrite (§9.3). */
export const MODAL_ACTIONS: ReadonlySet<MjAction> = new Set(['INPAINT', 'CUSTOM_ZOOM']);
/** Actions that go MODAL with `enableRemix` (code 21 rewritten to 1). */
export const REMIX_ACTIONS: ReadonlySet<MjAction> = new Set(['VARIATION', 'LOW_VARIATION', 'HIGH_VARIATION', 'PAN', 'REROLL']);

const button = (customId: string, label: string, emoji = ''): MjButton => ({ customId, emoji, label, type: 2, style: 2 });

/** TAI-style buttons of a finished task (`CustomComponentModel.cs` formats). */
export function buttonsFor(action: MjAction, hash: string): MjButton[] {
  if (action === 'DESCRIBE') {
    return [1, 2, 3, 4].map((i) => button(`MJ::Job::PicReader::${i}`, `${i}️⃣`)).concat(button('MJ::Picread::Retry', '', '🔄'));
  }
  if (action === 'UPSCALE') {
    return [
      button(`MJ::JOB::upsample_v7_2x_subtle::1::${hash}::SOLO`, 'Upscale (Subtle)'),
      button(`MJ::JOB::upsample_v7_2x_creative::1::${hash}::SOLO`, 'Upscale (Creative)'),
      button(`MJ::JOB::low_variation::1::${hash}::SOLO`, 'Vary (Subtle)', '🪄'),
      button(`MJ::JOB::high_variation::1::${hash}::SOLO`, 'Vary (Strong)', '🪄'),
      button(`MJ::Inpaint::1::${hash}::SOLO`, 'Vary (Region)', '🖌️'),
      button(`MJ::Outpaint::50::1::${hash}::SOLO`, 'Zoom Out 2x', '🔍'),
      button(`MJ::Outpaint::75::1::${hash}::SOLO`, 'Zoom Out 1.5x', '🔍'),
      button(`MJ::CustomZoom::1::${hash}`, 'Custom Zoom', '🔍'),
      button(`MJ::JOB::pan_left::1::${hash}::SOLO`, '', '⬅️'),
      button(`MJ::JOB::pan_right::1::${hash}::SOLO`, '', '➡️'),
      button(`MJ::JOB::pan_up::1::${hash}::SOLO`, '', '⬆️'),
      button(`MJ::JOB::pan_down::1::${hash}::SOLO`, '', '⬇️'),
      button(`MJ::JOB::animate_high::1::${hash}::SOLO`, 'Animate (High motion)', '🎞️'),
      button(`MJ::JOB::animate_low::1::${hash}::SOLO`, 'Animate (Low motion)', '🎞️'),
    ];
  }
  return [
    ...[1, 2, 3, 4].map((i) => button(`MJ::JOB::upsample::${i}::${hash}`, `U${i}`)),
    button(`MJ::JOB::reroll::0::${hash}::SOLO`, '', '🔄'),
    ...[1, 2, 3, 4].map((i) => button(`MJ::JOB::variation::${i}::${hash}`, `V${i}`)),
  ];
}

/** The run the proxy is executing: from submit, or from the modal submit. */
const runStart = (task: MjTask): number => task.modalSubmittedAtMs ?? task.submittedAtMs;
const isAwaitingModal = (task: MjTask): boolean => task.modal !== null && task.modalSubmittedAtMs === null;

function progressAt(task: MjTask, elapsedMs: number): string {
  const pct = task.durationMs > 0 ? Math.floor((100 * elapsedMs) / task.durationMs) : 99;
  return `${Math.min(task.outcome === 'stall' ? 50 : 99, Math.max(1, pct))}%`;
}

export function observeMj(task: MjTask, nowMs: number): MjView {
  const S = task.submittedAtMs;
  const R = runStart(task);
  const timeoutPoll = task.timeoutMs > 0 ? firstPollAtOrAfter(task.grid, S, S + task.timeoutMs, 1).atMs : null;
  const view: MjView = {
    polls: pollsBetween(task.grid, R, nowMs),
    status: '',
    progress: '0%',
    failReason: '',
    startTimeMs: 0,
    finishTimeMs: 0,
    isTimedOut: false,
    imageExpiresAtMs: null,
    terminalAtMs: null,
    hasPolled: pollsBetween(task.grid, S, nowMs) > 0,
  };
  const lastPoll = lastPollBetween(task.grid, S, nowMs);
  const timeOut = (): MjView => {
    view.status = 'FAILURE';
    view.progress = '100%';
    view.failReason = MJ_TIMEOUT_REASON;
    view.isTimedOut = true;
    view.finishTimeMs = timeoutPoll ?? 0;
    view.terminalAtMs = timeoutPoll;
    return view;
  };

  if (isAwaitingModal(task)) {
    view.terminalAtMs = timeoutPoll;
    if (timeoutPoll !== null && lastPoll !== null && lastPoll >= timeoutPoll) return timeOut();
    view.status = task.modal === 'after_poll' && lastPoll === null ? '' : 'MODAL';
    return view;
  }

  const D = task.durationMs;
  const endTarget = task.outcome === 'success' ? R + D : R + D / 2;
  const endPoll = task.outcome === 'stall' ? null : firstPollAtOrAfter(task.grid, R, endTarget, 2).atMs;
  const isTimeoutFirst = timeoutPoll !== null && (endPoll === null || timeoutPoll <= endPoll);
  view.terminalAtMs = isTimeoutFirst ? timeoutPoll : endPoll;
  const lastRunPoll = lastPollBetween(task.grid, R, nowMs);
  if (isTimeoutFirst && lastPoll !== null && timeoutPoll !== null && lastPoll >= timeoutPoll) return timeOut();
  if (lastRunPoll === null) {
    view.status = task.modal !== null ? 'MODAL' : '';
    return view;
  }
  const proxyStart = R + Math.round(D * 0.05);
  if (endPoll !== null && !isTimeoutFirst && lastRunPoll >= endPoll) {
    view.startTimeMs = proxyStart;
    view.finishTimeMs = Math.round(endTarget);
    switch (task.outcome) {
      case 'success':
        view.status = 'SUCCESS';
        view.progress = '100%';
        view.imageExpiresAtMs = view.finishTimeMs + task.imageTtlMs;
        return view;
      case 'cancelled':
        view.status = 'CANCEL';
        view.progress = '';
        return view;
      case 'failed_raw':
        view.status = 'FAILURE';
        view.progress = '';
        view.failReason = MJ_FAIL_REASON;
        return view;
      default:
        view.status = 'FAILURE';
        view.progress = '100%';
        view.failReason = MJ_FAIL_REASON;
        return view;
    }
  }
  if (view.polls === 1) {
    view.status = 'SUBMITTED';
    return view;
  }
  view.status = 'IN_PROGRESS';
  view.startTimeMs = proxyStart;
  view.progress = progressAt(task, lastRunPoll - R);
  return view;
}

/** The prompts a describe task returns (in `promptEn` and `properties.finalPrompt`). */
export function describePrompts(task: MjTask): string[] {
  const tag = (task.inputSha256s[0] ?? task.id).slice(0, 8);
  return [
    `a simulated photograph of subject ${tag}, soft light --ar 1:1`,
    `an illustration of scene ${tag} in pastel colours --ar 1:1`,
    `a cinematic still of ${tag}, shallow depth of field --ar 1:1`,
    `a watercolour painting of ${tag} --ar 1:1`,
  ];
}

const NUMERALS = ['1️⃣', '2️⃣', '3️⃣', '4️⃣'];
export const describeText = (task: MjTask): string => describePrompts(task).map((p, i) => `${NUMERALS[i] ?? ''} ${p}`).join('\n\n');

export const mjImageUrl = (baseUrl: string, id: string): string => `${baseUrl}/mj/image/${id}`;

/** `GET /mj/task/{id}/fetch` body (NA `coverMidjourneyTaskDto`, §9.4). */
export function mjTaskDto(task: MjTask, view: MjView, baseUrl: string, nowMs: number): Record<string, unknown> {
  const isDescribeDone = task.action === 'DESCRIBE' && view.status === 'SUCCESS';
  const promptEn = isDescribeDone ? describeText(task) : task.promptEn;
  let imageUrl = '';
  if (view.status === 'SUCCESS') imageUrl = mjImageUrl(baseUrl, task.id);
  else if (view.status === 'IN_PROGRESS') imageUrl = `${mjImageUrl(baseUrl, task.id)}?rand=${BigInt(Math.floor(nowMs)) * 1_000_000n}`;
  let buttons: MjButton[] | null = null;
  if (task.hasButtons && view.hasPolled) buttons = view.status === 'SUCCESS' ? buttonsFor(task.action, task.hash) : [];
  return {
    id: task.id,
    action: task.action,
    customId: '',
    botType: '',
    prompt: task.prompt,
    promptEn: view.hasPolled ? promptEn : '',
    description: task.description,
    state: task.state,
    submitTime: task.submittedAtMs,
    startTime: view.startTimeMs,
    finishTime: view.finishTimeMs,
    imageUrl,
    videoUrl: '',
    videoUrls: null,
    status: view.status,
    progress: view.progress,
    failReason: view.failReason,
    buttons,
    maskBase64: '',
    properties: view.hasPolled ? { finalPrompt: promptEn, finalZhPrompt: '' } : null,
  };
}

/** Seed of the PNG an MJ task renders. */
export const mjSeed = (parts: readonly string[]): string => `mj|${parts.join('|')}`;
