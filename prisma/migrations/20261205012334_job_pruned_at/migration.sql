-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "pruned_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "jobs_pruned_at_finished_at_idx" ON "jobs"("pruned_at", "finished_at");
