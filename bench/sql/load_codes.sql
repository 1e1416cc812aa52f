-- Codes for bench/scripts/redeem_codes.sql, through plum's SQL API: after load_plum.sql (its
-- company and admin), a codes campaign and :ncodes codes of 5.00 kept in bench_codes(n, c),
-- n = 1..:ncodes.  psql variables: ncodes (also in bench_meta, as an extra of the data set).
\set ON_ERROR_STOP on
SELECT value AS company FROM bench_meta WHERE key = 'company' \gset
SELECT min(admin_id) AS admin FROM plum_internal.admin WHERE company_id = :company \gset
SELECT plum.create_points(:admin, 5 * :ncodes);
SELECT plum.create_campaign(:admin, 'Bench codes', 'codes') AS campaign \gset
CREATE TABLE bench_codes (n int PRIMARY KEY, c plum.code NOT NULL);
INSERT INTO bench_codes (n, c)
	SELECT (row_number() OVER ())::int, c FROM plum.issue_codes(:admin, :campaign, 5, :ncodes) AS c;
VACUUM ANALYZE;
