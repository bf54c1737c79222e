/**
 * A small reader of the Prometheus text exposition format (0.0.4), enough for the tests: `# TYPE`
 * lines and samples `name{label="value",…} value [timestamp]`, with escaped label values.
 */
export type Sample = { name: string; labels: Record<string, string>; value: number };

export class Scrape {
  constructor(
    readonly samples: readonly Sample[],
    /** metric family name → counter, gauge, histogram, summary or untyped */
    readonly types: ReadonlyMap<string, string>,
  ) {}

  static parse(text: string): Scrape {
    const samples: Sample[] = [];
    const types = new Map<string, string>();
    for (const [index, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (line === '') continue;
      if (line.startsWith('#')) {
        const type = /^#\s+TYPE\s+(\S+)\s+(\S+)$/.exec(line);
        if (type) types.set(type[1]!, type[2]!);
        continue;
      }
      samples.push(parseSample(line, index + 1));
    }
    return new Scrape(samples, types);
  }

  /** Samples of `name` whose labels include `labels`. */
  find(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The sum of the matching samples (0 when none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.find(name, labels).reduce((total, s) => total + s.value, 0);
  }

  has(name: string, labels: Record<string, string> = {}): boolean {
    return this.find(name, labels).length > 0;
  }
}

function parseSample(line: string, lineNo: number): Sample {
  const fail = (why: string): never => {
    throw new Error(`line ${lineNo}: ${why}: ${line}`);
  };
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line) ?? fail('no metric name');
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos += 1;
    for (;;) {
      while (line[pos] === ' ' || line[pos] === ',') pos += 1;
      if (line[pos] === '}') {
        pos += 1;
        break;
      }
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos)) ?? fail('bad label name');
      pos += labelMatch[0].length;
      if (line[pos] !== '=' || line[pos + 1] !== '"') fail('expected ="');
      pos += 2;
      let value = '';
      for (;;) {
        const ch = line[pos] ?? fail('unterminated label value');
        pos += 1;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = line[pos] ?? fail('dangling escape');
          pos += 1;
          value += next === 'n' ? '\n' : next;
        } else {
          value += ch;
        }
      }
      labels[labelMatch[0]] = value;
    }
  }
  const rest = line.slice(pos).trim().split(/\s+/);
  const text = rest[0] ?? fail('no value');
  // Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client writes `Nan`)
  const special: Record<string, number> = { nan: NaN, '+inf': Infinity, inf: Infinity, '-inf': -Infinity };
  const lower = text.toLowerCase();
  const value = lower in special ? special[lower]! : Number(text);
  if (Number.isNaN(value) && lower !== 'nan') fail('bad value');
  return { name, labels, value };
}
