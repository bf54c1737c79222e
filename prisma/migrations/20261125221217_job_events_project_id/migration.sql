-- CreateIndex
CREATE INDEX "job_events_project_id_id_idx" ON "job_events"("project_id", "id");
