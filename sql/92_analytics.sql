-- Analytics for BI (issue 12, SPEC "Analytics for BI"): the views finance and marketing read
-- through plum_reader, as of plum's clock. Plain views over the ledger, wallets, codes, links,
-- orders and referrals (the journal's indexes are in 35_ledger.sql); no state of their own.
--
-- Conventions of every view here:
-- - months (month, issue_month) are dates: the first day of the month in UTC;
-- - money is rounded to the company's currency (like every plum view); rates are numeric
--   fractions (trailing zeros trimmed), NULL when their denominator is 0 (never a division by 0);
-- - "as of plum's clock" (plum.now()): a lot past its expiry counts as expired whether or not
--   plum.expire_points() has swept it, a lot before its available_at is pending, a distributed
--   code past its expiry with a balance counts as expired whether or not plum.expire_codes() has
--   swept it, and an active link past its campaign's expiry is not open;
-- - each view is security_barrier and shows a confined role only its companies' rows.

-- @api

CREATE VIEW plum.liability WITH (security_barrier) AS
	SELECT c.company_id, c.base_currency AS currency,
		round(coalesce(w.live, 0), c.scale) AS points_live,
		round(coalesce(w.pending, 0), c.scale) AS points_pending,
		round(coalesce(k.outstanding, 0), c.scale) AS codes_outstanding,
		round(coalesce(a.pools, 0), c.scale) AS pools,
		round(coalesce(l.open, 0), c.scale) AS links_open_value,
		round(coalesce(d.reserved, 0), c.scale) AS pools_reserved,
		round(coalesce(w.live, 0) + coalesce(w.pending, 0) + coalesce(k.outstanding, 0) + coalesce(l.open, 0), c.scale) AS total_owed
	FROM plum_internal.company c
		LEFT JOIN LATERAL (SELECT sum(plum_internal.wallet_balance(x.lots, plum.now())) AS live,
				sum(plum_internal.wallet_pending(x.lots, plum.now())) AS pending
			FROM plum_internal.account x WHERE x.company_id = c.company_id) w ON true
		LEFT JOIN LATERAL (SELECT sum(ic.balance) AS outstanding FROM plum_internal.issued_code ic
			WHERE ic.company_id = c.company_id AND ic.balance > 0 AND ic.cancelled_at IS NULL
				AND (ic.expires_at IS NULL OR ic.expires_at > plum.now())) k ON true
		LEFT JOIN LATERAL (SELECT sum(ad.pool) AS pools FROM plum_internal.admin_pool ad WHERE ad.company_id = c.company_id) a ON true
		LEFT JOIN LATERAL (SELECT sum(li.value) AS open FROM plum_internal.link li
				JOIN plum_internal.campaign ca ON ca.campaign_id = li.campaign_id
			WHERE li.company_id = c.company_id AND li.state = 'active' AND (ca.expires_at IS NULL OR ca.expires_at > plum.now())) l ON true
		LEFT JOIN LATERAL (SELECT sum(de.amount) AS reserved FROM plum_internal.delivery de
			WHERE de.company_id = c.company_id AND de.state = 'scheduled' AND de.reward = 'points') d ON true
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR c.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.liability IS 'What each company owes, as of plum''s clock (one row per company): live and pending points, code balances outstanding, undistributed pools, open links. points_live + points_pending + codes_outstanding + links_open_value = total_owed to recipients and bearers; pools (and pools_reserved) are the company''s own undistributed value. Lots past their expiry and distributed codes past theirs count nowhere here (they are breakage: plum.breakage_monthly), swept or not.';
COMMENT ON COLUMN plum.liability.company_id IS 'Company id.';
COMMENT ON COLUMN plum.liability.currency IS 'The company''s base currency (1 point = 1 unit).';
COMMENT ON COLUMN plum.liability.points_live IS 'sum of every wallet''s live balance now: remaining points of lots with available_at <= now < expires_at (= sum(plum.wallets.balance)).';
COMMENT ON COLUMN plum.liability.points_pending IS 'sum of remaining points of lots not available yet (available_at > now: a rule''s return window) (= sum(plum.wallets.pending)).';
COMMENT ON COLUMN plum.liability.codes_outstanding IS 'sum of code balances that can still be spent: not cancelled, balance > 0, expires_at NULL or after now (distributed or not).';
COMMENT ON COLUMN plum.liability.pools IS 'sum of the admins'' undistributed pools (plum.admins.pool, stripes included; never expire).';
COMMENT ON COLUMN plum.liability.links_open_value IS 'sum of the value of active links whose campaign has not expired: billed to the company if redeemed.';
COMMENT ON COLUMN plum.liability.pools_reserved IS 'sum of the points held out of the pools for scheduled points deliveries (plum.distribute(send_at => ...)), granted at their release.';
COMMENT ON COLUMN plum.liability.total_owed IS 'points_live + points_pending + codes_outstanding + links_open_value.';

CREATE VIEW plum.breakage_monthly WITH (security_barrier) AS
	-- each branch filters the caller's companies itself (no shared CTE, so that it may run in
	-- parallel) and sums its own figures by company and month before they meet
	WITH b AS (
		-- points swept (expire rows, also those of restores into lots expired since), by the lots' expiry
		SELECT j.company_id, date_trunc('month', l.expires_at AT TIME ZONE 'UTC')::date AS month, sum(l.remaining) AS points, 0 AS codes
		FROM plum_internal.journal j CROSS JOIN LATERAL plum_internal.wallet_lots(j.lots) l
		WHERE j.kind = 'expire' AND ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
		GROUP BY 1, 2
		UNION ALL
		-- points past their expiry not swept yet
		SELECT a.company_id, date_trunc('month', l.expires_at AT TIME ZONE 'UTC')::date, sum(l.remaining), 0
		FROM plum_internal.account a CROSS JOIN LATERAL plum_internal.wallet_lots(a.lots) l
		WHERE a.next_expiry <= plum.now() AND l.expires_at <= plum.now() AND l.remaining > 0 AND ((SELECT plum_internal.caller_companies()) IS NULL OR a.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
		GROUP BY 1, 2
		UNION ALL
		-- code balances swept (code_expire rows), by the code's expiry
		SELECT j.company_id, date_trunc('month', ic.expires_at AT TIME ZONE 'UTC')::date, 0, sum(j.amount)
		FROM plum_internal.journal j JOIN plum_internal.issued_code ic ON ic.code = j.code
		WHERE j.kind = 'code_expire' AND ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
		GROUP BY 1, 2
		UNION ALL
		-- distributed codes past their expiry with a balance, not swept yet
		SELECT ic.company_id, date_trunc('month', ic.expires_at AT TIME ZONE 'UTC')::date, 0, sum(ic.balance)
		FROM plum_internal.issued_code ic
		WHERE ic.expires_at <= plum.now() AND ic.balance > 0 AND ic.distributed_at IS NOT NULL AND ic.cancelled_at IS NULL
			AND ((SELECT plum_internal.caller_companies()) IS NULL OR ic.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
		GROUP BY 1, 2),
	t AS (SELECT b.company_id, b.month, sum(b.points) AS points, sum(b.codes) AS codes FROM b GROUP BY b.company_id, b.month)
	SELECT t.company_id, t.month, round(t.points, c.scale) AS points_expired, round(t.codes, c.scale) AS codes_expired,
		c.base_currency AS currency
	FROM t JOIN plum_internal.company c USING (company_id);
COMMENT ON VIEW plum.breakage_monthly IS 'Breakage per company and month, as of plum''s clock: value that expired unspent, by the month it expired in (a lot''s or code''s expires_at, in UTC), whether or not the sweeps (plum.expire_points(), plum.expire_codes()) have recorded it yet, so a sweep never moves breakage between months. One row per month with breakage.';
COMMENT ON COLUMN plum.breakage_monthly.company_id IS 'Company id.';
COMMENT ON COLUMN plum.breakage_monthly.month IS 'The month (first day, UTC) in which the value expired: date_trunc(''month'', expires_at AT TIME ZONE ''UTC'').';
COMMENT ON COLUMN plum.breakage_monthly.points_expired IS 'Points that expired that month: the lot portions of expire ledger rows (sweeps, and points restored into lots expired since) + remaining points of lots past expires_at not swept yet.';
COMMENT ON COLUMN plum.breakage_monthly.codes_expired IS 'Code value that expired that month: code_expire ledger rows (sweeps, refunds into expired codes) + balances of distributed, uncancelled codes past expires_at not swept yet. Undistributed codes never expire for the admin (plum.cancel_codes() returns them), so they are not breakage.';
COMMENT ON COLUMN plum.breakage_monthly.currency IS 'The company''s base currency.';

CREATE VIEW plum.points_cohorts WITH (security_barrier) AS
	-- each branch filters the caller's companies itself (no shared CTE, so that it may run in
	-- parallel) and sums its own figures by company and month before they meet
	WITH f AS (
		-- issued: the grants (give rows: plum.give_points*, earned awards, badges, deliveries)
		SELECT j.company_id, date_trunc('month', j.at AT TIME ZONE 'UTC')::date AS m, sum(j.amount) AS issued,
			0 AS swept, 0 AS live, 0 AS pending, 0 AS unswept, 0 AS taken_back
		FROM plum_internal.journal j WHERE j.kind = 'give' AND ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
		GROUP BY 1, 2
		UNION ALL
		-- expired and swept: the lot portions of expire rows, by their lots' issue month
		SELECT j.company_id, date_trunc('month', l.issued_at AT TIME ZONE 'UTC')::date, 0, sum(l.remaining), 0, 0, 0, 0
		FROM plum_internal.journal j CROSS JOIN LATERAL plum_internal.wallet_lots(j.lots) l
		WHERE j.kind = 'expire' AND ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
		GROUP BY 1, 2
		UNION ALL
		-- what the wallets hold now: live, pending, or past expiry and not swept yet
		SELECT a.company_id, date_trunc('month', l.issued_at AT TIME ZONE 'UTC')::date, 0, 0,
			sum(l.remaining) FILTER (WHERE l.expires_at > plum.now() AND l.available_at <= plum.now()),
			sum(l.remaining) FILTER (WHERE l.expires_at > plum.now() AND l.available_at > plum.now()),
			sum(l.remaining) FILTER (WHERE l.expires_at <= plum.now()), 0
		FROM plum_internal.account a CROSS JOIN LATERAL plum_internal.wallet_lots(a.lots) l
		WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR a.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
		GROUP BY 1, 2
		UNION ALL
		-- earned points taken back by plum.reverse_event() (its takeback ledger rows, summed on each
		-- award: the award is the lot's give row), by the award's issue month
		SELECT a.company_id, date_trunc('month', a.issued_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 0, sum(a.taken_back)
		FROM plum_internal.award a
		WHERE a.taken_back > 0 AND ((SELECT plum_internal.caller_companies()) IS NULL OR a.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
		GROUP BY 1, 2),
	s AS (
		SELECT f.company_id, f.m, coalesce(sum(f.issued), 0) AS issued,
			coalesce(sum(f.swept), 0) + coalesce(sum(f.unswept), 0) AS expired, coalesce(sum(f.live), 0) AS live,
			coalesce(sum(f.pending), 0) AS pending, coalesce(sum(f.taken_back), 0) AS taken_back
		FROM f GROUP BY f.company_id, f.m)
	SELECT s.company_id, s.m AS issue_month,
		round(s.issued, co.scale) AS issued,
		round(s.issued - s.expired - s.live - s.pending - s.taken_back, co.scale) AS redeemed,
		round(s.expired, co.scale) AS expired,
		round(s.live, co.scale) AS live,
		trim_scale((s.issued - s.expired - s.live - s.pending - s.taken_back) / nullif(s.issued, 0)) AS redemption_rate,
		trim_scale(s.expired / nullif(s.issued, 0)) AS breakage_rate,
		round(s.pending, co.scale) AS pending,
		round(s.taken_back, co.scale) AS taken_back,
		co.base_currency AS currency
	FROM s JOIN plum_internal.company co USING (company_id);
COMMENT ON VIEW plum.points_cohorts IS 'Points by issue month (cohort = the month a lot was issued, in UTC), as of plum''s clock: what was issued that month and what became of it. Per cohort: issued = redeemed + expired + live + pending + taken_back, with redeemed net of reversals (plum.reverse_redemption() returns points to their original lots, so to their cohort). Pending lots (earned, available_at in the future) belong to the month they were issued (earned), not the month they become available. Lots merged in a wallet (same expiry and availability: grants of one recipient at one instant) count in the cohort of their first grant.';
COMMENT ON COLUMN plum.points_cohorts.company_id IS 'Company id.';
COMMENT ON COLUMN plum.points_cohorts.issue_month IS 'The cohort: date_trunc(''month'', issued_at AT TIME ZONE ''UTC'') of the lots (the give ledger row''s at).';
COMMENT ON COLUMN plum.points_cohorts.issued IS 'sum of the give ledger rows of the month: admin grants (give_points, give_points_bulk, distribute), earned awards and badge bonuses (record_event).';
COMMENT ON COLUMN plum.points_cohorts.redeemed IS 'issued - expired - live - pending - taken_back: the cohort''s points redeemed (plum.redeem_points(), plum.checkout()) net of reversals and refunds.';
COMMENT ON COLUMN plum.points_cohorts.expired IS 'The cohort''s points that expired unspent: lot portions of expire ledger rows + remaining points of its lots past expires_at not swept yet (breakage).';
COMMENT ON COLUMN plum.points_cohorts.live IS 'Remaining points of the cohort''s lots that count now (available_at <= now < expires_at).';
COMMENT ON COLUMN plum.points_cohorts.redemption_rate IS 'redeemed / issued (a fraction; NULL when issued = 0).';
COMMENT ON COLUMN plum.points_cohorts.breakage_rate IS 'expired / issued (a fraction; NULL when issued = 0).';
COMMENT ON COLUMN plum.points_cohorts.pending IS 'Remaining points of the cohort''s lots not available yet (available_at > now).';
COMMENT ON COLUMN plum.points_cohorts.taken_back IS 'The cohort''s earned points taken back by plum.reverse_event() (its takeback ledger rows, as summed on each award), back in the rule admin''s pool.';
COMMENT ON COLUMN plum.points_cohorts.currency IS 'The company''s base currency.';

-- plum.campaign_stats reads through a function that runs its one query with JIT off: the plan of
-- this view costs far above jit_above_cost, and compiling it took longer (1.1 s over 1M ledger rows)
-- than running it (0.9 s). SECURITY DEFINER to read the internal tables as the view would; the
-- rows are filtered by the caller's companies (caller_companies() reads the session's role, which
-- SECURITY DEFINER leaves alone), and only plum_reader may execute it, as only it may read the view.
CREATE FUNCTION plum_internal.campaign_stats_rows()
	RETURNS TABLE(campaign_id bigint, company_id bigint, mode text, issued_value numeric, redeemed_value numeric,
				  billed_value numeric, expired_value numeric, redemption_rate numeric, orders bigint,
				  revenue numeric, roi numeric, name text, cost numeric, cancelled_value numeric, currency text)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET jit = off
	AS $fn$
	-- each part filters the caller's companies itself (no shared CTE), so that it may run in parallel
	WITH mv AS (
		-- every ledger row of a campaign: codes and links rows carry it; so do points grants (since 0.2.0)
		SELECT j.campaign_id,
			sum(j.amount) FILTER (WHERE j.kind IN ('give', 'code_issue', 'link_create')) AS issued,
			sum(CASE j.kind WHEN 'code_redeem' THEN j.amount WHEN 'code_refund' THEN -j.amount WHEN 'link_redeem' THEN j.amount END) AS redeemed,
			sum(j.amount) FILTER (WHERE j.kind = 'link_redeem') AS billed,
			sum(j.amount) FILTER (WHERE j.kind = 'code_expire') AS code_swept,
			sum(j.amount) FILTER (WHERE j.kind IN ('code_cancel', 'link_cancel')) AS cancelled
		FROM plum_internal.journal j
		WHERE j.campaign_id IS NOT NULL AND ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
		GROUP BY j.campaign_id),
	-- the points campaigns' grants (a grant's entry id is its lot id), once: the lots below find
	-- their campaign by a hash join on it, not by one primary-key probe of the ledger per lot
	cg AS MATERIALIZED (
		SELECT g.entry_id, g.campaign_id FROM plum_internal.journal g
		WHERE g.kind = 'give' AND g.campaign_id IS NOT NULL
			AND ((SELECT plum_internal.caller_companies()) IS NULL OR g.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))),
	-- what became of the points campaigns' lots; earned points (record_event) carry no campaign, so
	-- no campaign lot is ever taken back
	pts AS (
		SELECT y.campaign_id, sum(y.expired) AS expired, sum(y.held) AS held FROM (
			-- expired and swept
			SELECT g.campaign_id, sum(l.remaining) AS expired, 0 AS held
			FROM plum_internal.journal j CROSS JOIN LATERAL plum_internal.wallet_lots(j.lots) l
				JOIN cg g ON g.entry_id = l.lot_id
			WHERE j.kind = 'expire' AND ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
			GROUP BY 1
			UNION ALL
			-- in the wallets: past expiry (not swept yet), or live or pending
			SELECT g.campaign_id, sum(l.remaining) FILTER (WHERE l.expires_at <= plum.now()),
				sum(l.remaining) FILTER (WHERE l.expires_at > plum.now())
			FROM plum_internal.account a CROSS JOIN LATERAL plum_internal.wallet_lots(a.lots) l
				JOIN cg g ON g.entry_id = l.lot_id
			WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR a.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
			GROUP BY 1) y
		GROUP BY y.campaign_id),
	-- orders paid partly with the campaign's codes
	ord AS (
		SELECT pc.campaign_id, count(*) FILTER (WHERE o.refunded_at IS NULL) AS orders, sum(o.total - o.refunded) AS revenue
		FROM (SELECT DISTINCT p.order_id, ic.campaign_id FROM plum_internal.order_payment p
				JOIN plum_internal.issued_code ic ON ic.code = p.code
				WHERE p.instrument = 'code' AND ((SELECT plum_internal.caller_companies()) IS NULL OR ic.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))) pc
			JOIN plum_internal.shop_order o ON o.order_id = pc.order_id
		GROUP BY pc.campaign_id),
	-- open links past their campaign's expiry, and distributed codes past theirs with a balance (not swept)
	lapsed AS (
		SELECT x.campaign_id, sum(x.value) AS value FROM (
			SELECT li.campaign_id, li.value FROM plum_internal.link li JOIN plum_internal.campaign k USING (campaign_id)
			WHERE li.state = 'active' AND k.expires_at <= plum.now() AND ((SELECT plum_internal.caller_companies()) IS NULL OR li.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
			UNION ALL
			SELECT ic.campaign_id, ic.balance FROM plum_internal.issued_code ic
			WHERE ic.expires_at <= plum.now() AND ic.balance > 0 AND ic.distributed_at IS NOT NULL AND ic.cancelled_at IS NULL
				AND ((SELECT plum_internal.caller_companies()) IS NULL OR ic.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))) x
		GROUP BY x.campaign_id),
	v0 AS (
		SELECT k.campaign_id, k.company_id, k.mode, k.name, c.scale, c.base_currency, coalesce(mv.issued, 0) AS issued,
			CASE k.mode WHEN 'points' THEN coalesce(mv.issued, 0) - coalesce(pts.expired, 0) - coalesce(pts.held, 0)
				ELSE coalesce(mv.redeemed, 0) END AS redeemed,
			coalesce(mv.billed, 0) AS billed,
			CASE k.mode WHEN 'points' THEN coalesce(pts.expired, 0)
				ELSE coalesce(mv.code_swept, 0) + coalesce(lapsed.value, 0) END AS expired,
			CASE k.mode WHEN 'points' THEN 0 ELSE coalesce(mv.cancelled, 0) END AS cancelled,
			coalesce(ord.orders, 0) AS orders, coalesce(ord.revenue, 0) AS revenue
		FROM plum_internal.campaign k JOIN plum_internal.company c USING (company_id)
			LEFT JOIN mv USING (campaign_id) LEFT JOIN pts USING (campaign_id) LEFT JOIN ord USING (campaign_id)
			LEFT JOIN lapsed USING (campaign_id)
		WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR k.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))),
	-- what the campaign cost: the prefunded value consumed (points, codes) or billed (links); for links
	-- redeemed_value and billed_value are the same redemptions, counted once
	v AS (SELECT v0.*, CASE v0.mode WHEN 'links' THEN v0.billed ELSE v0.redeemed + v0.billed END AS cost FROM v0)
	SELECT v.campaign_id, v.company_id, v.mode,
		round(v.issued, v.scale) AS issued_value,
		round(v.redeemed, v.scale) AS redeemed_value,
		round(v.billed, v.scale) AS billed_value,
		round(v.expired, v.scale) AS expired_value,
		trim_scale(v.redeemed / nullif(v.issued, 0)) AS redemption_rate,
		v.orders,
		round(v.revenue, v.scale) AS revenue,
		trim_scale((v.revenue - v.cost) / nullif(v.cost, 0)) AS roi,
		v.name, round(v.cost, v.scale) AS cost, round(v.cancelled, v.scale) AS cancelled_value,
		v.base_currency AS currency
	FROM v
