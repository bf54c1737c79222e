-- CreateIndex
CREATE INDEX "jobs_metadata_idx" ON "jobs" USING GIN ("metadata" jsonb_path_ops);

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_updated_at_idx" ON "webhook_deliveries"("status", "updated_at");

-- Added by hand (data, which the schema cannot express): jobs stored before search_text existed get
-- it here, as close to jobSearchText() (packages/core) as SQL gets: the prompt, the speech input,
-- the text of chat messages, the first five inputs of an inline embedding batch; words lower-cased,
-- one space apart, at most 2,000 characters. New jobs get it from the application when created.
UPDATE jobs AS j
   SET search_text = nullif(left(lower(btrim(regexp_replace(src.text, '\s+', ' ', 'g'))), 2000), '')
  FROM (
    SELECT id,
           CASE
             WHEN type = 'audio.speech' THEN input->>'input'
             WHEN type = 'media.chat' AND jsonb_typeof(input->'messages') = 'array' THEN (
               SELECT string_agg(
                        CASE jsonb_typeof(m->'content')
                          WHEN 'string' THEN m->>'content'
                          WHEN 'array' THEN (SELECT string_agg(part->>'text', ' ')
                                               FROM jsonb_array_elements(m->'content') AS part
                                              WHERE part->>'type' = 'text')
                        END, ' ')
                 FROM jsonb_array_elements(input->'messages') AS m)
             WHEN type = 'embedding.batch' AND jsonb_typeof(input->'inputs') = 'array' THEN (
               SELECT string_agg(first.value, ' ')
                 FROM (SELECT value FROM jsonb_array_elements_text(input->'inputs') LIMIT 5) AS first)
             WHEN type <> 'embedding.batch' THEN input->>'prompt'
           END AS text
      FROM jobs
     WHERE search_text IS NULL
  ) AS src
 WHERE j.id = src.id AND src.text IS NOT NULL;
