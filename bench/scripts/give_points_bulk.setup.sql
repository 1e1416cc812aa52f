-- Untimed, before each run of give_points_bulk.sql: a fresh company (so that
-- every grant creates a wallet), its super admin and a pool for the grants.
\set ON_ERROR_STOP on
SELECT plum.create_company('Bulk', 'USD', points_validity => '10 years') AS company \gset
SELECT plum.add_admin(:company, 'bulk@plum.test', 'super_admin', 1e15) AS admin \gset
SELECT plum.create_points(:admin, 10000000) AS pool \gset
INSERT INTO bench_meta (key, value) VALUES ('bulk_admin', :'admin')
	ON CONFLICT (key) DO UPDATE SET value = excluded.value;
