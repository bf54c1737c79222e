import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useEffect, useState, type FormEvent } from 'react';
import { errorMessage } from '../api/client';
import { projectsApi, webhooksApi } from '../api/admin';
import { JOB_STATUSES, type ApiKey, type Project } from '../api/types';
import { CopyButton } from '../components/copy-button';
import { ConfirmDialog, Dialog } from '../components/dialog';
import { EmptyState, ErrorBanner, Skeleton, SkeletonRows } from '../components/feedback';
import { Card, PageHeader } from '../components/page-header';
import { RelativeTime } from '../components/relative-time';
import { formatNumber } from '../lib/time';

const routeApi = getRouteApi('/app/projects/$projectId');

function LimitsForm({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(project.name);
  const [rpm, setRpm] = useState(String(project.limits?.requests_per_minute ?? ''));
  const [maxRunning, setMaxRunning] = useState(String(project.limits?.max_running_jobs ?? ''));
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    setName(project.name);
    setRpm(String(project.limits?.requests_per_minute ?? ''));
    setMaxRunning(String(project.limits?.max_running_jobs ?? ''));
  }, [project]);
  const toLimit = (v: string): number | null => (v.trim() === '' ? null : Number(v));
  const invalid = [rpm, maxRunning].some((v) => v.trim() !== '' && !(Number.isInteger(Number(v)) && Number(v) > 0));
  const save = useMutation({
    mutationFn: () => {
      // only what changed: a PATCH of an unchanged limit would still wake waiting jobs
      const limits: Record<string, number | null> = {};
      if (toLimit(rpm) !== (project.limits?.requests_per_minute ?? null)) limits['requests_per_minute'] = toLimit(rpm);
      if (toLimit(maxRunning) !== (project.limits?.max_running_jobs ?? null)) limits['max_running_jobs'] = toLimit(maxRunning);
      return projectsApi.update(project.id, {
        ...(name.trim() !== project.name ? { name: name.trim() } : {}),
        ...(Object.keys(limits).length > 0 ? { limits } : {}),
      });
    },
    onSuccess: () => {
      setSaved(true);
      setTimeout(() => setSaved(false), 2500);
      void queryClient.invalidateQueries({ queryKey: ['projects'] });
    },
  });
  const unchanged = name.trim() === project.name && toLimit(rpm) === (project.limits?.requests_per_minute ?? null) && toLimit(maxRunning) === (project.limits?.max_running_jobs ?? null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!invalid && !unchanged) save.mutate();
  };
  return (
    <form className="form" onSubmit={submit} data-testid="limits-form">
      <label className="field">
        <span className="field-label">Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <div className="field-row">
        <label className="field">
          <span className="field-label">Requests per minute</span>
          <input inputMode="numeric" value={rpm} onChange={(e) => setRpm(e.target.value)} placeholder="no limit" aria-describedby="rpm-help" />
          <span className="field-help" id="rpm-help">
            Submissions above it answer 429.
          </span>
        </label>
        <label className="field">
          <span className="field-label">Max running jobs</span>
          <input inputMode="numeric" value={maxRunning} onChange={(e) => setMaxRunning(e.target.value)} placeholder="no limit" aria-describedby="mr-help" />
          <span className="field-help" id="mr-help">
            More wait queued until a slot frees.
          </span>
        </label>
      </div>
      {invalid ? <div className="banner banner-warning">Limits are whole numbers above 0, or empty for no limit.</div> : null}
      {save.error ? <div className="banner banner-error">{errorMessage(save.error)}</div> : null}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={invalid || unchanged || save.isPending}>
          {save.isPending ? 'Saving…' : 'Save changes'}
        </button>
        {saved ? (
          <span className="text-succeeded small" role="status">
            ✓ Saved, effective now
          </span>
        ) : null}
      </div>
    </form>
  );
}

