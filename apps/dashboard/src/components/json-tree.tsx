import { useState } from 'react';
import { CopyButton } from './copy-button';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span className="json-null">null</span>;
  if (typeof value === 'string') {
    const long = value.length > 300;
    return <span className="json-string">"{long ? `${value.slice(0, 300)}… (${value.length} chars)` : value}"</span>;
  }
  if (typeof value === 'number') return <span className="json-number">{value}</span>;
  if (typeof value === 'boolean') return <span className="json-bool">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

function Node({ name, value, depth }: { name: string | null; value: unknown; depth: number }) {
  const [open, setOpen] = useState(depth < 2);
  const label = name === null ? null : <span className="json-key">{name}: </span>;
  if (!isObject(value) && !Array.isArray(value)) {
    return (
      <div className="json-row">
        {label}
        <Scalar value={value} />
      </div>
    );
  }
  const entries: Array<[string, unknown]> = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const brackets = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    return (
      <div className="json-row">
        {label}
        <span className="json-punct">{brackets.join('')}</span>
      </div>
    );
  }
  return (
    <div className="json-node">
      <button type="button" className="json-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span className="json-caret" aria-hidden="true">
          {open ? '▾' : '▸'}
        </span>
        {label}
        <span className="json-punct">{brackets[0]}</span>
        {!open ? (
          <span className="json-summary">
            {' '}
            {entries.length} {Array.isArray(value) ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'} {brackets[1]}
          </span>
        ) : null}
      </button>
      {open ? (
        <div className="json-children">
          {entries.map(([k, v]) => (
            <Node key={k} name={k} value={v} depth={depth + 1} />
          ))}
          <div className="json-punct">{brackets[1]}</div>
        </div>
      ) : null}
    </div>
  );
}

/** Input and output as a collapsible tree; the first two levels start open. */
export function JsonTree({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <p className="muted">None</p>;
  return (
    <div className="json-tree">
      <div className="json-tools">
        <CopyButton text={JSON.stringify(value, null, 2)} label="Copy JSON" />
      </div>
      <Node name={null} value={value} depth={0} />
    </div>
  );
}