$fn$;
COMMENT ON FUNCTION plum_internal.campaign_stats_rows() IS
	'Internal: the rows of plum.campaign_stats for the caller''s companies, computed with JIT off.';
REVOKE EXECUTE ON FUNCTION plum_internal.campaign_stats_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum_internal.campaign_stats_rows() TO plum_reader;

CREATE VIEW plum.campaign_stats WITH (security_barrier) AS
	SELECT s.campaign_id, s.company_id, s.mode, s.issued_value, s.redeemed_value, s.billed_value, s.expired_value,
		s.redemption_rate, s.orders, s.revenue, s.roi, s.name, s.cost, s.cancelled_value, s.currency
	FROM plum_internal.campaign_stats_rows() AS s;
COMMENT ON VIEW plum.campaign_stats IS 'One row per campaign, as of plum''s clock: value issued, redeemed, billed and expired, redemption rate, the orders its codes helped pay, revenue and ROI = (revenue - cost) / cost with cost = redeemed_value + billed_value (for a links campaign, whose redemptions are its billing, cost = billed_value: they count once). Points campaigns count the grants made with campaign_id (plum.give_points(), plum.give_points_bulk(), plum.distribute()); a lot shared by grants of one recipient at one instant counts for the campaign of its first grant.';
COMMENT ON COLUMN plum.campaign_stats.campaign_id IS 'Campaign id.';
COMMENT ON COLUMN plum.campaign_stats.company_id IS 'Company id.';
COMMENT ON COLUMN plum.campaign_stats.mode IS 'points, codes or links.';
COMMENT ON COLUMN plum.campaign_stats.issued_value IS 'points: sum of the campaign''s grants (give rows with its campaign_id); codes: sum of code_issue rows (denomination x count, cancelled codes included: see cancelled_value); links: sum of link_create rows (cancelled links included).';
COMMENT ON COLUMN plum.campaign_stats.redeemed_value IS 'points: issued - expired - live - pending of the campaign''s lots (points redeemed, net of reversals and refunds); codes: code_redeem - code_refund (net of order refunds); links: link_redeem (the links redeemed).';
COMMENT ON COLUMN plum.campaign_stats.billed_value IS 'What the company was billed for the campaign: sum of link_redeem rows (plum.billing); 0 for points and codes, which are prefunded from pools.';
COMMENT ON COLUMN plum.campaign_stats.expired_value IS 'points: the campaign''s lot portions expired (swept or past expiry, as in plum.points_cohorts); codes: code_expire rows + balances of distributed codes past expiry not swept yet; links: value of active links past the campaign''s expiry.';
COMMENT ON COLUMN plum.campaign_stats.redemption_rate IS 'redeemed_value / issued_value (a fraction; NULL when issued_value = 0).';
COMMENT ON COLUMN plum.campaign_stats.orders IS 'Orders (plum.checkout()) paid partly with the campaign''s codes and not wholly refunded.';
COMMENT ON COLUMN plum.campaign_stats.revenue IS 'sum of total - refunded of the orders paid partly with the campaign''s codes (a wholly refunded order adds 0); 0 for points and links campaigns.';
COMMENT ON COLUMN plum.campaign_stats.roi IS '(revenue - cost) / cost with cost = redeemed_value + billed_value for points and codes campaigns (billed_value is 0) and cost = billed_value for links campaigns (their redemptions are their billing, counted once) (a fraction: -1 = no revenue; NULL when cost = 0).';
COMMENT ON COLUMN plum.campaign_stats.name IS 'The campaign''s name.';
COMMENT ON COLUMN plum.campaign_stats.cost IS 'What the campaign cost the company: redeemed_value + billed_value (points, codes: billed_value is 0); billed_value for links (= redeemed_value: each redemption billed once).';
COMMENT ON COLUMN plum.campaign_stats.cancelled_value IS 'codes: code_cancel rows (undistributed codes back to the pool); links: link_cancel rows; points: 0 (a grant is not cancelled; earned points, which plum.reverse_event() takes back, carry no campaign).';
COMMENT ON COLUMN plum.campaign_stats.currency IS 'The company''s base currency.';

