-- CreateTable
CREATE TABLE "job_costs" (
    "id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "job_type" TEXT NOT NULL,
    "entry_key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "estimated" BOOLEAN NOT NULL DEFAULT false,
    "units" BIGINT NOT NULL,
    "model" TEXT,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "charged_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_costs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "gateway_balance_snapshots" (
    "id" TEXT NOT NULL,
    "taken_at" TIMESTAMPTZ(3) NOT NULL,
    "available_units" BIGINT,
    "used_units" BIGINT,
    "granted_units" BIGINT,
    "available_usd" DOUBLE PRECISION,
    "is_unlimited" BOOLEAN NOT NULL DEFAULT false,
    "source" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "job_id" TEXT,
    "is_below_alert" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "gateway_balance_snapshots_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "job_costs_charged_at_idx" ON "job_costs"("charged_at");

-- CreateIndex
CREATE INDEX "job_costs_project_id_charged_at_idx" ON "job_costs"("project_id", "charged_at");

-- CreateIndex
CREATE UNIQUE INDEX "job_costs_job_id_entry_key_key" ON "job_costs"("job_id", "entry_key");

-- CreateIndex
CREATE INDEX "gateway_balance_snapshots_taken_at_idx" ON "gateway_balance_snapshots"("taken_at");
