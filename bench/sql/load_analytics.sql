-- The analytics data set (bench rows "analytics: ..."): a year of one company's history through
-- plum's SQL API, about 1,000,000 ledger rows over :wallets (100,000) members 'u<i>@bench.test':
-- every month of 2025 (plum.now on the 2nd, then later days) 25% of the members get a grant of
-- 100 points (give_points_bulk, in one of 4 points campaigns) and redeem 30 of it, 15% make a
-- purchase that earns 5% pending 14 days (record_event), 1,000 redemptions are partly reversed,
-- 2,000 gift codes are redeemed and 500 orders are checked out with one, 1,000 links are made
-- and 500 redeemed, 500 referees are referred and make a first purchase, and the expiry sweep
-- runs (points are valid 6 months, so from July on it records breakage). Each statement is one
-- transaction of at most 1,000 calls. Records the company id in bench_meta.
-- psql variables: wallets.
\set ON_ERROR_STOP on
CREATE EXTENSION plum;
SET plum.now = '2025-01-01 00:00:00+00';
SELECT plum.create_company('Analytics', 'USD', points_validity => '6 months') AS company \gset
SELECT plum.add_admin(:company, 'bi@plum.test', 'super_admin', 1e15) AS admin \gset
SELECT plum.create_points(:admin, 1e12);
INSERT INTO bench_meta (key, value) VALUES ('company', :'company');
CREATE TABLE bench_campaign (n integer PRIMARY KEY, campaign_id bigint NOT NULL);
INSERT INTO bench_campaign SELECT n, plum.create_campaign(:admin, 'Points ' || n, 'points') FROM generate_series(0, 3) n;
SELECT plum.create_campaign(:admin, 'Gift codes', 'codes', '2025-09-01 00:00+00') AS codes_campaign \gset
SELECT plum.create_campaign(:admin, 'Links', 'links') AS links_campaign \gset
SELECT plum.add_item(:company, 'gift_card', 'Bolt', 'Card 25', 'cards', 25) AS item \gset
SELECT plum.add_earning_rule(:admin, 'five percent', 'purchase', percent => 5, pending => '14 days');
SELECT plum.add_earning_rule(:admin, 'referrer', 'referral', points => 10);
SELECT plum.add_earning_rule(:admin, 'referee', 'referred', points => 10);
-- 50,000 gift codes of 10, 40,000 of them distributed (numbered, for the redemptions below)
CREATE TABLE bench_code (n integer PRIMARY KEY, code plum.code NOT NULL);
INSERT INTO bench_code SELECT row_number() OVER (), c FROM plum.issue_codes(:admin, :codes_campaign, 10, 50000) AS c;
SELECT format('SELECT plum.mark_codes_distributed(ARRAY(SELECT code FROM bench_code WHERE n BETWEEN %s AND %s))', lo, lo + 999)
	FROM generate_series(1, 40000, 1000) lo
\gexec
CREATE TABLE bench_link (token text PRIMARY KEY, month integer NOT NULL);