function NewKeyDialog({ projectId, open, onClose }: { projectId: string; open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<ApiKey | null>(null);
  const create = useMutation({
    mutationFn: () => projectsApi.createKey(projectId, name.trim()),
    onSuccess: (key) => {
      setCreated(key);
      void queryClient.invalidateQueries({ queryKey: ['keys', projectId] });
    },
  });
  const close = () => {
    // the key is gone from memory once the dialog closes: it is shown this once
    setCreated(null);
    setName('');
    create.reset();
    onClose();
  };
  return (
    <Dialog open={open} title={created ? 'Copy your new key' : 'New API key'} onClose={close}>
      {created?.key ? (
        <div className="form" data-testid="new-key">
          <div className="banner banner-warning">This is the only time the key is shown. Copy it now and keep it somewhere safe.</div>
          <div className="secret-box">
            <code className="mono secret" data-testid="new-key-value">
              {created.key}
            </code>
            <CopyButton text={created.key} label="Copy key" />
          </div>
          <div className="dialog-footer">
            <button type="button" className="btn btn-primary" onClick={close}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <label className="field">
            <span className="field-label">Name (optional)</span>
            <input autoFocus value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. production backend" />
          </label>
          {create.error ? <div className="banner banner-error">{errorMessage(create.error)}</div> : null}
          <div className="dialog-footer">
            <button type="button" className="btn" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={create.isPending}>
              {create.isPending ? 'Creating…' : 'Create key'}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

function KeysCard({ projectId }: { projectId: string }) {
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: ['keys', projectId], queryFn: () => projectsApi.keys(projectId) });
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const revoke = useMutation({
    mutationFn: (id: string) => projectsApi.revokeKey(id),
    onSuccess: () => {
      setRevoking(null);
      void queryClient.invalidateQueries({ queryKey: ['keys', projectId] });
    },
  });
  const rows = keys.data?.data ?? [];
  return (
    <Card
      id="keys"
      title="API keys"
      actions={
        <button type="button" className="btn btn-primary btn-sm" onClick={() => setCreating(true)}>
          + New key
        </button>
      }
    >
      {keys.error ? <ErrorBanner error={keys.error} title="Could not list the keys" /> : null}
      {!keys.isPending && rows.length === 0 && !keys.error ? (
        <EmptyState title="No keys yet" action={<button type="button" className="btn" onClick={() => setCreating(true)}>Create a key</button>}>
          Clients submit jobs with <code>Authorization: Bearer gq_…</code>.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="keys-table">
            <thead>
              <tr>
                <th>Key</th>
                <th>Name</th>
                <th>Created</th>
                <th>Last used</th>
                <th>State</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {keys.isPending ? <SkeletonRows rows={2} cols={6} /> : null}
              {rows.map((k) => (
                <tr key={k.id} data-key-id={k.id} className={k.revoked_at ? 'row-muted' : ''}>
                  <td>
                    <code className="mono">{k.prefix}…</code>
                  </td>
                  <td>{k.name ?? <span className="muted">unnamed</span>}</td>
                  <td>
                    <RelativeTime at={k.created_at} />
                  </td>
                  <td>
                    <RelativeTime at={k.last_used_at ?? null} fallback="never" />
                  </td>
                  <td>
                    {k.revoked_at ? (
                      <span className="chip chip-danger" data-testid="key-revoked">
                        revoked <RelativeTime at={k.revoked_at} />
                      </span>
                    ) : (
                      <span className="chip chip-ok">active</span>
                    )}
                  </td>
                  <td className="num">
                    {!k.revoked_at ? (
                      <button type="button" className="btn btn-sm btn-danger-outline" onClick={() => setRevoking(k)}>
                        Revoke
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <NewKeyDialog projectId={projectId} open={creating} onClose={() => setCreating(false)} />
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this key?"
        confirmLabel="Revoke key"
        danger
        busy={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking.id)}
        onClose={() => setRevoking(null)}
      >
        <p>
          <code className="mono">{revoking?.prefix}…</code>
          {revoking?.name ? ` (${revoking.name})` : ''} stops working at once: requests with it answer 401. This cannot be undone.
        </p>
        {revoke.error ? <div className="banner banner-error">{errorMessage(revoke.error)}</div> : null}
      </ConfirmDialog>
    </Card>
  );
}

function EndpointsSummary({ projectId }: { projectId: string }) {
  const endpoints = useQuery({ queryKey: ['endpoints', projectId], queryFn: () => webhooksApi.endpoints(projectId) });
  const rows = endpoints.data?.data ?? [];
  return (
    <Card id="project-endpoints" title="Webhook endpoints" actions={<Link to="/webhooks" search={{ project_id: projectId }} className="link small">Deliveries →</Link>}>
      {endpoints.error ? <ErrorBanner error={endpoints.error} /> : null}
      {endpoints.isPending ? <Skeleton height={40} /> : rows.length === 0 ? <p className="muted">None. A project registers endpoints with POST /v1/webhook-endpoints.</p> : (
        <ul className="plain-list">
          {rows.map((e) => (
            <li key={e.id} className="endpoint-line">
              <span className={`dot ${e.disabled_at ? 'dot-failed' : e.failing_since ? 'dot-canceled' : 'dot-succeeded'}`} aria-hidden="true" />
              <span className="mono small truncate">{e.url}</span>
              {e.disabled_at ? <span className="chip chip-danger">disabled</span> : e.failing_since ? <span className="chip chip-warn">failing</span> : null}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export function ProjectPage() {
  const { projectId } = routeApi.useParams();
  const projects = useQuery({ queryKey: ['projects'], queryFn: projectsApi.list });
  const project = projects.data?.data.find((p) => p.id === projectId);
  const counts = project?.counts ?? {};
  return (
    <div className="page">
      <PageHeader
        crumbs={
          <>
            <Link to="/projects" className="link">
              Projects
            </Link>{' '}
            / <span className="mono">{projectId}</span>
          </>
        }
        title={project?.name ?? (projects.isPending ? 'Loading…' : 'Project')}
        subtitle={project ? <>created <RelativeTime at={project.created_at} /></> : null}
        actions={
          project ? (
            <Link to="/jobs" search={{ project_id: projectId }} className="btn">
              View jobs →
            </Link>
          ) : null
        }
      />
      {projects.error ? <ErrorBanner error={projects.error} /> : null}
      {projects.data && !project ? <EmptyState title={`No project ${projectId}`} action={<Link to="/projects" className="btn">All projects</Link>} /> : null}
      {project ? (
        <>
          <div className="tiles tiles-compact">
            {JOB_STATUSES.map((s) => (
              <Link key={s} to="/jobs" search={{ project_id: projectId, status: s }} className={`tile tile-link tile-${s}`}>
                <div className="tile-label">
                  <span className={`dot dot-${s}`} aria-hidden="true" />
                  {s}
                </div>
                <div className="tile-value">{formatNumber(counts[s] ?? 0)}</div>
              </Link>
            ))}
          </div>
          <div className="grid-detail">
            <div className="col-main">
              <KeysCard projectId={projectId} />
            </div>
            <div className="col-side">
              <Card id="limits" title="Name and limits">
                <LimitsForm project={project} />
              </Card>
              <EndpointsSummary projectId={projectId} />
            </div>
          </div>
        </>
      ) : null}
    </div>
  );
}
