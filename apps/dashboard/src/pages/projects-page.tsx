import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../api/client';
import { projectsApi } from '../api/admin';
import { JOB_STATUSES, type Project } from '../api/types';
import { Dialog } from '../components/dialog';
import { EmptyState, ErrorBanner, SkeletonRows } from '../components/feedback';
import { Card, PageHeader } from '../components/page-header';
import { RelativeTime } from '../components/relative-time';
import { formatNumber } from '../lib/time';

function parseLimit(value: string): number | undefined {
  const n = Number(value);
  return value.trim() !== '' && Number.isInteger(n) && n > 0 ? n : undefined;
}

function CreateProjectDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [rpm, setRpm] = useState('');
  const [maxRunning, setMaxRunning] = useState('');
  const create = useMutation({
    mutationFn: () => {
      const limits: Record<string, number> = {};
      const r = parseLimit(rpm);
      const m = parseLimit(maxRunning);
      if (r) limits['requests_per_minute'] = r;
      if (m) limits['max_running_jobs'] = m;
      return projectsApi.create({ name: name.trim(), ...(Object.keys(limits).length ? { limits } : {}) });
    },
    onSuccess: (project) => {
      void queryClient.invalidateQueries({ queryKey: ['projects'] });
      setName('');
      setRpm('');
      setMaxRunning('');
      onClose();
      void navigate({ to: '/projects/$projectId', params: { projectId: project.id } });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <Dialog open={open} title="New project" onClose={onClose}>
      <form onSubmit={submit} className="form">
        <label className="field">
          <span className="field-label">Name</span>
          <input autoFocus required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. storefront-images" />
        </label>
        <div className="field-row">
          <label className="field">
            <span className="field-label">Requests per minute</span>
            <input inputMode="numeric" value={rpm} onChange={(e) => setRpm(e.target.value)} placeholder="no limit" />
          </label>
          <label className="field">
            <span className="field-label">Max running jobs</span>
            <input inputMode="numeric" value={maxRunning} onChange={(e) => setMaxRunning(e.target.value)} placeholder="no limit" />
          </label>
        </div>
        {create.error ? <div className="banner banner-error">{errorMessage(create.error)}</div> : null}
        <div className="dialog-footer">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={!name.trim() || create.isPending}>
            {create.isPending ? 'Creating…' : 'Create project'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function Counts({ project }: { project: Project }) {
  const counts = project.counts ?? {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return (
    <div className="count-chips">
      <span className="strong">{formatNumber(total)}</span>
      {JOB_STATUSES.filter((s) => (counts[s] ?? 0) > 0).map((s) => (
        <Link key={s} to="/jobs" search={{ project_id: project.id, status: s }} className={`count-chip text-${s}`} title={`${counts[s]} ${s}`}>
          <span className={`dot dot-${s}`} aria-hidden="true" />
          {formatNumber(counts[s] ?? 0)}
        </Link>
      ))}
    </div>
  );
}

export function ProjectsPage() {
  const projects = useQuery({ queryKey: ['projects'], queryFn: projectsApi.list, refetchInterval: 15_000 });
  const [creating, setCreating] = useState(false);
  const rows = projects.data?.data ?? [];
  return (
    <div className="page">
      <PageHeader
        title="Projects & keys"
        subtitle="Each project has its own keys, limits, webhooks and jobs."
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            + New project
          </button>
        }
      />
      {projects.error ? <ErrorBanner error={projects.error} title="Could not load projects" onRetry={() => void projects.refetch()} /> : null}
      {!projects.isPending && rows.length === 0 && !projects.error ? (
        <EmptyState
          title="No projects yet"
          action={
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              Create the first project
            </button>
          }
        >
          A project groups jobs and owns the API keys clients submit with.
        </EmptyState>
      ) : (
        <Card>
          <div className="table-wrap">
            <table className="table" data-testid="projects-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Jobs</th>
                  <th>Requests / min</th>
                  <th>Max running</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {projects.isPending ? <SkeletonRows rows={4} cols={6} /> : null}
                {rows.map((p) => (
                  <tr key={p.id} data-project-id={p.id}>
                    <td>
                      <Link to="/projects/$projectId" params={{ projectId: p.id }} className="link strong">
                        {p.name}
                      </Link>
                      <div className="mono small muted">{p.id}</div>
                    </td>
                    <td>
                      <Counts project={p} />
                    </td>
                    <td>{p.limits?.requests_per_minute ? formatNumber(p.limits.requests_per_minute) : <span className="muted">no limit</span>}</td>
                    <td>{p.limits?.max_running_jobs ? formatNumber(p.limits.max_running_jobs) : <span className="muted">no limit</span>}</td>
                    <td>
                      <RelativeTime at={p.created_at} />
                    </td>
                    <td className="num">
                      <Link to="/projects/$projectId" params={{ projectId: p.id }} className="btn btn-sm">
                        Keys & limits
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      )}
      <CreateProjectDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}
