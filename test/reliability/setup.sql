-- test/reliability/setup.sql — the bank test's database: plum with two companies,
-- wallets, preissued codes and (when plum has them) precreated links, plus schema rel:
-- a simulated clock, rel.try() that runs one plum call and records its outcome, and
-- rel.check() that lists every broken invariant (no rows = all hold).
-- psql variables: links (the number of links to create), codes (codes per campaign).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION plum;
CREATE SCHEMA rel;

-- The clock: plum.now = t0 + (wall time since real0) x speed, the same for every session,
-- always advancing, with no row to update.
CREATE TABLE rel.clock (t0 timestamptz NOT NULL, real0 timestamptz NOT NULL, speed double precision NOT NULL);
INSERT INTO rel.clock VALUES ('2030-01-01 00:00:00+00', clock_timestamp(), 0);
CREATE FUNCTION rel.now() RETURNS timestamptz LANGUAGE sql VOLATILE AS
$$ SELECT t0 + (clock_timestamp() - real0) * speed FROM rel.clock $$;
CREATE FUNCTION rel.tick() RETURNS timestamptz LANGUAGE sql VOLATILE AS
$$ SELECT set_config('plum.now', rel.now()::text, true)::timestamptz $$;

SET plum.now = '2030-01-01 00:00:00+00';
SELECT plum.create_company('Bank USD', 'USD', '2 days', '{5,10,50,100}', 1000) AS c1 \gset
SELECT plum.create_company('Bank JPY', 'JPY', '3 days', '{500,1000}', 100000) AS c2 \gset
SELECT plum.add_admin(:c1, 'boss@usd.test', 'super_admin', 1e12) AS a1 \gset
SELECT plum.add_admin(:c2, 'boss@jpy.test', 'super_admin', 1e12) AS a2 \gset
SELECT plum.create_points(:a1, 1e9);
SELECT plum.create_points(:a2, 1e11);
CREATE TABLE rel.ids (name text PRIMARY KEY, id bigint NOT NULL);
INSERT INTO rel.ids VALUES ('c1', :c1), ('c2', :c2), ('a1', :a1), ('a2', :a2);

-- 300 recipients, each with a first grant in both companies
SELECT plum.give_points_bulk(:a1, array_agg(('u' || i || '@bank.test')::plum.recipient), array_agg(100::numeric), 'bank')
	FROM generate_series(1, 300) AS i;
SELECT plum.give_points_bulk(:a2, array_agg(('u' || i || '@bank.test')::plum.recipient), array_agg(10000::numeric), 'bank')
	FROM generate_series(1, 300) AS i;

-- codes: half in a campaign that expires during the run, half in one that never does
SELECT plum.create_campaign(:a1, 'codes that expire', 'codes', '2030-01-03 00:00:00+00') AS k1 \gset
SELECT plum.create_campaign(:a1, 'codes that last', 'codes') AS k2 \gset
CREATE TABLE rel.code_pool (i serial PRIMARY KEY, code plum.code NOT NULL);
INSERT INTO rel.code_pool (code) SELECT plum.issue_codes(:a1, :k1, 10, :codes);
INSERT INTO rel.code_pool (code) SELECT plum.issue_codes(:a1, :k2, 50, :codes);
-- a quarter of them handed out (distributed codes expire as breakage; the others stay cancellable)
SELECT plum.mark_codes_distributed(array_agg(code)) FROM rel.code_pool WHERE i % 4 = 0;
INSERT INTO rel.ids SELECT 'codes', count(*) FROM rel.code_pool;

-- links, when this plum has them: each is claimed by several clients during the run
CREATE TABLE rel.link_pool (i serial PRIMARY KEY, token text NOT NULL);
INSERT INTO rel.ids VALUES ('links', 0), ('item', 0);
SELECT to_regprocedure('plum.redeem_link(text, bigint, text)') IS NOT NULL AS have_links \gset
\if :have_links
SELECT plum.create_campaign(:a1, 'links', 'links') AS k3 \gset
SELECT plum.add_item(:c1, 'gift_card', 'Burger Barn', 'Burger Barn card', 'food', min_value => 5, max_value => 100) AS item \gset
INSERT INTO rel.link_pool (token) SELECT plum.create_link(:a1, :k3, 25) FROM generate_series(1, :links);
UPDATE rel.ids SET id = (SELECT count(*) FROM rel.link_pool) WHERE name = 'links';
UPDATE rel.ids SET id = :item WHERE name = 'item';
\endif

