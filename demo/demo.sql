-- demo/demo.sql — a year of plum in one company (points), then gift codes, reward links and the
-- outbox in January, a storefront (vouchers, checkout, refunds) in February, a shop's loyalty
-- programme (points earned by events: rules, caps, pending points, referrals, tiers, badges), then
-- the reports a DBA reads.
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
\echo ' plum demo: one company, ':recipients' recipients: a year of points, then gift codes, reward links and the outbox'
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
\echo '== 8. Gift codes: a new-year campaign of bearer codes with a curated catalog (2026-01-02)'
SET plum.now = '2026-01-02 09:00:00+00';
SELECT plum.create_points(:sales, 20000) AS sales_pool \gset
SELECT plum.create_campaign(:sales, 'New-year gift cards', 'codes', '2026-03-31 23:59:59+00') AS gift \gset
SELECT plum.add_item(:company, 'gift_card', 'Burger Barn', 'Burger Barn card', 'food', min_value => 5, max_value => 200) AS burger \gset
SELECT plum.add_item(:company, 'gift_card', 'Pizza Planet', 'Pizza Planet card', 'food', min_value => 5, max_value => 200) AS pizza \gset
SELECT plum.add_item(:company, 'experience', 'Starlight', 'Cinema night for two', 'leisure', price => 25) AS cinema \gset
SELECT plum.add_item(:company, 'charity', 'Red Cross', 'Donation', 'charity', min_value => 1, max_value => 1000) AS charity \gset
-- a food-delivery client does not show its competitor's cards
SELECT plum.curate(:gift, false, brand => 'Pizza Planet') \gset
\echo '   the campaign''s curated catalog (campaign_catalog): Pizza Planet is excluded'
SELECT item_id, kind, brand, name, category, price, min_value, max_value FROM plum.campaign_catalog(:gift) ORDER BY item_id;

SELECT count(*) AS issued FROM plum.issue_codes(:sales, :gift, 50, 200) \gset
\echo '   ':issued' codes of 50.00 issued from the sales pool; the pool now:'
SELECT admin_id, email, pool FROM plum.admins WHERE admin_id = :sales;

CREATE TABLE plum_demo_play.codes AS
	SELECT row_number() OVER (ORDER BY code) AS n, code FROM plum.codes WHERE campaign_id = :gift;
-- three codes by email, one on screen as a QR code: each message is rendered now, in the outbox
SELECT count(plum.distribute(:sales, 'email', r, 'Hello {{name}}, here is {{amount}} to spend: {{code}} (valid until {{expires_at}}).',
		codes => ARRAY[c.code], vars => jsonb_build_object('name', initcap(split_part(r::text, '@', 1))))) AS emailed
	FROM plum_demo_play.codes c JOIN plum_demo_play.recipients p ON p.n = c.n * 4 + 2 WHERE c.n <= 3 \gset
SELECT plum.distribute(:sales, 'qr', 'kiosk-7', 'Scan me: {{code}}', codes => ARRAY[code]) AS qr_delivery
	FROM plum_demo_play.codes WHERE n = 4 \gset
\echo '   the messages as queued (plum.deliveries):'
SELECT delivery_id, channel, destination, message, has_qr FROM plum.deliveries
	WHERE company_id = :company AND reward = 'codes' ORDER BY delivery_id;

SELECT code AS c1 FROM plum_demo_play.codes WHERE n = 1 \gset
SELECT code AS c2 FROM plum_demo_play.codes WHERE n = 2 \gset
SET plum.now = '2026-01-09 19:30:00+00';
\echo '   a checkout of 65.00 at Burger Barn paid with two codes: the first drained, the second partly'
SELECT code, applied, remaining FROM plum.redeem_codes(ARRAY[:'c1', :'c2']::plum.code[], 65.00, :burger, 'order-burger-1001');
\echo '   the rest of the second code, for an item outside the curated catalog, is refused (PU007) and nothing changes:'
\set ON_ERROR_STOP off
SELECT * FROM plum.redeem_codes(ARRAY[:'c2']::plum.code[], 10, :pizza, 'order-pizza-7');
\set ON_ERROR_STOP on
SELECT plum.code_balance(:'c2') AS "balance left on the second code";

\echo '   50 codes never handed out go back to the pool (cancel_codes), the rest stay:'
SELECT plum.cancel_codes(:sales, ARRAY(SELECT code FROM plum_demo_play.codes WHERE n > 150)) AS returned_to_pool;
SELECT state, count(*) AS codes, sum(balance) AS balance FROM plum.codes WHERE campaign_id = :gift GROUP BY state ORDER BY state;