CREATE VIEW plum.expiring_soon WITH (security_barrier) AS
	SELECT a.company_id, a.recipient, round(l.remaining, c.scale) AS amount, l.expires_at, l.lot_id, l.issued_at,
		c.base_currency AS currency
	FROM plum_internal.account a JOIN plum_internal.company c USING (company_id), LATERAL plum_internal.wallet_lots(a.lots) l
	WHERE a.next_expiry <= ((plum.now() AT TIME ZONE 'UTC') + interval '30 days') AT TIME ZONE 'UTC'
		AND l.expires_at > plum.now() AND l.expires_at <= ((plum.now() AT TIME ZONE 'UTC') + interval '30 days') AT TIME ZONE 'UTC'
		AND l.available_at <= plum.now() AND l.remaining > 0
		AND ((SELECT plum_internal.caller_companies()) IS NULL OR a.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.expiring_soon IS 'Live lots that expire within 30 days of plum''s clock (now < expires_at <= now + 30 days, in UTC), one row per lot: what to remind recipients of (plum.queue_expiry_reminders()). Pending lots and lots already expired are not listed.';
COMMENT ON COLUMN plum.expiring_soon.company_id IS 'Company id.';
COMMENT ON COLUMN plum.expiring_soon.recipient IS 'The recipient.';
COMMENT ON COLUMN plum.expiring_soon.amount IS 'The lot''s remaining points (what will expire unless redeemed).';
COMMENT ON COLUMN plum.expiring_soon.expires_at IS 'When the lot stops counting.';
COMMENT ON COLUMN plum.expiring_soon.lot_id IS 'The lot (as in plum.point_lots).';
COMMENT ON COLUMN plum.expiring_soon.issued_at IS 'When the lot was issued.';
COMMENT ON COLUMN plum.expiring_soon.currency IS 'The company''s base currency.';

CREATE VIEW plum.retention_monthly WITH (security_barrier) AS
	-- every activity row (each branch filters the caller's companies itself, so that it may run in
	-- parallel), in one sort by recipient and month: a row whose previous row (of the recipient) is
	-- of another month is the recipient's first of that month; its previous month says the rest
	WITH act AS (
		SELECT x.company_id, x.m, lag(x.m) OVER w AS prev
		FROM (
			SELECT j.company_id, j.recipient::text COLLATE "C" AS who, date_trunc('month', j.at AT TIME ZONE 'UTC')::date AS m
			FROM plum_internal.journal j
			-- grants and redemptions; a grant earned by an event (reference event:<id>, at the event's
			-- instant) adds nothing to the event's own row below, so it is left out of the sort
			WHERE j.kind IN ('give', 'redeem') AND (j.kind = 'redeem' OR j.reference IS NULL OR j.reference NOT LIKE 'event:%')
				AND ((SELECT plum_internal.caller_companies()) IS NULL OR j.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))
			UNION ALL
			SELECT e.company_id, e.recipient::text COLLATE "C", date_trunc('month', e.at AT TIME ZONE 'UTC')::date
			FROM plum_internal.event e WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR e.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]))) x
		-- (the recipient's canonical text in the C collation: a plain byte sort, much cheaper than the type's comparison)
		WINDOW w AS (PARTITION BY x.company_id, x.who ORDER BY x.m)),
	per AS (
		SELECT act.company_id, act.m, count(*) AS active,
			count(*) FILTER (WHERE act.prev = (act.m - interval '1 month')::date) AS retained,
			count(*) FILTER (WHERE act.prev IS NULL) AS new
		FROM act WHERE act.prev IS DISTINCT FROM act.m
		GROUP BY act.company_id, act.m),
	months AS (
		SELECT per.company_id, generate_series(min(per.m),
				greatest(max(per.m), date_trunc('month', plum.now() AT TIME ZONE 'UTC')::date), interval '1 month')::date AS m
		FROM per GROUP BY per.company_id),
	g AS (
		SELECT months.company_id, months.m, coalesce(per.active, 0) AS active, coalesce(per.retained, 0) AS retained,
			coalesce(per.new, 0) AS new,
			coalesce(lag(per.active) OVER (PARTITION BY months.company_id ORDER BY months.m), 0) AS previous
		FROM months LEFT JOIN per USING (company_id, m))
	SELECT g.company_id, g.m AS month, g.active, g.retained, g.new, g.previous - g.retained AS churned,
		trim_scale(g.retained::numeric / nullif(g.previous, 0)) AS retention_rate,
		trim_scale((g.previous - g.retained)::numeric / nullif(g.previous, 0)) AS churn_rate,
		g.previous AS previous_active
	FROM g;