-- Outcomes: one row per call, committed with the call itself (or not at all).
CREATE TABLE rel.outcome (kind text NOT NULL, status text NOT NULL);
CREATE TABLE rel.unexpected (kind text, sqlstate text, message text, detail text, stmt text, at timestamptz DEFAULT clock_timestamp());
-- the refusals each kind of call may meet as a normal outcome under this load
CREATE TABLE rel.expected (kind text, sqlstate text, PRIMARY KEY (kind, sqlstate));
INSERT INTO rel.expected VALUES
	('grant', 'PU001'), ('bulk', 'PU001'),
	('redeem', 'PU001'),
	('reverse', 'PU008'),
	('codes', 'PU001'), ('codes', 'PU002'), ('codes', 'PU003'),
	('cancel_codes', 'PU003'), ('cancel_codes', 'PU009'),
	('link', 'PU003'), ('link', 'PU002'),
	('cancel_link', 'PU003'), ('cancel_link', 'PU002');

-- Run one plum call at the simulated clock; record ok or the SQLSTATE; never abort the client.
CREATE FUNCTION rel.try(kind text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_state text;
	v_msg text;
	v_detail text;
BEGIN
	PERFORM rel.tick();
	BEGIN
		EXECUTE stmt;
		v_state := 'ok';
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
		IF NOT EXISTS (SELECT FROM rel.expected e WHERE e.kind = try.kind AND e.sqlstate = v_state) THEN
			INSERT INTO rel.unexpected (kind, sqlstate, message, detail, stmt) VALUES (kind, v_state, v_msg, v_detail, stmt);
		END IF;
	END;
	INSERT INTO rel.outcome VALUES (kind, v_state);
	RETURN v_state;
END
$$;

-- Every invariant the reader checks; one row per violation.
CREATE FUNCTION rel.check() RETURNS TABLE(check_name text, detail text) LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('plum.now', rel.now()::text, true);
	RETURN QUERY SELECT 'verify: ' || v.check_name, format('company %s: %s', v.company_id, v.detail) FROM plum.verify() v;

	-- given = live + redeemed + expired - restored, per company, recomputed here from the ledger and the wallets
	RETURN QUERY
	WITH j AS (
		SELECT company_id,
			coalesce(sum(amount) FILTER (WHERE kind = 'give'), 0) AS given,
			coalesce(sum(amount) FILTER (WHERE kind = 'redeem'), 0) AS redeemed,
			coalesce(sum(amount) FILTER (WHERE kind = 'expire'), 0) AS expired,
			coalesce(sum(amount) FILTER (WHERE kind = 'restore'), 0) AS restored,
			coalesce(sum(amount) FILTER (WHERE kind = 'create'), 0) AS created,
			coalesce(sum(amount) FILTER (WHERE kind = 'code_issue'), 0) AS code_issued,
			coalesce(sum(amount) FILTER (WHERE kind = 'code_redeem'), 0) AS code_redeemed,
			coalesce(sum(amount) FILTER (WHERE kind = 'code_expire'), 0) AS code_expired,
			coalesce(sum(amount) FILTER (WHERE kind = 'code_cancel'), 0) AS code_cancelled,
			coalesce(sum(amount) FILTER (WHERE kind = 'code_refund'), 0) AS code_refunded
		FROM plum_internal.journal GROUP BY company_id),
	-- links count toward their admin's created value while open or redeemed (from 0.2.0: counted)
	l AS (SELECT company_id, sum(value) AS links FROM plum_internal.link
		WHERE counted AND state IN ('active', 'redeemed') GROUP BY company_id),
	w AS (SELECT company_id, sum(plum_internal.wallet_total(lots)) AS live FROM plum_internal.account GROUP BY company_id),
	p AS (SELECT company_id, sum(pool) AS pool, sum(created_total) AS created FROM plum_internal.admin GROUP BY company_id),
	k AS (SELECT company_id, sum(balance) AS balance FROM plum_internal.issued_code GROUP BY company_id)
	SELECT 'points conservation', format('company %s: given %s <> live %s + redeemed %s + expired %s - restored %s',
			j.company_id, j.given, coalesce(w.live, 0), j.redeemed, j.expired, j.restored)
		FROM j LEFT JOIN w USING (company_id)
		WHERE j.given <> coalesce(w.live, 0) + j.redeemed + j.expired - j.restored
	UNION ALL
	SELECT 'pool conservation', format('company %s: created %s + counted links %s (admins say %s) <> pools %s + given %s + codes issued %s - codes cancelled %s',
			j.company_id, j.created, coalesce(l.links, 0), p.created, p.pool, j.given, j.code_issued, j.code_cancelled)
		FROM j JOIN p USING (company_id) LEFT JOIN l USING (company_id)
		WHERE j.created + coalesce(l.links, 0) <> p.created OR j.created <> p.pool + j.given + j.code_issued - j.code_cancelled
	UNION ALL
	SELECT 'codes conservation', format('company %s: issued %s + refunded %s <> balances %s + redeemed %s + expired %s + cancelled %s',
			j.company_id, j.code_issued, j.code_refunded, coalesce(k.balance, 0), j.code_redeemed, j.code_expired, j.code_cancelled)
		FROM j LEFT JOIN k USING (company_id)
		WHERE j.code_issued + j.code_refunded <> coalesce(k.balance, 0) + j.code_redeemed + j.code_expired + j.code_cancelled;

	-- nothing below zero
	RETURN QUERY SELECT 'wallet below zero', format('company %s %s: %s', a.company_id, a.recipient, plum_internal.wallet_total(a.lots))
		FROM plum_internal.account a WHERE plum_internal.wallet_total(a.lots) < 0;
	RETURN QUERY SELECT 'lot below zero', format('company %s %s lot %s: %s', l.company_id, l.recipient, l.lot_id, l.remaining)
		FROM plum.point_lots l WHERE l.remaining < 0 OR l.remaining > l.amount;
	RETURN QUERY SELECT 'balance below zero', format('company %s %s: %s', w.company_id, w.recipient, w.balance)
		FROM plum.wallets w WHERE w.balance < 0;
	RETURN QUERY SELECT 'code balance out of range', format('%s: balance %s of %s', c.code, c.balance, c.denomination)
		FROM plum_internal.issued_code c WHERE c.balance < 0 OR c.balance > c.denomination;
	RETURN QUERY SELECT 'pool below zero', format('admin %s: %s', a.admin_id, a.pool) FROM plum_internal.admin a WHERE a.pool < 0;

	-- every call a client saw succeed committed exactly with its ledger rows (same transaction)
	RETURN QUERY
	WITH o AS (SELECT kind, count(*) AS n FROM rel.outcome WHERE status = 'ok' AND kind IN ('redeem', 'grant') GROUP BY kind),
	l AS (SELECT CASE kind WHEN 'redeem' THEN 'redeem' ELSE 'grant' END AS kind, count(*) AS n FROM plum_internal.journal
		WHERE (kind = 'redeem' AND reference = 'bank') OR (kind = 'give' AND note = 'bank-one') GROUP BY 1)
	SELECT 'client outcomes = ledger rows', format('%s: clients saw %s, ledger has %s', coalesce(o.kind, l.kind), coalesce(o.n, 0), coalesce(l.n, 0))
		FROM o FULL JOIN l USING (kind) WHERE coalesce(o.n, 0) <> coalesce(l.n, 0);

	-- links: each redeemed at most once, billing = link redemptions
	IF to_regclass('plum.billing') IS NOT NULL THEN
		RETURN QUERY EXECUTE $q$
		SELECT 'link redeemed twice', format('link %s redeemed %s times', token, count(*))
			FROM plum_internal.journal WHERE kind = 'link_redeem' GROUP BY token HAVING count(*) > 1
		UNION ALL
		SELECT 'billing = link redemptions', format('company %s: %s link redemptions worth %s, %s billing rows worth %s',
				coalesce(r.company_id, b.company_id), coalesce(r.n, 0), coalesce(r.s, 0), coalesce(b.n, 0), coalesce(b.s, 0))
			FROM (SELECT company_id, count(*) AS n, sum(amount) AS s FROM plum_internal.journal WHERE kind = 'link_redeem' GROUP BY 1) r
			FULL JOIN (SELECT company_id, count(*) AS n, sum(amount) AS s FROM plum.billing GROUP BY 1) b USING (company_id)
			WHERE coalesce(r.n, 0) <> coalesce(b.n, 0) OR coalesce(r.s, 0) <> coalesce(b.s, 0)
		UNION ALL
		SELECT 'links redeemed = link_redeem rows', format('%s links redeemed, %s link_redeem rows',
				(SELECT count(*) FROM plum.links WHERE state = 'redeemed'),
				(SELECT count(*) FROM plum_internal.journal WHERE kind = 'link_redeem'))
			WHERE (SELECT count(*) FROM plum.links WHERE state = 'redeemed') <> (SELECT count(*) FROM plum_internal.journal WHERE kind = 'link_redeem')
		UNION ALL
		SELECT 'redeemed link without its billing row', format('link %s (value %s, billing id %s)', l.token, l.value, l.billing_id)
			FROM plum.links l WHERE l.state = 'redeemed'
				AND NOT EXISTS (SELECT FROM plum.billing b WHERE b.billing_id = l.billing_id AND b.amount = l.value AND b.token = l.token)
		$q$;
	END IF;
END
$$;

-- the crash test's drivers: plum.now for the rest of the session
CREATE FUNCTION rel.tick_session() RETURNS timestamptz LANGUAGE sql VOLATILE AS
$$ SELECT set_config('plum.now', rel.now()::text, false)::timestamptz $$;
