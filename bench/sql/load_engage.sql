-- Members for bench/scripts/record_event.sql, through plum's SQL API: after load_plum.sql (its
-- company, admin and wallets 'u<i>@bench.test'), two earning rules for purchases (10% of the
-- amount capped at 50 a recipient in any 30 days; 1 point for purchases of 10.00 or more), a
-- Silver tier (500 of spend, x1.5), a pool for every award the run can make, one purchase per
-- member a day ago (so the cap windows and the tier spend have rows to read), and the sequence
-- bench_event_seq that gives each benchmark event its own event_ref.
\set ON_ERROR_STOP on
SELECT value AS company FROM bench_meta WHERE key = 'company' \gset
SELECT min(admin_id) AS admin FROM plum_internal.admin WHERE company_id = :company \gset
SELECT plum.create_points(:admin, 1e9);
SELECT plum.add_earning_rule(:admin, 'ten percent', 'purchase', percent => 10, cap => 50, cap_period => '30 days');
SELECT plum.add_earning_rule(:admin, 'one point', 'purchase', points => 1, min_amount => 10);
SELECT plum.add_tier(:admin, 'Silver', 500, 1.5);
SELECT set_config('plum.now', (now() - interval '1 day')::text, false);
-- in transactions of 1,000 events: record_event holds a lock per member until the end of its
-- transaction, and 100,000 of them in one transaction would fill the lock table (README,
-- "Known limits")
SELECT format('SELECT count(*) FROM generate_series(%s, %s) AS i, LATERAL plum.record_event(%s, '
		'(''u'' || i || ''@bench.test'')::plum.recipient, ''purchase'', ''load-'' || i, 20 + i %% 500)',
		lo, least(lo + 999, :wallets), :company)
	FROM generate_series(1, :wallets, 1000) AS lo
\gexec
RESET plum.now;
CREATE SEQUENCE bench_event_seq;
VACUUM ANALYZE;