COMMENT ON VIEW plum.retention_monthly IS 'Member activity per company and month (UTC), from the company''s first active month to the month of plum''s clock (months without activity included, so churn shows): a recipient is active in a month with any event (plum.record_event(), referral awards), points grant (give) or points redemption (redeem: plum.redeem_points(), plum.checkout()) in it. retention_rate + churn_rate = 1 when last month had anyone active.';
COMMENT ON COLUMN plum.retention_monthly.company_id IS 'Company id.';
COMMENT ON COLUMN plum.retention_monthly.month IS 'The month (first day, UTC).';
COMMENT ON COLUMN plum.retention_monthly.active IS 'Recipients with an event, a grant or a redemption in the month.';
COMMENT ON COLUMN plum.retention_monthly.retained IS 'Recipients active in this month and in the previous one.';
COMMENT ON COLUMN plum.retention_monthly.new IS 'Recipients active for the first time (their first active month).';
COMMENT ON COLUMN plum.retention_monthly.churned IS 'Recipients active in the previous month and not in this one: previous_active - retained.';
COMMENT ON COLUMN plum.retention_monthly.retention_rate IS 'retained / previous month''s active (a fraction; NULL when nobody was active last month).';
COMMENT ON COLUMN plum.retention_monthly.churn_rate IS 'churned / previous month''s active (a fraction; NULL when nobody was active last month).';
COMMENT ON COLUMN plum.retention_monthly.previous_active IS 'active of the previous month (0 for the first month).';

