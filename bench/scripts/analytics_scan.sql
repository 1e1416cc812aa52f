-- The floor of the analytics rows: one sequential scan of the whole ledger (about 1,000,000 rows).
\set ON_ERROR_STOP on
SET max_parallel_workers_per_gather = 0;
SELECT count(*), sum(amount) FROM plum_internal.journal;
