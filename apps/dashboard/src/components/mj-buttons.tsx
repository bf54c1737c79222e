import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { errorMessage } from '../api/client';
import { jobsApi } from '../api/jobs';
import type { Job } from '../api/types';

type MjButton = { custom_id: string; label?: string; emoji?: string };

/** Midjourney follow-ups: each button submits an mj.action job and links to it. */
export function MjButtons({ job }: { job: Job }) {
  const queryClient = useQueryClient();
  const output = (job.output ?? {}) as { buttons?: MjButton[] };
  const buttons = Array.isArray(output.buttons) ? output.buttons : [];
  const [created, setCreated] = useState<Job | null>(null);
  const submit = useMutation({
    mutationFn: (button: MjButton) => jobsApi.create({ project_id: job.project_id ?? '', type: 'mj.action', input: { job_id: job.id, custom_id: button.custom_id } }),
    onSuccess: (newJob) => {
      setCreated(newJob);
      void queryClient.invalidateQueries({ queryKey: ['job-children', job.id] });
    },
  });
  if (buttons.length === 0) return null;
  return (
    <div className="mj-buttons">
      <div className="chips">
        {buttons.map((b) => (
          <button key={b.custom_id} type="button" className="btn btn-sm" title={b.custom_id} onClick={() => submit.mutate(b)} disabled={submit.isPending}>
            {b.label || b.custom_id.split('::').slice(2, 4).join(' ')}
          </button>
        ))}
      </div>
      {submit.error ? <div className="banner banner-error">{errorMessage(submit.error)}</div> : null}
      {created ? (
        <div className="banner banner-success" role="status">
          Submitted{' '}
          <Link to="/jobs/$jobId" params={{ jobId: created.id }} className="link mono">
            {created.id}
          </Link>{' '}
          (mj.action)
        </div>
      ) : null}
    </div>
  );
}
