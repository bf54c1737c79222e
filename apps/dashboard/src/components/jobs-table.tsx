import { Link, useNavigate } from '@tanstack/react-router';
import type { Job } from '../api/types';
import { jobDurationMs, jobSummary } from '../lib/job-text';
import { formatDuration } from '../lib/time';
import { useNow } from '../lib/use-now';
import { SkeletonRows } from './feedback';
import { ProgressBar } from './progress-bar';
import { RelativeTime } from './relative-time';
import { StatusBadge } from './status-badge';

type Props = {
  jobs: Job[];
  loading: boolean;
  projectNames: Map<string, string>;
  selected: Set<string>;
  allMatching: boolean;
  onToggle: (id: string) => void;
  onToggleAll: (checked: boolean) => void;
  /** rows of the previous filter, shown while the new one loads */
  stale?: boolean;
};

export function JobsTable({ stale = false, jobs, loading, projectNames, selected, allMatching, onToggle, onToggleAll }: Props) {
  const now = useNow();
  const navigate = useNavigate();
  const allChecked = allMatching || (jobs.length > 0 && jobs.every((j) => selected.has(j.id)));
  const someChecked = !allChecked && jobs.some((j) => selected.has(j.id));
  return (
    <div className="table-wrap">
      <table className={`table table-jobs${stale ? ' is-stale' : ''}`} data-testid="jobs-table" aria-busy={stale || (loading && jobs.length === 0)}>
        <thead>
          <tr>
            <th className="check">
              <input
                type="checkbox"
                aria-label="Select every loaded job"
                checked={allChecked}
                ref={(el) => {
                  if (el) el.indeterminate = someChecked;
                }}
                onChange={(e) => onToggleAll(e.target.checked)}
              />
            </th>
            <th>Status</th>
            <th>Job</th>
            <th>Type</th>
            <th className="wide">Prompt / input</th>
            <th>Project</th>
            <th>Created</th>
            <th className="num col-optional">Duration</th>
          </tr>
        </thead>
        <tbody>
          {loading && jobs.length === 0 ? <SkeletonRows rows={8} cols={8} /> : null}
          {jobs.map((job) => {
            const checked = allMatching || selected.has(job.id);
            return (
              <tr
                key={job.id}
                data-job-id={job.id}
                data-status={job.status}
                className={`clickable ${checked ? 'selected' : ''}`}
                onClick={(e) => {
                  const target = e.target as HTMLElement;
                  if (target.closest('a,button,input,label')) return;
                  void navigate({ to: '/jobs/$jobId', params: { jobId: job.id } });
                }}
              >
                <td className="check">
                  <input type="checkbox" aria-label={`Select ${job.id}`} checked={checked} disabled={allMatching} onChange={() => onToggle(job.id)} />
                </td>
                <td className="status-cell">
                  <StatusBadge status={job.status} progress={job.progress} />
                  {job.status === 'running' ? <ProgressBar value={job.progress} status={job.status} /> : null}
                </td>
                <td>
                  <Link to="/jobs/$jobId" params={{ jobId: job.id }} className="mono link job-link">
                    {job.id.length > 18 ? `…${job.id.slice(-12)}` : job.id}
                  </Link>
                </td>
                <td>
                  <span className="type-tag mono">{job.type}</span>
                </td>
                <td className="prompt-cell">
                  <span className="truncate" title={jobSummary(job)}>
                    {jobSummary(job) || <span className="muted">—</span>}
                  </span>
                  {job.error ? <span className="row-error truncate">{job.error.message}</span> : null}
                </td>
                <td className="project-cell">
                  <span className="truncate" title={job.project_id}>
                    {projectNames.get(job.project_id ?? '') ?? <span className="mono small">{job.project_id}</span>}
                  </span>
                </td>
                <td>
                  <RelativeTime at={job.created_at} />
                </td>
                <td className="num muted col-optional">{formatDuration(jobDurationMs(job, now))}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