CREATE VIEW plum.referral_funnel WITH (security_barrier) AS
	SELECT c.company_id,
		coalesce(r.referrers, 0) AS referrers, coalesce(r.referred, 0) AS referred,
		coalesce(r.qualified, 0) AS qualified, coalesce(r.reversed, 0) AS reversed,
		round(coalesce(p.awarded, 0), c.scale) AS points_awarded,
		trim_scale(r.qualified::numeric / nullif(r.referred, 0)) AS qualification_rate,
		(SELECT count(*) FROM plum_internal.referral_code rc WHERE rc.company_id = c.company_id) AS codes,
		c.base_currency AS currency
	FROM plum_internal.company c
		LEFT JOIN LATERAL (SELECT count(DISTINCT x.referrer) AS referrers, count(*) AS referred,
				count(*) FILTER (WHERE x.qualified_at IS NOT NULL) AS qualified,
				count(*) FILTER (WHERE x.state = 'reversed') AS reversed
			FROM plum_internal.referral x WHERE x.company_id = c.company_id) r ON true
		LEFT JOIN LATERAL (SELECT sum(a.awarded - a.taken_back) AS awarded
			FROM plum_internal.event e JOIN plum_internal.award a USING (event_id)
			WHERE e.company_id = c.company_id AND e.event IN ('referral', 'referred')) p ON true
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR c.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.referral_funnel IS 'The referral funnel per company (one row per company): referrers, referees attributed (plum.refer()), referrals qualified by the referee''s first purchase, referrals reversed since (their qualifying purchase reversed), and the points the referral rules awarded, net of reversals.';
COMMENT ON COLUMN plum.referral_funnel.company_id IS 'Company id.';
COMMENT ON COLUMN plum.referral_funnel.referrers IS 'Distinct recipients who referred at least one referee (count(DISTINCT referrer) of plum.referrals).';
COMMENT ON COLUMN plum.referral_funnel.referred IS 'Referrals made: referees attributed by plum.refer() (count of plum.referrals).';
COMMENT ON COLUMN plum.referral_funnel.qualified IS 'Referrals that qualified (qualified_at set: the referee''s first purchase after plum.refer()), reversed ones included.';
COMMENT ON COLUMN plum.referral_funnel.reversed IS 'Qualified referrals reversed since (state reversed: their qualifying purchase was reversed by plum.reverse_event()).';
COMMENT ON COLUMN plum.referral_funnel.points_awarded IS 'Points awarded by referral and referred rules to both sides, net of points taken back: sum(referrer_awarded + referee_awarded) of plum.referrals.';
COMMENT ON COLUMN plum.referral_funnel.qualification_rate IS 'qualified / referred (a fraction; NULL when referred = 0).';
COMMENT ON COLUMN plum.referral_funnel.codes IS 'Referral codes handed out (plum.referral_code()), used or not.';
COMMENT ON COLUMN plum.referral_funnel.currency IS 'The company''s base currency.';

GRANT SELECT ON plum.liability, plum.breakage_monthly, plum.points_cohorts, plum.campaign_stats, plum.expiring_soon,
	plum.retention_monthly, plum.referral_funnel TO plum_reader;
