-- Added by hand (the schema cannot express it): trigram search needs pg_trgm.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "search_text" TEXT;

-- CreateTable
CREATE TABLE "job_attempts" (
    "id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "error" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_counts" (
    "project_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "count" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "job_counts_pkey" PRIMARY KEY ("project_id","type","status")
);

-- CreateTable
CREATE TABLE "job_count_deltas" (
    "id" BIGSERIAL NOT NULL,
    "project_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "delta" INTEGER NOT NULL,

    CONSTRAINT "job_count_deltas_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "admin_sessions" (
    "id" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "csrf_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "admin_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "job_attempts_job_id_created_at_idx" ON "job_attempts"("job_id", "created_at");

-- CreateIndex
CREATE INDEX "admin_sessions_expires_at_idx" ON "admin_sessions"("expires_at");

-- CreateIndex
CREATE INDEX "jobs_status_type_created_at_id_idx" ON "jobs"("status", "type", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "jobs_type_created_at_id_idx" ON "jobs"("type", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "jobs_finished_at_status_idx" ON "jobs"("finished_at", "status");

-- CreateIndex
CREATE INDEX "jobs_search_text_trgm" ON "jobs" USING GIN ("search_text" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "webhook_deliveries_created_at_id_idx" ON "webhook_deliveries"("created_at" DESC, "id" DESC);

-- AddForeignKey
ALTER TABLE "job_attempts" ADD CONSTRAINT "job_attempts_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Added by hand (the schema cannot express triggers): job_counts kept by the jobs table itself.
-- Inserts and deletes are counted per statement (a bulk insert adds one delta per group); a status
-- change adds -1 for the old status and +1 for the new one. Deltas are insert-only, so concurrent
-- transitions never wait on a shared counter row; genqueue_compact_job_counts() folds them in.
CREATE FUNCTION genqueue_count_inserted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_count_deltas (project_id, type, status, delta)
  SELECT project_id, type, status, count(*) FROM new_jobs GROUP BY project_id, type, status;
  RETURN NULL;
END $$;

CREATE FUNCTION genqueue_count_deleted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_count_deltas (project_id, type, status, delta)
  SELECT project_id, type, status, -count(*) FROM old_jobs GROUP BY project_id, type, status;
  RETURN NULL;
END $$;

CREATE FUNCTION genqueue_count_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_count_deltas (project_id, type, status, delta)
  VALUES (OLD.project_id, OLD.type, OLD.status, -1), (NEW.project_id, NEW.type, NEW.status, 1);
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION genqueue_count_inserted_jobs();
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs
  REFERENCING OLD TABLE AS old_jobs FOR EACH STATEMENT EXECUTE FUNCTION genqueue_count_deleted_jobs();
CREATE TRIGGER jobs_count_status AFTER UPDATE OF status ON jobs
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION genqueue_count_status_change();

-- Folds the deltas into job_counts; safe to run from several processes at once (each moves the
-- rows it deleted). Returns how many deltas it folded.
CREATE FUNCTION genqueue_compact_job_counts() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE folded bigint;
BEGIN
  WITH moved AS (
    DELETE FROM job_count_deltas RETURNING project_id, type, status, delta
  ), grouped AS (
    SELECT project_id, type, status, sum(delta) AS delta, count(*) AS n FROM moved GROUP BY project_id, type, status
  ), upserted AS (
    INSERT INTO job_counts (project_id, type, status, count)
    SELECT project_id, type, status, delta FROM grouped
    ON CONFLICT (project_id, type, status) DO UPDATE SET count = job_counts.count + EXCLUDED.count
    RETURNING 1
  )
  SELECT coalesce(sum(n), 0) INTO folded FROM grouped;
  RETURN folded;
END $$;

-- The history that exists before this migration.
INSERT INTO job_counts (project_id, type, status, count)
SELECT project_id, type, status, count(*) FROM jobs GROUP BY project_id, type, status;
