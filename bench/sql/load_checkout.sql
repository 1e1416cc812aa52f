-- Orders for bench/scripts/checkout.sql, through plum's SQL API: after load_plum.sql (its
-- company, admin and wallets 'u<i>@bench.test'), the voucher BENCH10 (10% of the eligible amount,
-- at most 5.00, minimum purchase 10.00, alcohol excluded, vendor bench, location online; no use
-- limits, as a storefront's standing promotion) and 2 x :npairs codes of 5.00 of a codes campaign
-- kept in bench_pairs(n, c), n = 1..2 x :npairs: order k pays with codes 2k - 1 and 2k, k from the
-- sequence bench_order_seq, so no code is drained twice.  Records npairs in bench_meta.
-- psql variables: npairs.
\set ON_ERROR_STOP on
SELECT value AS company FROM bench_meta WHERE key = 'company' \gset
SELECT min(admin_id) AS admin FROM plum_internal.admin WHERE company_id = :company \gset
SELECT plum.create_points(:admin, 10 * :npairs);
SELECT plum.create_campaign(:admin, 'Bench checkout', 'codes') AS campaign \gset
SELECT plum.create_voucher(:admin, 'BENCH10', 'percent', 10, min_purchase => 10, max_discount => 5,
	exclude_categories => '{alcohol}', vendors => '{bench}', locations => '{online}');
CREATE TABLE bench_pairs (n bigint PRIMARY KEY, c plum.code NOT NULL);
CREATE SEQUENCE bench_order_seq;
-- issue_codes issues at most 1,000,000 codes a call: one call per million
INSERT INTO bench_pairs (n, c)
	SELECT row_number() OVER (), c
	FROM generate_series(0, (2 * :npairs - 1) / 1000000) AS k,
		LATERAL plum.issue_codes(:admin, :campaign, 5, least(1000000, 2 * :npairs - k * 1000000)::integer) AS c;
INSERT INTO bench_meta (key, value) VALUES ('npairs', :'npairs')
	ON CONFLICT (key) DO UPDATE SET value = excluded.value;
VACUUM ANALYZE;
