-- The admin search reads search_text (jobs_search_text_trgm), which holds the prompt among the job's
-- other searchable words; no query reads this second trigram index over input->>'prompt'. It cost
-- every insert and every status change of a job (a change that is no HOT update re-inserts the row
-- into every index: here, every trigram of the prompt).
DROP INDEX IF EXISTS "jobs_input_prompt_trgm_idx";
