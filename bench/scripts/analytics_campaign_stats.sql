-- Read every row and column of plum.campaign_stats (the whole-row text makes every column computed), as
-- of the end of the analytics data set's history (bench/sql/load_analytics.sql).
\set ON_ERROR_STOP on
SET plum.now = '2026-01-15 00:00:00+00';
SELECT count(*), sum(length(v::text)) FROM plum.campaign_stats AS v;
