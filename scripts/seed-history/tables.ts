/**
 * Rows of one seed batch, kept column by column: each table is inserted with one
 * `INSERT … SELECT * FROM unnest($1::text[], $2::jsonb[], …)`, one array parameter per column.
 */
export type PgArrayType = 'text[]' | 'jsonb[]' | 'int4[]' | 'int8[]' | 'timestamptz[]';

export type TableSpec<C extends string> = { table: string; columns: Readonly<Record<C, PgArrayType>> };

export class ColumnBatch<C extends string> {
  readonly values: Record<C, unknown[]>;
  length = 0;

  constructor(readonly spec: TableSpec<C>) {
    this.values = Object.fromEntries(Object.keys(spec.columns).map((column) => [column, []])) as unknown as Record<C, unknown[]>;
  }

  /** One row; every column must be given (null where the row has none). */
  push(row: Readonly<Record<C, unknown>>): void {
    for (const column of Object.keys(this.spec.columns) as C[]) this.values[column].push(row[column]);
    this.length += 1;
  }

  /** The statement and its parameters. */
  insertStatement(): { text: string; values: unknown[] } {
    const columns = Object.keys(this.spec.columns) as C[];
    const params = columns.map((column, i) => `$${i + 1}::${this.spec.columns[column]}`);
    return {
      text: `INSERT INTO ${this.spec.table} (${columns.join(', ')}) SELECT * FROM unnest(${params.join(', ')})`,
      values: columns.map((column) => this.values[column]),
    };
  }
}

export const JOBS = {
  table: 'jobs',
  columns: {
    id: 'text[]',
    project_id: 'text[]',
    type: 'text[]',
    status: 'text[]',
    input: 'jsonb[]',
    output: 'jsonb[]',
    error: 'jsonb[]',
    progress: 'int4[]',
    attempts: 'int4[]',
    metadata: 'jsonb[]',
    priority: 'int4[]',
    webhook_url: 'text[]',
    upstream_task_id: 'text[]',
    upstream_status: 'text[]',
    parent_id: 'text[]',
    event_seq: 'int4[]',
    queue_expires_at: 'timestamptz[]',
    ttl_sec: 'int4[]',
    inactivity_timeout_sec: 'int4[]',
    deadline_sec: 'int4[]',
    deadline_at: 'timestamptz[]',
    last_progress_at: 'timestamptz[]',
    search_text: 'text[]',
    created_at: 'timestamptz[]',
    updated_at: 'timestamptz[]',
    started_at: 'timestamptz[]',
    finished_at: 'timestamptz[]',
  },
} as const satisfies TableSpec<string>;

export const JOB_EVENTS = {
  table: 'job_events',
  columns: { id: 'text[]', job_id: 'text[]', project_id: 'text[]', seq: 'int4[]', type: 'text[]', data: 'jsonb[]', created_at: 'timestamptz[]' },
} as const satisfies TableSpec<string>;

export const ARTIFACTS = {
  table: 'artifacts',
  columns: {
    id: 'text[]',
    project_id: 'text[]',
    job_id: 'text[]',
    kind: 'text[]',
    content_type: 'text[]',
    bytes: 'int8[]',
    sha256: 'text[]',
    storage_key: 'text[]',
    source_url: 'text[]',
    created_at: 'timestamptz[]',
  },
} as const satisfies TableSpec<string>;

export const JOB_ATTEMPTS = {
  table: 'job_attempts',
  columns: { id: 'text[]', job_id: 'text[]', attempt: 'int4[]', outcome: 'text[]', error: 'jsonb[]', created_at: 'timestamptz[]' },
} as const satisfies TableSpec<string>;

export const WEBHOOK_DELIVERIES = {
  table: 'webhook_deliveries',
  columns: {
    id: 'text[]',
    project_id: 'text[]',
    job_id: 'text[]',
    event_id: 'text[]',
    endpoint_id: 'text[]',
    webhook_id: 'text[]',
    event_type: 'text[]',
    url: 'text[]',
    payload: 'jsonb[]',
    status: 'text[]',
    attempt_count: 'int4[]',
    next_attempt_at: 'timestamptz[]',
    created_at: 'timestamptz[]',
    updated_at: 'timestamptz[]',
  },
} as const satisfies TableSpec<string>;

export const WEBHOOK_ATTEMPTS = {
  table: 'webhook_attempts',
  columns: {
    id: 'text[]',
    delivery_id: 'text[]',
    at: 'timestamptz[]',
    status_code: 'int4[]',
    duration_ms: 'int4[]',
    error: 'text[]',
    response_body: 'text[]',
  },
} as const satisfies TableSpec<string>;

type ColumnsOf<S> = S extends TableSpec<infer C> ? C : never;

/** Every table a batch of seeded jobs writes, in an order that satisfies the foreign keys. */
export class SeedBatch {
  readonly jobs = new ColumnBatch<ColumnsOf<typeof JOBS>>(JOBS);
  readonly events = new ColumnBatch<ColumnsOf<typeof JOB_EVENTS>>(JOB_EVENTS);
  readonly artifacts = new ColumnBatch<ColumnsOf<typeof ARTIFACTS>>(ARTIFACTS);
  readonly jobAttempts = new ColumnBatch<ColumnsOf<typeof JOB_ATTEMPTS>>(JOB_ATTEMPTS);
  readonly deliveries = new ColumnBatch<ColumnsOf<typeof WEBHOOK_DELIVERIES>>(WEBHOOK_DELIVERIES);
  readonly webhookAttempts = new ColumnBatch<ColumnsOf<typeof WEBHOOK_ATTEMPTS>>(WEBHOOK_ATTEMPTS);

  get tables(): ColumnBatch<string>[] {
    return [this.jobs, this.events, this.artifacts, this.jobAttempts, this.deliveries, this.webhookAttempts];
  }

  get rowCount(): number {
    return this.tables.reduce((sum, table) => sum + table.length, 0);
  }
}
