import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { projectsApi, statsApi } from '../api/admin';
import { JOB_STATUSES, JOB_TYPES } from '../api/types';
import type { JobsSearch } from '../lib/search';
import { isoToLocalInput, localInputToIso } from '../lib/time';

type Props = { search: JobsSearch; onChange: (patch: Partial<JobsSearch>) => void };

const PRESETS = [
  { value: '', label: 'Any time' },
  { value: '1h', label: 'Last hour' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
  { value: 'custom', label: 'Between dates…' },
];

export function useProjectNames(): Map<string, string> {
  const projects = useQuery({ queryKey: ['projects'], queryFn: projectsApi.list, staleTime: 30_000 });
  return new Map((projects.data?.data ?? []).map((p) => [p.id, p.name]));
}

export function JobsFilters({ search, onChange }: Props) {
  const projects = useQuery({ queryKey: ['projects'], queryFn: projectsApi.list, staleTime: 30_000 });
  // types this dashboard does not know yet still show once jobs of them exist
  const stats = useQuery({ queryKey: ['stats'], queryFn: statsApi.stats, staleTime: 60_000 });
  const types = [...new Set([...JOB_TYPES, ...Object.keys(stats.data?.jobs_by_type ?? {}), ...(search.type ? [search.type] : [])])];
  const [q, setQ] = useState(search.q ?? '');
  const [meta, setMeta] = useState(search.meta ?? '');
  const [custom, setCustom] = useState(Boolean(search.created_before));
  const statuses = new Set((search.status ?? '').split(',').filter(Boolean));

  // The URL is the truth: follow it when it changes (back button, a shared link).
  useEffect(() => setQ(search.q ?? ''), [search.q]);
  useEffect(() => setMeta(search.meta ?? ''), [search.meta]);

  // Search as you type, a moment after the last key.
  useEffect(() => {
    if ((search.q ?? '') === q) return;
    const timer = setTimeout(() => onChange({ q: q.trim() || undefined }), 400);
    return () => clearTimeout(timer);
  }, [q, search.q, onChange]);

  const toggleStatus = (status: string) => {
    const next = new Set(statuses);
    if (next.has(status)) next.delete(status);
    else next.add(status);
    onChange({ status: next.size ? JOB_STATUSES.filter((s) => next.has(s)).join(',') : undefined });
  };

  const presetValue = search.range ?? (custom || search.created_after || search.created_before ? 'custom' : '');
  const anyFilter = Object.values(search).some(Boolean);

  return (
    <div className="filters" role="search">
      <div className="filters-row">
        <form
          className="search-box"
          onSubmit={(e) => {
            e.preventDefault();
            onChange({ q: q.trim() || undefined });
          }}
        >
          <span className="search-icon" aria-hidden="true">
            ⌕
          </span>
          <input
            data-search-box
            type="search"
            aria-label="Search jobs by id, upstream task id or prompt words"
            placeholder="Search by job id, upstream task id, or prompt words"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setQ('');
                onChange({ q: undefined });
              }
            }}
          />
          <kbd className="search-kbd" aria-hidden="true">
            /
          </kbd>
        </form>
        <select aria-label="Project" value={search.project_id ?? ''} onChange={(e) => onChange({ project_id: e.target.value || undefined })}>
          <option value="">All projects</option>
          {(projects.data?.data ?? []).map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
        <select aria-label="Job type" value={search.type ?? ''} onChange={(e) => onChange({ type: e.target.value || undefined })}>
          <option value="">All types</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <select
          aria-label="Time range"
          value={presetValue}
          onChange={(e) => {
            const value = e.target.value;
            if (value === 'custom') {
              setCustom(true);
              return;
            }
            setCustom(false);
            onChange({ range: value || undefined, created_after: undefined, created_before: undefined });
          }}
        >
          {PRESETS.map((p) => (
            <option key={p.value} value={p.value}>
              {p.label}
            </option>
          ))}
        </select>
        <form
          className="meta-box"
          onSubmit={(e) => {
            e.preventDefault();
            onChange({ meta: meta.includes('=') ? meta.trim() : undefined });
          }}
        >
          <input
            aria-label="Metadata filter key=value"
            placeholder="metadata key=value"
            value={meta}
            onChange={(e) => setMeta(e.target.value)}
            onBlur={() => {
              if ((search.meta ?? '') !== meta.trim()) onChange({ meta: meta.includes('=') ? meta.trim() : undefined });
            }}
          />
        </form>
      </div>
      <div className="filters-row">
        <div className="status-toggles" role="group" aria-label="Status">
          {JOB_STATUSES.map((status) => (
            <button key={status} type="button" className={`toggle toggle-${status}`} aria-pressed={statuses.has(status)} onClick={() => toggleStatus(status)} data-status-filter={status}>
              <span className={`dot dot-${status}`} aria-hidden="true" />
              {status}
            </button>
          ))}
        </div>
        {!search.range && (custom || search.created_after || search.created_before) ? (
          <div className="range">
            <label>
              <span className="small muted">From</span>
              <input type="datetime-local" value={isoToLocalInput(search.created_after)} onChange={(e) => onChange({ created_after: localInputToIso(e.target.value) })} />
            </label>
            <label>
              <span className="small muted">To</span>
              <input type="datetime-local" value={isoToLocalInput(search.created_before)} onChange={(e) => onChange({ created_before: localInputToIso(e.target.value) })} />
            </label>
          </div>
        ) : null}
        {anyFilter ? (
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            onClick={() => {
              setCustom(false);
              onChange({ project_id: undefined, type: undefined, status: undefined, range: undefined, created_after: undefined, created_before: undefined, meta: undefined, q: undefined });
            }}
          >
            Clear filters
          </button>
        ) : null}
      </div>
    </div>
  );
}
