import { useState } from 'react';
import { copyText } from '../lib/clipboard';

export function CopyButton({ text, label = 'Copy', className = '' }: { text: string; label?: string; className?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      className={`btn btn-ghost btn-xs copy-btn ${className}`}
      title="Copy to clipboard"
      onClick={async (e) => {
        e.stopPropagation();
        e.preventDefault();
        const ok = await copyText(text);
        setState(ok ? 'copied' : 'failed');
        setTimeout(() => setState('idle'), 1500);
      }}
    >
      <span aria-live="polite">{state === 'copied' ? '✓ Copied' : state === 'failed' ? 'Copy failed' : label}</span>
    </button>
  );
}

/** A monospace id with its copy button. */
export function IdWithCopy({ id }: { id: string }) {
  return (
    <span className="id-copy">
      <code className="mono">{id}</code>
      <CopyButton text={id} />
    </span>
  );
}