-- ---------------------------------------------------------------------------
\echo
\echo '== 9. Reward links: one click, full value, billed only when redeemed (2026-01-12)'
SET plum.now = '2026-01-12 10:00:00+00';
SELECT plum.create_campaign(:hr, 'Thank-you links', 'links', '2026-02-28 23:59:59+00') AS thanks \gset
SELECT plum.curate(:thanks, true, category => 'leisure') \gset
SELECT plum.curate(:thanks, true, category => 'charity') \gset
\echo '   the catalog of the links campaign (include rules: leisure and charity):'
SELECT item_id, brand, name, price, min_value, max_value FROM plum.campaign_catalog(:thanks) ORDER BY item_id;
CREATE TABLE plum_demo_play.links AS
	SELECT p.n, p.r, plum.create_link(:hr, :thanks, 25, p.r) AS token
	FROM plum_demo_play.recipients p WHERE p.n BETWEEN 1 AND 20;
\echo '   20 links of 25.00 created: nothing billed, no pool touched'
SELECT count(*) AS billing_rows FROM plum.billing WHERE company_id = :company;
SELECT count(plum.distribute(:hr, CASE WHEN n % 2 = 0 THEN 'sms' ELSE 'whatsapp' END, r,
		'Thank you! Pick your reward: {{link}}', link => token, vars => '{"link_base": "https://rewards.demo.test/l/"}')) AS texted
	FROM plum_demo_play.links WHERE r::text LIKE '+%' AND n <= 8 \gset
\echo '   ':texted' of them sent by SMS or WhatsApp to the recipients with a phone number'
SET plum.now = '2026-01-14 12:00:00+00';
SELECT count(plum.redeem_link(token, CASE WHEN n % 3 = 0 THEN :charity ELSE :cinema END, 'thanks-' || n)) AS redeemed
	FROM plum_demo_play.links WHERE n <= 12;
SELECT token AS used FROM plum_demo_play.links WHERE n = 1 \gset
\echo '   the same link clicked twice is refused (PU003):'
\set ON_ERROR_STOP off
SELECT plum.redeem_link(:'used', :cinema, 'thanks-again');
\set ON_ERROR_STOP on
SELECT count(*) AS cancelled FROM (SELECT plum.cancel_link(:hr, token) FROM plum_demo_play.links WHERE n IN (19, 20)) AS c;
SELECT state, count(*) AS links, sum(value) AS value FROM plum.links WHERE campaign_id = :thanks GROUP BY state ORDER BY state;
\echo '   billed: exactly the redeemed links, once each (plum.billing)'
SELECT kind, count(*) AS rows, sum(amount) AS billed FROM plum.billing WHERE company_id = :company GROUP BY kind;

-- ---------------------------------------------------------------------------
\echo
\echo '== 10. The outbox: a scheduled grant, senders, retries, expiry reminders (2026-01-15 .. 2026-02-01)'
SET plum.now = '2026-01-15 08:00:00+00';
SELECT r AS star FROM plum_demo_play.recipients WHERE n = 7 \gset
SELECT plum.distribute(:hr, 'email', :'star', 'Happy work anniversary, {{name}}! {{amount}} in points, valid until {{expires_at}}.',
		points => 150, recipient => :'star', send_at => '2026-02-01 09:00:00+00', vars => '{"name": "Sam"}') AS scheduled \gset
\echo '   scheduled for 2026-02-01: its value is reserved from the pool now, the lot is created when it is sent'
SELECT delivery_id, channel, send_at, reserved FROM plum.scheduled_deliveries WHERE company_id = :company;
SELECT plum.queue_expiry_reminders(:company, '30 days', 'email',
	'Your {{amount}} expire on {{expires_at}}: spend them at {{company}}.') AS reminders_queued;
\echo '   the queue by channel and state (plum.delivery_queue):'
SELECT channel, state, deliveries, claimable FROM plum.delivery_queue WHERE company_id = :company ORDER BY channel, state;
-- a sender drains the email queue (demo/sender.sh is a complete one); one message bounces back as failed
SELECT count(*) AS claimed FROM plum.claim_deliveries('email', 'demo-sender', 1000) AS c \gset
\echo '   the sender claimed ':claimed' email deliveries (FOR UPDATE SKIP LOCKED, under a lease) and reports them'
SELECT min(delivery_id) AS unlucky FROM plum.deliveries WHERE company_id = :company AND state = 'claimed' \gset
SELECT plum.report_delivery(:unlucky, 'demo-sender', 'failed', 'smtp 451: try again later') AS outcome;
SELECT plum.report_deliveries(ARRAY(SELECT delivery_id FROM plum.deliveries
	WHERE company_id = :company AND state = 'claimed' AND claimed_by = 'demo-sender'), 'demo-sender', 'sent') AS reported_sent;
