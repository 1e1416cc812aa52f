-- plum's data, through plum's own SQL API (SPEC, "The SQL surface"): one
-- company (USD, points valid 10 years), one super admin, a pool large enough,
-- then :lots rounds of plum.give_points_bulk, each at its own plum.now (one
-- hour apart from 2026-01-01: lots with equal expiry instants merge, so
-- distinct instants make distinct lots), giving :lot points to each of the
-- recipients 'u<i>@bench.test', i = 1..:wallets, in calls of :batch,
-- vacuuming the wallets after each round.
-- Records the company id in bench_meta for the workloads.
-- psql variables: wallets, lots, lot, batch.
\set ON_ERROR_STOP on
CREATE EXTENSION plum;
SELECT plum.create_company('Bench', 'USD', points_validity => '10 years', max_grant => greatest(50000, :lot)) AS company \gset
SELECT plum.add_admin(:company, 'bench@plum.test', 'super_admin', 1e15) AS admin \gset
SELECT plum.create_points(:admin, :wallets::numeric * :lots * :lot) AS pool \gset
INSERT INTO bench_meta (key, value) VALUES ('company', :'company');

SELECT format('SET plum.now = %L', '2026-01-01 00:00:00+00'::timestamptz + (r - 1) * interval '1 hour'),
	   format('SELECT plum.give_points_bulk(%s, '
			  'ARRAY(SELECT (''u'' || i || ''@bench.test'')::plum.recipient FROM generate_series(%s, %s) i), '
			  'array_fill(%s::numeric, ARRAY[%s]))',
			  :admin, lo, hi, :lot, hi - lo + 1),
	   -- after each round, what autovacuum does between grant campaigns in
	   -- production (rounds days apart): without it, ten rounds back to back
	   -- leave ten dead versions of every wallet and a table eleven times its size
	   CASE WHEN hi = :wallets THEN 'VACUUM plum_internal.account' END
  FROM generate_series(1, :lots) r
 CROSS JOIN LATERAL (SELECT b * :batch + 1 AS lo, least((b + 1) * :batch, :wallets) AS hi
					   FROM generate_series(0, (:wallets - 1) / :batch) b) batches
 ORDER BY r, lo
\gexec
RESET plum.now;
VACUUM ANALYZE;
