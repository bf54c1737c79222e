import {
  classifyMjSubmitRefusal,
  classifyMjTaskFailure,
  classifyResultGone,
  classifyVideoTaskFailure,
  isUnknownTask,
  MjSubmitError,
  parseMjTask,
  parseVideoTask,
  UpstreamError,
} from '../src';

/** Gateway task failures (video §8, MJ §9) classified once, into the job error a worker fails with. */

const mjTask = (fields: Record<string, unknown>) => parseMjTask({ id: '1750000123456789', submitTime: 1750000123456, ...fields });
const refusal = (mjCode: number, description: string, properties: Record<string, unknown> = {}, kind?: UpstreamError['kind']) =>
  new MjSubmitError({ mjCode, description, properties, httpStatus: 200, ...(kind ? { kind } : {}) });

describe('classifyVideoTaskFailure', () => {
  it('the gateway timeout (text, no code) is upstream_timeout, not retryable', () => {
    const task = parseVideoTask({ id: 'task_1', status: 'failed', error: { code: '', message: '任务超时（1440分钟）' } });
    expect(classifyVideoTaskFailure(task)).toEqual({ code: 'upstream_timeout', message: 'The gateway timed the task out: 任务超时（1440分钟）', retryable: false });
  });

  it.each(['moderation_blocked', 'content_policy_violation', 'invalid_value', 'invalid_request', 'invalid_size', 'prompt_blocked'])('code %s is a refused input', (code) => {
    const task = parseVideoTask({ id: 'task_1', status: 'failed', error: { code, message: 'blocked' } });
    expect(classifyVideoTaskFailure(task)).toEqual({ code: 'upstream_rejected', message: 'blocked', retryable: false });
  });

  it('any other failure is a retryable upstream_error naming the upstream status', () => {
    const broken = parseVideoTask({ id: 'task_1', status: 'failed', error: { code: 'server_error', message: 'the channel broke' } });
    expect(classifyVideoTaskFailure(broken)).toEqual({ code: 'upstream_error', message: 'the channel broke (upstream status failed)', retryable: true });
    const expired = parseVideoTask({ id: 'task_1', status: 'expired', error: null });
    expect(classifyVideoTaskFailure(expired)).toMatchObject({ code: 'upstream_error', retryable: true });
    expect(classifyVideoTaskFailure(expired).message).toContain('(upstream status expired)');
  });

  it('never reads the message: a refusal text under an unknown code stays retryable', () => {
    const task = parseVideoTask({ id: 'task_1', status: 'failed', error: { code: 'something_new', message: 'moderation_blocked' } });
    expect(classifyVideoTaskFailure(task).code).toBe('upstream_error');
  });
});

describe('classifyMjTaskFailure', () => {
  it('the 1 h gateway timeout is upstream_timeout, not retryable', () => {
    expect(classifyMjTaskFailure(mjTask({ status: 'FAILURE', progress: '100%', failReason: '上游任务超时（超过1小时）' }))).toEqual({
      code: 'upstream_timeout',
      message: 'The gateway timed the task out: 上游任务超时（超过1小时）',
      retryable: false,
    });
  });

  it('a task canceled upstream and a plain FAILURE are retryable upstream_errors', () => {
    expect(classifyMjTaskFailure(mjTask({ status: 'CANCEL', failReason: 'by the admin' }))).toEqual({ code: 'upstream_error', message: 'The task was canceled upstream: by the admin', retryable: true });
    expect(classifyMjTaskFailure(mjTask({ status: 'FAILURE', failReason: '[Invalid parameter] Invalid value' }))).toEqual({
      code: 'upstream_error',
      message: '[Invalid parameter] Invalid value',
      retryable: true,
    });
    expect(classifyMjTaskFailure(mjTask({ status: 'FAILURE' })).message).toBe('the gateway reports FAILURE');
  });
});

describe('classifyMjSubmitRefusal', () => {
  it('24 (a banned prompt) is a refused input naming the word', () => {
    expect(classifyMjSubmitRefusal(refusal(24, '可能包含敏感词', { bannedWord: 'nude' }))).toEqual({
      code: 'upstream_rejected',
      message: 'Midjourney refused the prompt (banned word "nude"): 可能包含敏感词',
      retryable: false,
    });
    expect(classifyMjSubmitRefusal(refusal(24, '可能包含敏感词'))?.message).toBe('Midjourney refused the prompt: 可能包含敏感词');
  });

  it('9 (the proxy system error) fails the job at once, and a retry of it may succeed', () => {
    expect(classifyMjSubmitRefusal(refusal(9, '提交失败'))).toEqual({ code: 'upstream_error', message: 'Midjourney system error (code 9): 提交失败', retryable: true });
    // a code 9 the gateway classed otherwise (not a refusal) keeps its own classification
    expect(classifyMjSubmitRefusal(refusal(9, '提交失败', {}, 'retryable'))).toBeUndefined();
  });

  it('other refusals and other errors stay the classified errors they are', () => {
    expect(classifyMjSubmitRefusal(refusal(4, 'prompt不能为空'))).toBeUndefined();
    expect(classifyMjSubmitRefusal(new UpstreamError({ kind: 'rate_limited', message: '429', httpStatus: 429 }))).toBeUndefined();
    expect(classifyMjSubmitRefusal(new Error('reset'))).toBeUndefined();
  });
});

describe('classifyResultGone and isUnknownTask', () => {
  const notFound = new UpstreamError({ kind: 'not_found', message: 'result URL expired', httpStatus: 403 });

  it('a result the gateway no longer serves fails for good; any other error is left alone', () => {
    expect(classifyResultGone(notFound, 'finished video')).toEqual({ code: 'upstream_error', message: 'The finished video is no longer available upstream: result URL expired', retryable: false });
    expect(classifyResultGone(new UpstreamError({ kind: 'retryable', message: '502', httpStatus: 502 }), 'finished video')).toBeUndefined();
    expect(classifyResultGone(new Error('reset'), 'Midjourney image')).toBeUndefined();
  });

  it('a status read of an unknown task is told apart from other failures', () => {
    expect(isUnknownTask(notFound)).toBe(true);
    expect(isUnknownTask(new UpstreamError({ kind: 'rejected', message: 'bad', httpStatus: 400 }))).toBe(false);
    expect(isUnknownTask(new Error('task_not_exist'))).toBe(false);
  });
});