SET plum.now = '2026-02-01 09:01:00+00';
SELECT plum.release_deliveries() AS released;
\echo '   after the release (pg_cron runs it every minute): the grant is a lot now, its validity starts today'
SELECT lot_id, issued_at, expires_at, remaining FROM plum.point_lots WHERE company_id = :company AND recipient = :'star'
	AND issued_at = '2026-02-01 09:01:00+00';
SELECT state, count(*) AS deliveries FROM plum.deliveries WHERE company_id = :company GROUP BY state ORDER BY state;
\echo '   being retried (plum.delivery_failures):'
SELECT delivery_id, channel, attempts, last_error, retry_at FROM plum.delivery_failures WHERE company_id = :company;

-- ---------------------------------------------------------------------------
\echo
\echo '== 11. A storefront: a voucher, orders paid with it, gift codes and points, refunds (2026-02-01)'
SET plum.now = '2026-02-01 10:00:00+00';
-- three shoppers who still hold points
SELECT recipient AS shopper1 FROM plum.wallets WHERE company_id = :company ORDER BY balance DESC, recipient LIMIT 1 \gset
SELECT recipient AS shopper2 FROM plum.wallets WHERE company_id = :company ORDER BY balance DESC, recipient LIMIT 1 OFFSET 1 \gset
SELECT recipient AS shopper3 FROM plum.wallets WHERE company_id = :company ORDER BY balance DESC, recipient LIMIT 1 OFFSET 2 \gset
SELECT plum.create_voucher(:sales, 'winter15', 'percent', 15, expires_at => '2026-02-28 23:59:59+00', min_purchase => 40,
	max_discount => 30, exclude_categories => '{gift cards}', vendors => '{Burger Barn}', uses_per_customer => 1,
	total_uses => 500) AS winter \gset
\set cart '{"lines": [{"sku": "BB-MENU", "category": "food", "amount": 48.50}, {"sku": "BB-CARD", "category": "gift cards", "amount": 25}], "vendor": "Burger Barn", "location": "online"}'
\echo '   the storefront checks the voucher against the cart first (validate_voucher: every restriction, in order)'
SELECT * FROM plum.validate_voucher(:company, 'WINTER15', :'cart', :'shopper1');
SELECT code AS c3 FROM plum_demo_play.codes WHERE n = 3 \gset
SELECT code AS c5 FROM plum_demo_play.codes WHERE n = 5 \gset
SELECT code AS c6 FROM plum_demo_play.codes WHERE n = 6 \gset
\echo '   order WEB-1001 (73.50): 15% off the food, a 50.00 gift code, 10 points, the rest due; one transaction'
SELECT * FROM plum.checkout(:company, 'WEB-1001', :'cart', :'shopper1', 'winter15', ARRAY[:'c3']::plum.code[], 10);
\echo '   order WEB-1002 (110.00): two gift codes in the order given, then points: 20 offered, only the 10 still owed taken'
SELECT * FROM plum.checkout(:company, 'WEB-1002', '{"lines": [{"sku": "BB-PARTY", "category": "food", "amount": 110}], "vendor": "Burger Barn"}',
	:'shopper2', NULL, ARRAY[:'c5', :'c6']::plum.code[], 20);
\echo '   order WEB-1003: the same shopper''s second use of WINTER15 is refused (PU010, every failing rule) and nothing changes'
\set ON_ERROR_STOP off
SELECT * FROM plum.checkout(:company, 'WEB-1003', '{"lines": [{"sku": "PP-MENU", "category": "food", "amount": 30}], "vendor": "Pizza Planet"}',
	:'shopper1', 'WINTER15');
\set ON_ERROR_STOP on
\echo '   order WEB-1004 (60.00): the voucher and points'
SELECT * FROM plum.checkout(:company, 'WEB-1004', '{"lines": [{"sku": "BB-FAMILY", "category": "food", "amount": 60}], "vendor": "Burger Barn"}',
	:'shopper3', 'WINTER15', NULL, 15);
\echo '   a retried checkout with the same idempotency key returns the first result and pays nothing twice'
SELECT * FROM plum.checkout(:company, 'WEB-1005', '{"lines": [{"sku": "BB-SHAKE", "category": "food", "amount": 6.50}]}', :'shopper2',
	points => 6.50, idempotency_key => 'web-1005-attempt');
SELECT * FROM plum.checkout(:company, 'WEB-1005', '{"lines": [{"sku": "BB-SHAKE", "category": "food", "amount": 6.50}]}', :'shopper2',
	points => 6.50, idempotency_key => 'web-1005-attempt');