SELECT s.sql FROM (
	SELECT m, 0 AS step, 0 AS lo, format('SET plum.now = %L', '2025-01-02 00:00+00'::timestamptz + m * interval '1 month') AS sql
		FROM generate_series(0, 11) m
	-- grants: a quarter of the members, rotating
	UNION ALL SELECT m, 1, lo, format('SELECT plum.give_points_bulk(%s, ARRAY(SELECT (''u'' || (1 + (i - 1) %% %s) || ''@bench.test'')::plum.recipient '
			'FROM generate_series(%s, %s) i), array_fill(100::numeric, ARRAY[1000]), NULL, (SELECT campaign_id FROM bench_campaign WHERE n = %s))',
			:admin, :wallets, lo, lo + 999, m % 4)
		FROM generate_series(0, 11) m, generate_series(m * (:wallets / 4) + 1, (m + 1) * (:wallets / 4), 1000) lo
	UNION ALL SELECT m, 2, 0, format('SET plum.now = %L', '2025-01-09 00:00+00'::timestamptz + m * interval '1 month') FROM generate_series(0, 11) m
	-- redemptions of 30 by the same members
	UNION ALL SELECT m, 3, lo, format('SELECT count(plum.redeem_points(%s, (''u'' || (1 + (i - 1) %% %s) || ''@bench.test'')::plum.recipient, 30)) '
			'FROM generate_series(%s, %s) i', :company, :wallets, lo, lo + 999)
		FROM generate_series(0, 11) m, generate_series(m * (:wallets / 4) + 1, (m + 1) * (:wallets / 4), 1000) lo
	-- purchases of 15% of the members (earning 5%, pending 14 days)
	UNION ALL SELECT m, 4, lo, format('SELECT count(*) FROM generate_series(%s, %s) i, LATERAL plum.record_event(%s, '
			'(''u'' || (1 + (i * 7 - 1) %% %s) || ''@bench.test'')::plum.recipient, ''purchase'', ''m%s-'' || i, 50 + i %% 200)',
			lo, lo + 999, :company, :wallets, m, :wallets)
		FROM generate_series(0, 11) m, generate_series(1, :wallets * 15 / 100, 1000) lo
	UNION ALL SELECT m, 5, 0, format('SET plum.now = %L', '2025-01-16 00:00+00'::timestamptz + m * interval '1 month') FROM generate_series(0, 11) m
	-- 1,000 redemptions of the month partly reversed
	UNION ALL SELECT m, 6, 0, format('SELECT count(plum.reverse_redemption(j.entry_id, 10)) FROM (SELECT entry_id FROM plum_internal.journal '
			'WHERE kind = ''redeem'' AND company_id = %s AND at = %L ORDER BY entry_id LIMIT 1000) j',
			:company, '2025-01-09 00:00+00'::timestamptz + m * interval '1 month')
		FROM generate_series(0, 11) m
	-- gift codes: 2,000 redeemed whole, then 500 orders paid partly with one (the codes' campaign expires Sep 1)
	UNION ALL SELECT m, 7, lo, format('SELECT count(*) FROM bench_code b, LATERAL plum.redeem_codes(ARRAY[b.code], 10) WHERE b.n BETWEEN %s AND %s',
			lo, lo + 999)
		FROM generate_series(0, 7) m, generate_series(m * 2500 + 1, m * 2500 + 2000, 1000) lo
	UNION ALL SELECT m, 8, 0, format('SELECT count(*) FROM bench_code b, LATERAL plum.checkout(%s, ''order-'' || b.n, '
			'''{"lines": [{"sku": "A1", "category": "food", "amount": 40}]}'', codes => ARRAY[b.code]) WHERE b.n BETWEEN %s AND %s',
			:company, m * 2500 + 2001, m * 2500 + 2500)
		FROM generate_series(0, 7) m
	-- links: 1,000 made, 500 redeemed
	UNION ALL SELECT m, 9, 0, format('INSERT INTO bench_link SELECT plum.create_link(%s, %s, 25), %s FROM generate_series(1, 1000)',
			:admin, :links_campaign, m)
		FROM generate_series(0, 11) m
	UNION ALL SELECT m, 10, 0, format('SELECT count(plum.redeem_link(token, %s)) FROM (SELECT token FROM bench_link WHERE month = %s LIMIT 500) l',
			:item, m)
		FROM generate_series(0, 11) m
	-- referrals: 500 new customers referred by members, each making a first purchase
	UNION ALL SELECT m, 11, 0, format('SELECT count(plum.refer(%s, plum.referral_code(%s, (''u'' || i || ''@bench.test'')::plum.recipient), '
			'(''r%s-'' || i || ''@bench.test'')::plum.recipient)) FROM generate_series(1, 500) i', :company, :company, m)
		FROM generate_series(0, 11) m
	UNION ALL SELECT m, 12, 0, format('SELECT count(*) FROM generate_series(1, 500) i, LATERAL plum.record_event(%s, '
			'(''r%s-'' || i || ''@bench.test'')::plum.recipient, ''purchase'', ''ref%s-'' || i, 30)', :company, m, m)
		FROM generate_series(0, 11) m
	UNION ALL SELECT m, 13, 0, 'SELECT plum.expire_points()' FROM generate_series(0, 11) m
	UNION ALL SELECT m, 14, 0, 'SELECT plum.expire_codes()' FROM generate_series(0, 11) m) s
ORDER BY s.m, s.step, s.lo
\gexec
RESET plum.now;
DROP TABLE bench_code, bench_link, bench_campaign;
VACUUM ANALYZE;
