-- demo/demo.sql — a year of plum in one company, then the reports a DBA reads.
--
-- Run by demo/run in the database plum_demo, as a superuser (it moves plum's
-- clock with plum.now).  Everything goes through plum's SQL API; the demo's
-- own helpers live in schema plum_demo_play, recreated on every run.
--
--   psql -X -d plum_demo -v recipients=3000 -f demo/demo.sql

\set ON_ERROR_STOP on
\set QUIET on
\set SHOW_CONTEXT never
\pset pager off
\pset null '-'
\if :{?recipients}
\else
\set recipients 3000
\endif
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SELECT setseed(0.2025) \gset

\echo
\echo '================================================================'
\echo ' plum demo: one company, ':recipients' recipients, a year of points'
\echo '================================================================'

DROP SCHEMA IF EXISTS plum_demo_play CASCADE;
CREATE SCHEMA plum_demo_play;

-- ---------------------------------------------------------------------------
\echo
\echo '== 1. Company and admins (2025-01-01)'

SET plum.now = '2025-01-01 08:00:00+00';

-- points live 6 months, so the year shows expiry (breakage)
SELECT plum.create_company(format('Demo Co (%s)', to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS')),
                           'USD', points_validity => interval '6 months') AS company \gset
SELECT plum.add_admin(:company, 'ceo@demo.plum.test', 'super_admin', 100000) AS ceo \gset
SELECT plum.add_admin(:company, 'HR.Lead@Demo.Plum.TEST', 'admin', 600000) AS hr \gset
SELECT plum.add_admin(:company, 'sales.ops@demo.plum.test', 'admin', 750000) AS sales \gset
SELECT plum.create_points(:ceo, 50000) AS ceo_pool \gset

\echo 'company ':company': USD, points valid 6 months; admins:'
SELECT admin_id, email, role, threshold, pool FROM plum.admins WHERE company_id = :company ORDER BY admin_id;

-- ---------------------------------------------------------------------------
\echo
\echo '== 2. Recipients: emails and mobile numbers, normalised on input'

SELECT typed, typed::plum.recipient AS stored
FROM (VALUES (' Alice@Example.COM'), ('alice@example.com'), ('+1 (415) 555-0100'), ('+14155550100')) AS v(typed);

CREATE TABLE plum_demo_play.recipients AS
SELECT n, (CASE n % 4
             WHEN 0 THEN format('+1 (415) %s-%s', 555 + n / 10000, lpad((n % 10000)::text, 4, '0'))
             WHEN 1 THEN format('+44 7700 %s', 900000 + n)
             WHEN 2 THEN format('Employee.%s@Example.COM', n)
             ELSE format(' user%s@demo.plum.test', n)
           END)::plum.recipient AS r
FROM generate_series(1, :recipients) AS n;

SELECT count(*) AS recipients,
       count(*) FILTER (WHERE r::text LIKE '+%') AS phones,
       count(*) FILTER (WHERE r::text LIKE '%@%') AS emails
FROM plum_demo_play.recipients;

CREATE TABLE plum_demo_play.redemptions (
	redemption_id bigint PRIMARY KEY,
	month integer NOT NULL,
	recipient plum.recipient NOT NULL,
	amount numeric NOT NULL
);

-- One month of activity, every event at its own instant of plum's clock:
--   day 1  top up pools (the super admin raises a threshold when it runs short),
--          HR's monthly grant to about 60% of recipients (give_points_bulk)
--   day 2  sales bonuses one by one (give_points); quarterly CEO awards
--   days 3-27  redemptions by recipients who can afford them (points_balance first),
--          a few of them retried with the same idempotency key
--   day 28 a few reversals, full and partial (reverse_redemption)
--   last day 23:59  the expiry sweep (expire_points)
-- Returns one line of figures for the month.
CREATE FUNCTION plum_demo_play.play_month(p_company bigint, p_ceo bigint, p_hr bigint, p_sales bigint, p_month integer)
	RETURNS text
	LANGUAGE plpgsql
	AS $$
DECLARE
	v_start timestamptz := timestamptz '2025-01-01 00:00:00+00' + make_interval(months => p_month);
	v_end timestamptz := v_start + interval '1 month';
	v_recipients plum.recipient[];
	v_amounts numeric[];
	v_total numeric;
	v_need numeric;
	v_pool numeric;
	v_headroom numeric;
	v_threshold numeric;
	v_note text := '';
	v_granted numeric := 0;
	v_redeemed numeric := 0;
	v_reversed numeric := 0;
	v_nredeem integer := 0;
	v_bal numeric;
	v_amt numeric;
	v_id bigint;
	v_id2 bigint;
	v_k integer := 0;
	v_expired numeric;
	v_live numeric;
	rec record;
BEGIN
	-- day 1, 08:00: HR's grant for the month, and the pool to pay for it
	PERFORM set_config('plum.now', (v_start + interval '8 hours')::text, false);
	SELECT array_agg(s.r ORDER BY s.n), array_agg(s.a ORDER BY s.n), sum(s.a)
	INTO v_recipients, v_amounts, v_total
	FROM (SELECT d.n, d.r, (ARRAY[10, 20, 25, 50, 75, 100, 12.50, 37.25])[1 + floor(random() * 8)::int] AS a
		  FROM plum_demo_play.recipients d WHERE random() < 0.6) AS s;
	SELECT a.pool, a.threshold - a.created, a.threshold INTO v_pool, v_headroom, v_threshold
	FROM plum.admins a WHERE a.admin_id = p_hr;
	v_need := ceil(greatest(coalesce(v_total, 0) - v_pool, 0) / 1000) * 1000;
	IF v_need > v_headroom THEN
		-- only a super admin may change a threshold
		v_threshold := v_threshold + greatest(600000, ceil((v_need - v_headroom) / 100000) * 100000);
		PERFORM plum.set_threshold(p_ceo, p_hr, v_threshold);
		v_note := format('  (CEO raised HR''s threshold to %s)', v_threshold);
	END IF;
	IF v_need > 0 THEN
		PERFORM plum.create_points(p_hr, v_need);
	END IF;
	IF v_recipients IS NOT NULL THEN
		PERFORM set_config('plum.now', (v_start + interval '9 hours')::text, false);
		PERFORM plum.give_points_bulk(p_hr, v_recipients, v_amounts,
									  format('monthly recognition %s', to_char(v_start, 'YYYY-MM')));
		v_granted := v_granted + v_total;
	END IF;

	-- day 2: sales bonuses, one grant at a time
	SELECT array_agg(s.r), array_agg(s.a), sum(s.a) INTO v_recipients, v_amounts, v_total
	FROM (SELECT d.r, round((50 + random() * 450)::numeric, 2) AS a
		  FROM plum_demo_play.recipients d ORDER BY random() LIMIT 150) AS s;
	SELECT a.pool INTO v_pool FROM plum.admins a WHERE a.admin_id = p_sales;
	v_need := ceil(greatest(coalesce(v_total, 0) - v_pool, 0) / 10000) * 10000;
	IF v_need > 0 THEN
		PERFORM set_config('plum.now', (v_start + interval '1 day 8 hours')::text, false);
		PERFORM plum.create_points(p_sales, v_need);
	END IF;
	FOR i IN 1 .. coalesce(cardinality(v_recipients), 0) LOOP
		PERFORM set_config('plum.now', (v_start + interval '1 day 9 hours' + make_interval(mins => i))::text, false);
		PERFORM plum.give_points(p_sales, v_recipients[i], v_amounts[i], 'sales bonus');
	END LOOP;
	v_granted := v_granted + coalesce(v_total, 0);

	-- day 2, 17:00, once a quarter: the CEO's awards, with idempotency keys
	IF p_month % 3 = 2 THEN
		FOR rec IN SELECT d.r, row_number() OVER () AS k
				   FROM (SELECT r FROM plum_demo_play.recipients ORDER BY random() LIMIT 5) AS d LOOP
			PERFORM set_config('plum.now', (v_start + interval '1 day 17 hours' + make_interval(mins => rec.k::int))::text, false);
			PERFORM plum.give_points(p_ceo, rec.r, 500, 'CEO award', format('ceo-award-%s-%s', p_month, rec.k));
			v_granted := v_granted + 500;
		END LOOP;
	END IF;

	-- days 3-27: redemptions, in time order, by recipients who can afford them
	FOR rec IN SELECT s.r, s.t
			   FROM (SELECT d.r, v_start + interval '2 days' + random() * interval '25 days' AS t
					 FROM plum_demo_play.recipients d ORDER BY random() LIMIT 500) AS s
			   ORDER BY s.t LOOP
		PERFORM set_config('plum.now', rec.t::text, false);
		v_bal := plum.points_balance(p_company, rec.r);
		CONTINUE WHEN v_bal < 5;
		v_amt := round(v_bal * (0.25 + random() * 0.6)::numeric, 2);
		v_k := v_k + 1;
		IF v_k % 50 = 0 THEN
			-- an application retrying after a timeout: same key, same answer, no second redemption
			v_id := plum.redeem_points(p_company, rec.r, v_amt, format('order-%s-%s', p_month, v_k),
									   format('checkout-%s-%s', p_month, v_k));
			v_id2 := plum.redeem_points(p_company, rec.r, v_amt, format('order-%s-%s', p_month, v_k),
										format('checkout-%s-%s', p_month, v_k));
			IF v_id2 IS DISTINCT FROM v_id THEN
				RAISE EXCEPTION 'idempotent retry returned redemption % instead of %', v_id2, v_id;
			END IF;
		ELSE
			v_id := plum.redeem_points(p_company, rec.r, v_amt, format('order-%s-%s', p_month, v_k));
		END IF;
		INSERT INTO plum_demo_play.redemptions VALUES (v_id, p_month, rec.r, v_amt);
		v_redeemed := v_redeemed + v_amt;
		v_nredeem := v_nredeem + 1;
	END LOOP;

	-- day 28: customer service reverses a few orders, one in full, two in part
	v_k := 0;
	FOR rec IN SELECT x.redemption_id, x.amount FROM plum_demo_play.redemptions x
			   WHERE x.month = p_month ORDER BY random() LIMIT 3 LOOP
		v_k := v_k + 1;
		PERFORM set_config('plum.now', (v_start + interval '27 days 12 hours' + make_interval(mins => v_k))::text, false);
		v_amt := CASE WHEN v_k = 1 OR round(rec.amount / 2, 2) = 0 THEN NULL ELSE round(rec.amount / 2, 2) END;
		v_reversed := v_reversed + plum.reverse_redemption(rec.redemption_id, v_amt);
	END LOOP;

	-- the last minute of the month: the expiry sweep a pg_cron job would run
	PERFORM set_config('plum.now', (v_end - interval '1 minute')::text, false);
	PERFORM plum.expire_points();

	SELECT coalesce(sum(l.amount), 0) INTO v_expired FROM plum.ledger l
	WHERE l.company_id = p_company AND l.kind = 'expire' AND l.at >= v_start AND l.at < v_end;
	SELECT coalesce(sum(w.balance), 0) INTO v_live FROM plum.wallets w WHERE w.company_id = p_company;
	RETURN format('%s | %12s | %5s | %12s | %9s | %11s | %12s%s',
				  to_char(v_start, 'YYYY-MM'), to_char(v_granted, 'FM999,999,990.00'), v_nredeem,
				  to_char(v_redeemed, 'FM999,999,990.00'), to_char(v_reversed, 'FM999,990.00'),
				  to_char(v_expired, 'FM999,999,990.00'), to_char(v_live, 'FM999,999,990.00'), v_note);
END
$$;
COMMENT ON FUNCTION plum_demo_play.play_month(bigint, bigint, bigint, bigint, integer) IS
	'Demo only: one month of the demo year (grants, redemptions, reversals, expiry sweep); returns its summary line.';

-- ---------------------------------------------------------------------------
\echo
\echo '== 3. The year, month by month (plum.now moves from 2025-01-01 to 2025-12-31)'
\echo 'month   |      granted | redem |     redeemed |  reversed |     expired |  live at end'
\pset tuples_only on
\pset format unaligned
SELECT format('SELECT plum_demo_play.play_month(%s, %s, %s, %s, %s)', :company, :ceo, :hr, :sales, m)
FROM generate_series(0, 11) AS m
\gexec
\pset format aligned
\pset tuples_only off

-- the reports are read at the turn of the year, after the year-end sweep
\set asof '2026-01-01 00:00:00+00'
SET plum.now = :'asof';
SELECT plum.expire_points() AS swept \gset

-- ---------------------------------------------------------------------------
\echo
\echo '== 4. Top 10 balances (plum.wallets) as of ':asof
SELECT recipient, balance, next_expiry
FROM plum.wallets WHERE company_id = :company AND balance > 0
ORDER BY balance DESC, recipient LIMIT 10;

SELECT recipient AS top FROM plum.wallets WHERE company_id = :company AND balance > 0
ORDER BY balance DESC, recipient LIMIT 1 \gset
\echo '   the top wallet up close (plum.point_lots, oldest first: the order redemptions consume them)'
SELECT lot_id, issued_at, expires_at, amount, remaining
FROM plum.point_lots WHERE company_id = :company AND recipient = :'top'
ORDER BY issued_at, lot_id;

\echo '   redeeming more than that balance is refused and changes nothing:'
\set ON_ERROR_STOP off
SELECT plum.redeem_points(:company, :'top', 1000000, 'too-big');
\set ON_ERROR_STOP on

-- ---------------------------------------------------------------------------
\echo
\echo '== 5. Lots expiring in the next 30 days (plum.point_lots), by day'
SELECT expires_at::date AS expires_on, count(*) AS lots, count(DISTINCT recipient) AS recipients,
       sum(remaining) AS points
FROM plum.point_lots
WHERE company_id = :company AND expires_at < timestamptz :'asof' + interval '30 days'
GROUP BY 1 ORDER BY 1;
\echo '   the ten largest of them'
SELECT recipient, lot_id, issued_at, expires_at, remaining
FROM plum.point_lots
WHERE company_id = :company AND expires_at < timestamptz :'asof' + interval '30 days'
ORDER BY remaining DESC, lot_id LIMIT 10;

-- ---------------------------------------------------------------------------
\echo
\echo '== 6. Admin pools against thresholds (plum.admins)'
SELECT admin_id, email, role, threshold, created, threshold - created AS headroom, pool,
       round(100 * created / nullif(threshold, 0), 1) AS "used %"
FROM plum.admins WHERE company_id = :company ORDER BY admin_id;

-- ---------------------------------------------------------------------------
\echo
\echo '== 7. Breakage: points expired, by month (plum.ledger, kind = expire)'
SELECT coalesce(to_char(date_trunc('month', at), 'YYYY-MM'), 'total') AS month,
       count(*) AS entries, sum(amount) AS expired
FROM plum.ledger WHERE company_id = :company AND kind = 'expire'
GROUP BY ROLLUP (date_trunc('month', at))
ORDER BY date_trunc('month', at) NULLS LAST;

-- ---------------------------------------------------------------------------
\echo
\echo '== 8. The ledger by kind, and conservation'
SELECT kind, count(*) AS entries, sum(amount) AS amount
FROM plum.ledger WHERE company_id = :company
GROUP BY kind ORDER BY array_position(ARRAY['create', 'give', 'redeem', 'restore', 'expire'], kind), kind;

WITH l AS (
	SELECT coalesce(sum(amount) FILTER (WHERE kind = 'create'), 0) AS created,
	       coalesce(sum(amount) FILTER (WHERE kind = 'give'), 0) AS given,
	       coalesce(sum(amount) FILTER (WHERE kind = 'redeem'), 0) AS redeemed,
	       coalesce(sum(amount) FILTER (WHERE kind = 'expire'), 0) AS expired,
	       coalesce(sum(amount) FILTER (WHERE kind = 'restore'), 0) AS restored
	FROM plum.ledger WHERE company_id = :company),
p AS (SELECT coalesce(sum(pool), 0) AS pools FROM plum.admins WHERE company_id = :company),
w AS (SELECT coalesce(sum(balance), 0) AS live FROM plum.wallets WHERE company_id = :company)
SELECT format('created %s = pools %s + given %s', created, pools, given) AS "created = pool + given",
       created = pools + given AS holds
FROM l, p
UNION ALL
SELECT format('given %s = live %s + redeemed %s + expired %s - restored %s', given, live, redeemed, expired, restored),
       given = live + redeemed + expired - restored
FROM l, w;

-- ---------------------------------------------------------------------------
\echo
\echo '== 9. SELECT * FROM plum.verify()'
SELECT count(*) = 0 AS consistent FROM plum.verify() \gset
\if :consistent
\echo 'verify(): consistent'
\else
SELECT * FROM plum.verify();
\echo 'verify(): INCONSISTENT (rows above)'
DO $$ BEGIN RAISE EXCEPTION 'plum.verify() reported inconsistencies'; END $$;
\endif

DROP SCHEMA plum_demo_play CASCADE;
RESET plum.now;
\echo
\echo 'demo done: company ':company' in database ':DBNAME'.'