SET plum.now = '2026-02-01 16:00:00+00';
\echo '   WEB-1001 partly refunded (20.00), in the reverse order of payment: what was due, then the points, then the code'
SELECT * FROM plum.refund(:company, 'WEB-1001', 20);
\echo '   WEB-1004 wholly refunded: the points go back to their lots, and the voucher''s use is released'
SELECT * FROM plum.refund(:company, 'WEB-1004');
\echo '   refunding more than is left is refused (PU008):'
\set ON_ERROR_STOP off
SELECT * FROM plum.refund(:company, 'WEB-1001', 100);
\set ON_ERROR_STOP on
\echo '   the DBA''s view of the orders (plum.orders)'
SELECT order_ref, recipient, total, discount, codes, points, due, refunded, state, voucher
	FROM plum.orders WHERE company_id = :company ORDER BY order_ref;
SELECT code, kind, value, uses, total_uses, uses_per_customer FROM plum.vouchers WHERE voucher_id = :winter;
\echo '   every movement of WEB-1001 in the ledger (the refund''s code_refund gives value back to the code)'
SELECT kind, amount, delta, holder, coalesce(code::text, recipient::text) AS "code or wallet"
	FROM plum.ledger WHERE company_id = :company AND (reference = 'WEB-1001'
		OR redemption_id IN (SELECT ref::bigint FROM plum_internal.order_payment p JOIN plum.orders o USING (order_id)
			WHERE o.order_ref = 'WEB-1001' AND p.instrument = 'points'))
	ORDER BY entry_id;
\echo '   the books of the storefront balance: orders = their instruments, refunds <= payments, voucher uses = live orders'
SELECT count(*) AS problems FROM plum.verify(:company) WHERE check_name LIKE 'order%' OR check_name LIKE 'voucher%';

