-- Untimed, before each run of expire_points.sql: 1,000,000 lots of 1.00 in 1,000,000 wallets of a
-- fresh company, granted in 2020 with a one-day validity (so all have expired by 2030).
\set ON_ERROR_STOP on
SET plum.now = '2020-01-01 00:00:00+00';
SELECT plum.create_company('Expire', 'USD', points_validity => '1 day') AS company \gset
SELECT plum.add_admin(:company, 'expire@plum.test', 'super_admin', 1e15) AS admin \gset
SELECT plum.create_points(:admin, 1000000);
SELECT plum.give_points_bulk(:admin,
	ARRAY(SELECT ('e' || i || '@bench.test')::plum.recipient FROM generate_series(1, 1000000) i),
	array_fill(1::numeric, ARRAY[1000000]));
VACUUM ANALYZE plum_internal.account;
CHECKPOINT;
