import { useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import type { Job, JobEvent, ListPage } from '../api/types';
import { useJobEvents, type LiveState } from './live-events';

/** The fields of a job that an event may change: the rest (input, project) stay as listed. */
export function mergeJob(current: Job, next: Job): Job {
  return {
    ...current,
    status: next.status,
    progress: next.progress,
    output: next.output,
    error: next.error,
    artifacts: next.artifacts ?? current.artifacts,
    attempts: next.attempts,
    upstream: next.upstream ?? current.upstream,
    started_at: next.started_at,
    finished_at: next.finished_at,
  };
}

/**
 * Keeps every cached jobs list and job detail in step with the admin event stream: rows change
 * status and progress in place; created jobs are counted so the page can offer to show them.
 */
export function useLiveJobs(): { state: LiveState; created: number; resetCreated: () => void } {
  const queryClient = useQueryClient();
  const [created, setCreated] = useState(0);
  const onEvent = useCallback(
    (event: JobEvent) => {
      if (event.type === 'job.created') {
        setCreated((n) => n + 1);
        return;
      }
      const job = event.data;
      if (!job?.id) return;
      queryClient.setQueriesData<InfiniteData<ListPage<Job>>>({ queryKey: ['jobs', 'list'] }, (data) => {
        if (!data) return data;
        let changed = false;
        const pages = data.pages.map((page) => ({
          ...page,
          data: page.data.map((row) => {
            if (row.id !== job.id) return row;
            changed = true;
            return mergeJob(row, job);
          }),
        }));
        return changed ? { ...data, pages } : data;
      });
      queryClient.setQueryData<Job>(['job', job.id], (current) => (current ? mergeJob(current, job) : current));
    },
    [queryClient],
  );
  const state = useJobEvents(onEvent);
  return { state, created, resetCreated: () => setCreated(0) };
}