-- ---------------------------------------------------------------------------
\echo
\echo '== 12. A loyalty programme: Demo Shop''s members earn points from their own events over 2025'
-- A second company, a shop, runs its loyalty programme through plum's engagement functions for
-- the year 2025 (its own clock, independent of Demo Co's): purchases earn 10% (gift cards
-- excluded), a review earns 2 points after a 14-day return window, a share on social media 5
-- points (at most 15 a month: the cap clips), a referral pays both sides at the friend's first
-- purchase, Silver (from 500 of spend in the last year) multiplies purchase points by 1.5 and
-- Gold (2000) by 2, a badge for three reviews, returned orders take their points back.
SET plum.now = '2025-01-01 09:00:00+00';
SELECT plum.create_company(format('Demo Shop (%s)', to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS')), 'USD',
                           tier_window => interval '1 year') AS shop \gset
SELECT plum.add_admin(:shop, 'owner@shop.demo.plum.test', 'super_admin', 10000000) AS shop_owner \gset
SELECT plum.add_admin(:shop, 'loyalty@shop.demo.plum.test', 'admin', 10000000) AS shop_mkt \gset
SELECT plum.create_points(:shop_mkt, 100000) AS loyalty_pool \gset
SELECT plum.add_earning_rule(:shop_mkt, 'ten percent of purchases', 'purchase', percent => 10,
                             exclude_categories => '{gift_card}') AS rule_purchase \gset
SELECT plum.add_earning_rule(:shop_mkt, 'review', 'review', points => 2, pending => interval '14 days') AS rule_review \gset
SELECT plum.add_earning_rule(:shop_mkt, 'social share', 'social', points => 5,
                             cap => 15, cap_period => interval '30 days') AS rule_social \gset
SELECT plum.add_earning_rule(:shop_mkt, 'referrer bonus', 'referral', points => 20) AS rule_referral \gset
SELECT plum.add_earning_rule(:shop_mkt, 'welcome bonus', 'referred', points => 10) AS rule_referred \gset
SELECT plum.add_tier(:shop_mkt, 'Silver', 500, 1.5) AS tier_silver \gset
SELECT plum.add_tier(:shop_mkt, 'Gold', 2000, 2) AS tier_gold \gset
SELECT plum.add_badge(:shop_mkt, 'Reviewer', 'review', 3, points => 5) AS badge_reviewer \gset
SELECT plum.add_badge(:shop_mkt, 'Big spender', 'purchase', 10, min_amount => 1000, points => 25) AS badge_big \gset
\echo 'shop ':shop': rules, tiers and badges:'
SELECT name, event, points, percent, exclude_categories, pending, cap, cap_period
FROM plum_internal.earning_rule WHERE company_id = :shop ORDER BY rule_id;
SELECT name, min_spend, multiplier FROM plum_internal.tier WHERE company_id = :shop ORDER BY min_spend;

-- members: about one in ten of the demo's recipients (20 .. 300); the last quarter join during the
-- year as friends referred by an early member, with that member's referral code
SELECT greatest(20, least(:recipients / 10, 300)) AS members \gset
CREATE TABLE plum_demo_play.shoppers AS
SELECT n, format('shopper%s@shop.demo.plum.test', n)::plum.recipient AS r,
       CASE WHEN n > :members * 3 / 4 THEN 1 + n % 11 ELSE 0 END AS joins,      -- month joined (0 = January)
       CASE WHEN n > :members * 3 / 4 THEN n - :members / 2 END AS referred_by
FROM generate_series(1, :members) AS n;

-- One month of the shop, every event at its own instant, in time order:
--   purchases (1..3 a month; one shopper in ten buys big; one order in four has a gift card line),
--   reviews two days after some purchases, social shares (four a month for some: the cap clips
--   the fourth), friends referred on their joining day (first purchase qualifies the referral),
--   one order in 25 returned ten days later (reverse_event), a 50-point reward redeemed at the end
--   of the month by some who can afford it.
CREATE FUNCTION plum_demo_play.shop_month(p_shop bigint, p_mkt bigint, p_month integer)
	RETURNS text
	LANGUAGE plpgsql
	AS $$
DECLARE
	v_start timestamptz := timestamptz '2025-01-01 00:00:00+00' + make_interval(months => p_month);
	v_purchases integer := 0;
	v_spend numeric := 0;
	v_earned numeric := 0;
	v_clipped numeric := 0;
	v_reviews integer := 0;
	v_referred integer := 0;
	v_returned numeric := 0;
	v_redeemed numeric := 0;
	v_amt numeric;
	rec record;
	res record;
BEGIN
	IF (SELECT pool FROM plum.admins WHERE admin_id = p_mkt) < 50000 THEN
		PERFORM set_config('plum.now', (v_start + interval '6 hours')::text, false);
		PERFORM plum.create_points(p_mkt, 100000);
	END IF;
	FOR rec IN
		WITH buys AS (
			SELECT s.n, s.r, k, v_start + make_interval(days => 1 + (s.n * 7 + k * 11 + p_month * 3) % 26, hours => 9 + (s.n + k) % 10,
					mins => (s.n * 13 + k) % 60) AS t,
				round((10 + (s.n * 37 + p_month * 13 + k * 71) % 60 + ((s.n + k) % 100) / 100.0)
					* CASE WHEN s.n % 10 = 1 THEN 4 ELSE 1 END, 2) AS amount,
				format('SHOP-%s-%s-%s', p_month + 1, s.n, k) AS ref
			FROM plum_demo_play.shoppers s, generate_series(1, 1 + (s.n + p_month) % 3) AS k
			WHERE s.joins <= p_month)
		SELECT 1 AS o, 'join' AS kind, s.r, v_start + interval '10 hours' AS t, NULL::numeric AS amount, NULL::text AS ref,
			(SELECT f.r FROM plum_demo_play.shoppers f WHERE f.n = s.referred_by) AS referrer
		FROM plum_demo_play.shoppers s WHERE s.joins = p_month AND s.joins > 0
		UNION ALL
		SELECT 2, 'purchase', b.r, b.t, b.amount, b.ref, NULL FROM buys b
		UNION ALL
		SELECT 3, 'review', b.r, b.t + interval '2 days', NULL, 'REVIEW-' || b.ref, NULL FROM buys b WHERE (b.n + b.k + p_month) % 3 = 0
		UNION ALL
		SELECT 4, 'return', b.r, b.t + interval '10 days', NULL, b.ref, NULL FROM buys b
			WHERE (b.n * 3 + b.k + p_month) % 25 = 0 AND b.t < v_start + interval '16 days'
		UNION ALL
		SELECT 5, 'social', s.r, v_start + make_interval(days => 2 + j * 6, hours => 20), NULL,
			format('SHARE-%s-%s-%s', p_month + 1, s.n, j), NULL
		FROM plum_demo_play.shoppers s, generate_series(1, 4) AS j WHERE s.n % 7 = 0 AND s.joins <= p_month
		UNION ALL
		SELECT 6, 'redeem', s.r, v_start + interval '27 days 18 hours' + make_interval(mins => s.n), NULL, NULL, NULL
		FROM plum_demo_play.shoppers s WHERE s.n % 5 = 0 AND s.joins <= p_month
		ORDER BY 4, 1, 3
	LOOP
		PERFORM set_config('plum.now', rec.t::text, false);
		CASE rec.kind
		WHEN 'join' THEN
			PERFORM plum.refer(p_shop, plum.referral_code(p_shop, rec.referrer), rec.r);
			v_referred := v_referred + 1;
		WHEN 'purchase' THEN
			-- one order in four also buys a gift card of 25 (its line earns nothing)
			v_amt := rec.amount + CASE WHEN hashtext(rec.ref) % 4 = 0 THEN 25 ELSE 0 END;
			FOR res IN SELECT * FROM plum.record_event(p_shop, rec.r, 'purchase', rec.ref, v_amt,
					CASE WHEN v_amt > rec.amount THEN
						jsonb_build_array(jsonb_build_object('sku', 'GOODS', 'category', 'goods', 'amount', rec.amount),
						                  jsonb_build_object('sku', 'GC25', 'category', 'gift_card', 'amount', 25)) END) LOOP
				v_earned := v_earned + res.awarded;
			END LOOP;
			v_purchases := v_purchases + 1;
			v_spend := v_spend + v_amt;
		WHEN 'review' THEN
			FOR res IN SELECT * FROM plum.record_event(p_shop, rec.r, 'review', rec.ref) LOOP
				v_earned := v_earned + res.awarded;
			END LOOP;
			v_reviews := v_reviews + 1;
		WHEN 'social' THEN
			FOR res IN SELECT * FROM plum.record_event(p_shop, rec.r, 'social', rec.ref, attrs => '{"network": "instagram"}') LOOP
				v_earned := v_earned + res.awarded;
				v_clipped := v_clipped + res.desired - res.awarded;
			END LOOP;
		WHEN 'return' THEN
			v_returned := v_returned + plum.reverse_event(p_shop, 'purchase', rec.ref);
		WHEN 'redeem' THEN
			IF plum.points_balance(p_shop, rec.r) >= 50 THEN
				PERFORM plum.redeem_points(p_shop, rec.r, 50, format('COUPON-%s-%s', p_month + 1, rec.r));
				v_redeemed := v_redeemed + 50;
			END IF;
		END CASE;
	END LOOP;
	RETURN format('%s | %9s | %10s | %8s | %7s | %7s | %5s | %8s | %8s', to_char(v_start, 'YYYY-MM'), v_purchases,
		to_char(v_spend, 'FM9999990.00'), to_char(v_earned, 'FM999990.00'), v_reviews, to_char(v_clipped, 'FM9990.00'),
		v_referred, to_char(v_returned, 'FM99990.00'), to_char(v_redeemed, 'FM99990'));
END
$$;

\echo 'month   | purchases |      spend |   earned | reviews | clipped | refer | returned | redeemed'
SELECT plum_demo_play.shop_month(:shop, :shop_mkt, m) AS " " FROM generate_series(0, 11) AS m \g (tuples_only=on)

\echo '   a return inside its window: a purchase on Dec 20 and its review, reversed on Dec 28'
SET plum.now = '2025-12-20 12:00:00+00';
SELECT rule_id, desired, awarded, available_at FROM plum.record_event(:shop, 'shopper1@shop.demo.plum.test', 'purchase', 'SHOP-XMAS-1', 120.00);
SELECT rule_id, desired, awarded, available_at FROM plum.record_event(:shop, 'shopper1@shop.demo.plum.test', 'review', 'REVIEW-SHOP-XMAS-1');
\echo '   a webhook delivering the same order twice earns once (the first result again):'
SELECT rule_id, desired, awarded FROM plum.record_event(:shop, 'shopper1@shop.demo.plum.test', 'purchase', 'SHOP-XMAS-1', 120.00);
SET plum.now = '2025-12-28 12:00:00+00';
SELECT plum.reverse_event(:shop, 'purchase', 'SHOP-XMAS-1') AS order_points_back,
       plum.reverse_event(:shop, 'review', 'REVIEW-SHOP-XMAS-1') AS pending_review_points_back;
-- the marketer reads the reports on the last day of the year
SET plum.now = '2025-12-31 23:00:00+00';

\echo '   the top 10 members by spend (plum.members): tier from the rolling year''s spend, never stale'
SELECT recipient, tier, spend, balance, pending, earned, redeemed, first_seen::date, last_event_at::date
FROM plum.members WHERE company_id = :shop ORDER BY spend DESC, recipient::text LIMIT 10;
\echo '   members by tier'
SELECT coalesce(tier, '(none)') AS tier, count(*) AS members, sum(spend) AS spend, sum(earned) AS earned
FROM plum.members WHERE company_id = :shop GROUP BY tier ORDER BY min(spend);
\echo '   tiers climbed over the year: member_tier() at the end of each quarter (computed from the events as of then)'
CREATE FUNCTION plum_demo_play.tier_at(p_shop bigint, p_who plum.recipient, p_at timestamptz) RETURNS text
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('plum.now', p_at::text, true);
	RETURN coalesce(plum.member_tier(p_shop, p_who), '-');
END
$$;
SELECT m.recipient, plum_demo_play.tier_at(:shop, m.recipient, '2025-03-31 23:00+00') AS "Q1",
       plum_demo_play.tier_at(:shop, m.recipient, '2025-06-30 23:00+00') AS "Q2",
       plum_demo_play.tier_at(:shop, m.recipient, '2025-09-30 23:00+00') AS "Q3",
       plum_demo_play.tier_at(:shop, m.recipient, '2025-12-31 23:00+00') AS "Q4"
FROM plum.members m WHERE m.company_id = :shop AND m.recipient IN ('shopper1@shop.demo.plum.test', 'shopper2@shop.demo.plum.test',
	'shopper23@shop.demo.plum.test') ORDER BY m.recipient::text;
SET plum.now = '2025-12-31 23:00:00+00';
\echo '   purchase points with the tier multiplier kept on the ledger (plum.ledger.multiplier)'
SELECT multiplier, count(*) AS awards, sum(amount) AS points
FROM plum.ledger WHERE company_id = :shop AND kind = 'give' AND multiplier IS NOT NULL GROUP BY multiplier ORDER BY multiplier;
\echo '   referrals (plum.referrals), qualified at the friend''s first purchase'
SELECT referrer, referee, referred_at::date, qualified_at::date, referrer_awarded, referee_awarded, state
FROM plum.referrals WHERE company_id = :shop ORDER BY referral_id LIMIT 10;
SELECT state, count(*) FROM plum.referrals WHERE company_id = :shop GROUP BY state ORDER BY state;
\echo '   the capped social rule: desired against awarded (the cap clips, never exceeded)'
SELECT count(*) AS shares, sum(a.desired) AS desired, sum(a.awarded) AS awarded, count(*) FILTER (WHERE a.awarded < a.desired) AS clipped
FROM plum_internal.award a WHERE a.rule_id = :rule_social;
\echo '   leaderboard: points earned in 2025, net of returns (standard competition ranking)'
SELECT * FROM plum.leaderboard(:shop, '2025-01-01', '2026-01-01', 10);
\echo '   badges (plum.member_badges)'
SELECT badge, count(*) AS members, min(awarded_at)::date AS first FROM plum.member_badges WHERE company_id = :shop GROUP BY badge ORDER BY badge;
SELECT recipient, badge, awarded_at FROM plum.member_badges WHERE company_id = :shop ORDER BY awarded_at, recipient::text LIMIT 5;
\echo '   the shop''s books: earned points come from the loyalty pool'
SELECT count(*) AS problems FROM plum.verify(:shop);

-- back to Demo Co's clock for the reports that follow
SET plum.now = '2026-02-01 17:00:00+00';

-- ---------------------------------------------------------------------------
\echo
\echo '== 13. The ledger by kind, what is owed (plum.ledger.delta), and conservation'
SELECT kind, count(*) AS entries, sum(amount) AS amount
FROM plum.ledger WHERE company_id = :company
GROUP BY kind ORDER BY array_position(ARRAY['create', 'give', 'redeem', 'restore', 'expire'], kind), kind;

\echo '   what is owed, as a plain sum of the signed delta per holder, against the live views'
SELECT l.holder, l.owed,
	CASE l.holder WHEN 'wallet' THEN (SELECT sum(balance) FROM plum.wallets WHERE company_id = :company)
		WHEN 'codes' THEN (SELECT sum(balance) FROM plum.codes WHERE company_id = :company)
		WHEN 'link' THEN (SELECT coalesce(sum(value), 0) FROM plum.links WHERE company_id = :company AND state = 'active') END AS "in the views"
FROM (SELECT holder, sum(delta) AS owed FROM plum.ledger WHERE company_id = :company AND holder <> 'pool' GROUP BY holder) AS l
ORDER BY l.holder;

WITH l AS (
	SELECT coalesce(sum(amount) FILTER (WHERE kind = 'create'), 0) AS created,
	       coalesce(sum(amount) FILTER (WHERE kind = 'give'), 0) AS given,
	       coalesce(sum(amount) FILTER (WHERE kind = 'code_issue'), 0) - coalesce(sum(amount) FILTER (WHERE kind = 'code_cancel'), 0) AS codes,
	       coalesce(sum(amount) FILTER (WHERE kind = 'reserve'), 0) - coalesce(sum(amount) FILTER (WHERE kind = 'unreserve'), 0) AS reserved,
	       coalesce(sum(amount) FILTER (WHERE kind = 'redeem'), 0) AS redeemed,
	       coalesce(sum(amount) FILTER (WHERE kind = 'expire'), 0) AS expired,
	       coalesce(sum(amount) FILTER (WHERE kind = 'restore'), 0) AS restored
	FROM plum.ledger WHERE company_id = :company),
p AS (SELECT coalesce(sum(pool), 0) AS pools FROM plum.admins WHERE company_id = :company),
w AS (SELECT coalesce(sum(balance), 0) AS live FROM plum.wallets WHERE company_id = :company)
SELECT format('created %s = pools %s + points given %s + codes issued net of cancellations %s + reserved %s',
		created, pools, given, codes, reserved) AS "conservation",
       created = pools + given + codes + reserved AS holds
FROM l, p
UNION ALL
SELECT format('given %s = live %s + redeemed %s + expired %s - restored %s', given, live, redeemed, expired, restored),
       given = live + redeemed + expired - restored
FROM l, w;

-- ---------------------------------------------------------------------------
\echo
\echo '== 14. SELECT * FROM plum.verify()'
SELECT count(*) = 0 AS consistent FROM plum.verify() \gset
\if :consistent
\echo 'verify(): consistent'
\else
SELECT * FROM plum.verify();
\echo 'verify(): INCONSISTENT (rows above)'
DO $$ BEGIN RAISE EXCEPTION 'plum.verify() reported inconsistencies'; END $$;
\endif

-- ---------------------------------------------------------------------------
\echo
\echo '== 15. The marketer''s report: Demo Shop''s loyalty programme on 2025-12-31 (the analytics views)'
SET plum.now = '2025-12-31 23:00:00+00';
\echo '   retention (plum.retention_monthly): members with an event, a grant or a redemption each month;'
\echo '   retained = also active the month before, churned = active the month before and not this one'
SELECT month, active, new, retained, churned, round(retention_rate * 100, 1) AS "retention %", round(churn_rate * 100, 1) AS "churn %"
FROM plum.retention_monthly WHERE company_id = :shop ORDER BY month;
\echo '   the referral funnel (plum.referral_funnel)'
SELECT referrers, referred, qualified, reversed, points_awarded, round(qualification_rate * 100, 1) AS "qualified %"
FROM plum.referral_funnel WHERE company_id = :shop;
\echo '   earned points by the month they were earned (plum.points_cohorts): pending ones wait out the return window'
SELECT issue_month, issued, redeemed, expired, live, pending, taken_back, round(redemption_rate * 100, 1) AS "redeemed %"
FROM plum.points_cohorts WHERE company_id = :shop ORDER BY issue_month;
\echo '   who to remind: live points expiring in the next 30 days (plum.expiring_soon)'
SELECT count(DISTINCT recipient) AS members, coalesce(sum(amount), 0) AS points, min(expires_at)::date AS first
FROM plum.expiring_soon WHERE company_id = :shop;

-- ---------------------------------------------------------------------------
\echo
\echo '== 16. The CFO''s report: Demo Co on 2026-02-01 (the analytics views)'
SET plum.now = '2026-02-01 17:00:00+00';
\echo '   a points campaign with a cost: a February bonus, granted with campaign_id (plum.give_points_bulk)'
SELECT plum.create_campaign(:hr, 'February bonus', 'points') AS february \gset
SELECT plum.create_points(:hr, 2500) AS hr_pool;
\echo '   (to 100 new hires, so that their redemptions take these lots: redemptions take the oldest lots first)'
SELECT plum.give_points_bulk(:hr, ARRAY(SELECT format('hire%s@demo.plum.test', i)::plum.recipient FROM generate_series(1, 100) i),
	array_fill(25::numeric, ARRAY[100]), 'February bonus', :february) AS bonus_grants;
SELECT count(plum.redeem_points(:company, format('hire%s@demo.plum.test', i)::plum.recipient, 10)) AS bonus_redemptions
FROM generate_series(1, 40) i;
\echo '   liability (plum.liability): what Demo Co owes now, and its own undistributed pools'
SELECT currency, points_live, points_pending, codes_outstanding, links_open_value, total_owed, pools, pools_reserved
FROM plum.liability WHERE company_id = :company;
\echo '   breakage by month (plum.breakage_monthly): value expired unspent, swept or not'
SELECT month, points_expired, codes_expired FROM plum.breakage_monthly WHERE company_id = :company ORDER BY month;
\echo '   points cohorts (plum.points_cohorts): each month''s grants and what became of them'
SELECT issue_month, issued, redeemed, expired, live, round(redemption_rate * 100, 1) AS "redeemed %", round(breakage_rate * 100, 1) AS "breakage %"
FROM plum.points_cohorts WHERE company_id = :company ORDER BY issue_month;
\echo '   campaign ROI (plum.campaign_stats): revenue = orders paid partly with the campaign''s codes; cost = value redeemed or billed'
SELECT name, mode, issued_value, redeemed_value, billed_value, expired_value, round(redemption_rate * 100, 1) AS "redeemed %",
	orders, revenue, cost, round(roi, 2) AS roi
FROM plum.campaign_stats WHERE company_id = :company ORDER BY campaign_id;
SELECT count(*) = 0 AS still_consistent FROM plum.verify(:company);

DROP SCHEMA plum_demo_play CASCADE;
RESET plum.now;
\echo
\echo 'demo done: company ':company' in database ':DBNAME'.'
