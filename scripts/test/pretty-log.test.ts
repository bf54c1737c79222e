import { formatLogLine, lineFormatter } from '../lib/pretty-log';

describe("npm start's readable log lines", () => {
  const time = Date.UTC(2026, 11, 5, 12, 3, 4);

  it('turns a JSON line into time, process, level, message and fields', () => {
    const line = JSON.stringify({ level: 30, time, pid: 1, hostname: 'h', name: 'api', msg: 'http.request', method: 'GET', path: '/v1/jobs', status: 200 });
    expect(formatLogLine('api', 0, line, { color: false, width: 6 })).toBe('12:03:04 api    INFO  http.request method=GET path=/v1/jobs status=200');
  });

  it('quotes values with spaces, shows an error by its message and its stack at error level', () => {
    const line = JSON.stringify({ level: 50, time, msg: 'job.failed', reason: 'two words', err: { message: 'boom', stack: 'Error: boom\n    at x' } });
    const text = formatLogLine('worker', 1, line, { color: false, width: 6 });
    expect(text.split('\n')[0]).toBe('12:03:04 worker ERROR job.failed reason="two words" err=boom');
    expect(text).toContain('    at x');
  });

  it('colours on a terminal and passes what is not JSON through', () => {
    const coloured = formatLogLine('api', 0, JSON.stringify({ level: 40, time, msg: 'slow' }), { color: true });
    expect(coloured).toContain('\u001b[33mWARN');
    expect(formatLogLine('simulator', 2, 'plain text', { color: false, width: 10 })).toBe('simulator  plain text');
  });

  it('splits chunks into whole lines', () => {
    const out: string[] = [];
    const feed = lineFormatter('api', 0, { color: false, width: 4 }, (t) => out.push(t));
    feed(Buffer.from('{"level":30,"time":' + time + ',"msg":"a"}\n{"level":30,"ti'));
    expect(out).toEqual(['12:03:04 api  INFO  a\n']);
    feed(Buffer.from('me":' + time + ',"msg":"b"}\n'));
    expect(out[1]).toBe('12:03:04 api  INFO  b\n');
  });
});

describe("the simulator's lines", () => {
  it('are read by their event, at info', () => {
    const text = formatLogLine('simulator', 2, JSON.stringify({ event: 'simulator.started', url: 'http://127.0.0.1:8090' }), { color: false, width: 10 });
    expect(text).toBe('         simulator  INFO  simulator.started url=http://127.0.0.1:8090');
  });
});
