/**
 * `npm start` on a terminal: each process's JSON log lines as one readable, coloured line
 * (`12:03:04 api    INFO  http.request method=GET path=/v1/jobs status=200`). Not a terminal (CI,
 * a file, a log shipper): the JSON passes through untouched.
 */
const LEVELS: Record<number, { name: string; color: number }> = {
  10: { name: 'TRACE', color: 90 },
  20: { name: 'DEBUG', color: 36 },
  30: { name: 'INFO ', color: 32 },
  40: { name: 'WARN ', color: 33 },
  50: { name: 'ERROR', color: 31 },
  60: { name: 'FATAL', color: 35 },
};
const BASE_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'event', 'v']);
const PROCESS_COLORS = [34, 35, 36, 33];

export type PrettyOptions = { color: boolean; width?: number };

const paint = (on: boolean, code: number, text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

function valueText(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/** One log line of process `name` (the `index`-th process, for its colour), formatted. */
export function formatLogLine(name: string, index: number, line: string, options: PrettyOptions): string {
  const label = paint(options.color, PROCESS_COLORS[index % PROCESS_COLORS.length]!, name.padEnd(options.width ?? 9));
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return `${label} ${line}`;
    entry = parsed as Record<string, unknown>;
  } catch {
    return `${label} ${line}`;
  }
  const level = LEVELS[Number(entry['level'] ?? 30)] ?? { name: String(entry['level']).padEnd(5), color: 37 };
  const time = typeof entry['time'] === 'number' ? new Date(entry['time']).toISOString().slice(11, 19) : '        ';
  const fields: string[] = [];
  let stack = '';
  for (const [key, value] of Object.entries(entry)) {
    if (BASE_FIELDS.has(key) || value === undefined) continue;
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { message?: unknown; stack?: unknown; type?: unknown };
      fields.push(`err=${valueText(String(err.message ?? err.type ?? 'error'))}`);
      if (Number(entry['level']) >= 50 && typeof err.stack === 'string') stack = `\n${paint(options.color, 90, err.stack)}`;
      continue;
    }
    fields.push(`${paint(options.color, 90, `${key}=`)}${valueText(value)}`);
  }
  // pino writes `msg`; the simulator's own lines name their `event`
  const msg = typeof entry['msg'] === 'string' ? entry['msg'] : typeof entry['event'] === 'string' ? entry['event'] : '';
  return `${paint(options.color, 90, time)} ${label} ${paint(options.color, level.color, level.name)} ${paint(options.color, 1, msg)}${fields.length ? ` ${fields.join(' ')}` : ''}${stack}`;
}

/** Splits a stream's chunks into lines and hands each to `write`, formatted. */
export function lineFormatter(name: string, index: number, options: PrettyOptions, write: (text: string) => void): (chunk: Buffer) => void {
  let buffer = '';
  return (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') write(`${formatLogLine(name, index, line, options)}\n`);
  };
}
