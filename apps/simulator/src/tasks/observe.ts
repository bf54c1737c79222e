import type { SimulatorState } from '../state';
import { observeMj, type MjView } from './mj-model';
import type { MjTask, SimTask, VideoTask } from './task-store';
import { observeVideo, type VideoView } from './video-model';

/**
 * Reads a task's current view and settles billing like the gateway's poller: a task seen failed
 * is refunded once (lazily, on the first read after the failure).
 */
export function observeVideoTask(state: SimulatorState, task: VideoTask): VideoView {
  const view = observeVideo(task, state.clock.now(), state.options.tasks.videoTimeoutMinutes);
  if (view.internal === 'FAILURE') refundOnce(state, task);
  return view;
}

export function observeMjTask(state: SimulatorState, task: MjTask): MjView {
  const view = observeMj(task, state.clock.now());
  if (view.status === 'FAILURE' || view.status === 'CANCEL') refundOnce(state, task);
  return view;
}

function refundOnce(state: SimulatorState, task: SimTask): void {
  if (task.isRefunded || task.costQuota === 0) return;
  task.isRefunded = true;
  state.balance.refund(task.costQuota);
}
