-- Hardening (issue 9): links inside thresholds, the money limit, lots per wallet, templates,
-- linear code lists, company settings, phone trunk prefixes, names, idempotency details, CONTEXT.
-- every feature test starts from an empty plum, so ids in messages are stable
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
SET TimeZone = 'UTC';
SET plum.now = '2026-01-01 09:00:00+00';

--
-- the money limit: no write takes a wallet's total (or an admin's created total) past 10^18 - 1
-- minor units, so one tenant cannot make plum.wallets or verify() fail for every tenant
--
SELECT plum.create_company('Small', 'USD') AS small \gset
SELECT plum.add_admin(:small, 'boss@small.test', 'super_admin', 100) AS sboss \gset
SELECT plum.create_points(:sboss, 50);
SELECT plum.give_points(:sboss, 'ann@small.test', 5) > 0 AS given;
SELECT plum.create_company('Big', 'JPY', max_grant => 999999999999999999) AS big \gset
-- ten admins of Big, each with a full pool of the largest amount plum handles
SELECT count(plum.create_points(plum.add_admin(:big, format('a%s@big.test', g), 'admin', 999999999999999999),
	999999999999999999)) FROM generate_series(1, 10) g;
-- one grant per second to one wallet (different expiry instants, so ten lots)
CREATE TEMP TABLE big_admins AS SELECT admin_id, row_number() OVER (ORDER BY admin_id) AS n
	FROM plum.admins WHERE company_id = :big;
SELECT n, pg_temp.try(format($$SET plum.now = %L; SELECT plum.give_points(%s, 'whale@big.test', 999999999999999999)$$,
		timestamptz '2026-01-01 09:00:00+00' + n * interval '1 second', admin_id))
	FROM big_admins ORDER BY n;
SET plum.now = '2026-01-01 10:00:00+00';
SELECT recipient, balance FROM plum.wallets ORDER BY company_id, recipient;
SELECT * FROM plum.verify();
SELECT plum.points_balance(:small, 'ann@small.test');
-- an admin's created total is capped the same way (its threshold, at most the limit, already caps it;
-- the guard refuses it even for a superuser writing the table)
SELECT pg_temp.try(format('UPDATE plum_internal.admin SET threshold = 2e18, created_total = 1e18 WHERE admin_id = %s',
	(SELECT admin_id FROM big_admins WHERE n = 1)));
-- the lot algebra itself: a wallet at the limit takes nothing more, at any expiry
SELECT pg_temp.try($$SELECT plum_internal.wallet_add('{"scale": 0, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "999999999999999999", "remaining": "999999999999999999"}]}', 2, '2026-02-01 00:00+00', '2027-02-01 00:00+00', 1, '2026-01-01 00:00+00')$$);
SELECT pg_temp.try($$SELECT plum_internal.wallet_add('{"scale": 0, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "999999999999999999", "remaining": "999999999999999998"}]}', 2, '2026-02-01 00:00+00', '2027-01-01 00:00+00', 1, '2026-01-01 00:00+00')$$);
-- the wallet's text input has the money layer's limit
SELECT pg_temp.try($$SELECT '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "10000000000000000.00", "remaining": "1.00"}]}'::plum.wallet$$);
SELECT pg_temp.try($$SELECT '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "9999999999999999.99", "remaining": "1.00"}]}'::plum.wallet$$);

--
-- at most 10,000 lots in a wallet; lots with one expiry instant still merge
--
CREATE TEMP TABLE full_wallet AS
	SELECT format('{"scale": 2, "lots": [%s]}', string_agg(format(
		'{"lot_id": %s, "issued_at": "%s", "expires_at": "%s", "amount": "1.00", "remaining": "1.00"}', g,
		to_char(timestamptz '2026-01-01 00:00+00' + g * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		to_char(timestamptz '2027-01-01 00:00+00' + g * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), ', ' ORDER BY g))::plum.wallet AS w
	FROM generate_series(1, 10000) g;
SELECT plum_internal.wallet_total(w), (SELECT count(*) FROM plum_internal.wallet_lots(w)) AS lots FROM full_wallet;
-- the 10,001st lot at a new expiry instant is refused
SELECT pg_temp.try($$SELECT plum_internal.wallet_add(w, 20001, '2026-06-01 00:00+00', '2027-06-01 00:00+00', 1, '2026-02-01 00:00+00') FROM full_wallet$$);
-- at an expiry instant already there it merges: fine
SELECT plum_internal.wallet_total(plum_internal.wallet_add(w, 20001, '2026-06-01 00:00+00', '2027-01-01 00:00:05+00', 1, '2026-02-01 00:00+00')) FROM full_wallet;
-- once a lot has expired there is room again
SELECT plum_internal.wallet_total(plum_internal.wallet_add(w, 20001, '2026-06-01 00:00+00', '2027-06-01 00:00+00', 1, '2027-01-01 00:00:01+00')) FROM full_wallet;

--
-- links inside thresholds: an open or redeemed link counts toward its admin's created value
-- (PU004 past the threshold; a cancelled link gives it back); a link is worth at most the
-- company's largest grant (PU008); pools are untouched (links are billed, not prefunded)
--
SET plum.now = '2026-01-01 09:00:00+00';
SELECT plum.create_company('Linky', 'EUR', max_grant => 200) AS linky \gset
SELECT plum.add_admin(:linky, 'boss@linky.test', 'super_admin', 1000) AS lboss \gset
SELECT plum.add_admin(:linky, 'zero@linky.test', 'admin', 0) AS lzero \gset
SELECT plum.add_admin(:linky, 'clerk@linky.test', 'admin', 300) AS lclerk \gset
SELECT plum.create_points(:lclerk, 100);
SELECT plum.create_campaign(:lboss, 'Thanks', 'links') AS lcamp \gset
SELECT plum.add_item(:linky, 'gift_card', 'Shop', 'Shop 150', 'shopping', price => 150) AS shop150 \gset
-- an admin with threshold 0 cannot bill its company through a link
SELECT pg_temp.try(format('SELECT plum.create_link(%s, %s, 1)', :lzero, :lcamp));
-- at most the largest grant (an argument check: before the threshold)
SELECT pg_temp.try(format('SELECT plum.create_link(%s, %s, 200.01)', :lclerk, :lcamp));
SELECT pg_temp.try(format('SELECT plum.create_link(%s, %s, 5000)', :lzero, :lcamp));
-- 100 created + 150 + 50 = 300: exactly the threshold; one cent more is refused
SELECT plum.create_link(:lclerk, :lcamp, 150) AS l150 \gset
SELECT plum.create_link(:lclerk, :lcamp, 50) AS l50 \gset
SELECT pg_temp.try(format('SELECT plum.create_link(%s, %s, 0.01)', :lclerk, :lcamp));
SELECT threshold, created, pool, headroom FROM plum.admins WHERE admin_id = :lclerk;
-- redeemed: still counts; cancelled: given back (whoever of the company cancels it)
SELECT plum.redeem_link(:'l150', :shop150) > 0 AS redeemed;
SELECT pg_temp.try(format('SELECT plum.create_link(%s, %s, 0.01)', :lclerk, :lcamp));
SELECT plum.cancel_link(:lboss, :'l50');
SELECT threshold, created, pool, headroom FROM plum.admins WHERE admin_id = :lclerk;
SELECT plum.create_link(:lclerk, :lcamp, 50) IS NOT NULL AS again;
SELECT pg_temp.try(format('SELECT plum.cancel_link(%s, %L)', :lboss, :'l150'));
SELECT created, pool FROM plum.admins WHERE admin_id = :lclerk;
SELECT * FROM plum.verify(:linky);
-- verify() sees a link whose value did not count (tampered as superuser)
BEGIN;
UPDATE plum_internal.admin SET created_total = created_total - 50 WHERE admin_id = :lclerk;
SELECT * FROM plum.verify(:linky);
ROLLBACK;

--
-- company settings validated at creation: a validity positive for ANY issue instant, within the
-- timestamp range for today's lots (22023)
--
SELECT v, pg_temp.try(format('SELECT plum.create_company(%L, %L, points_validity => %L)', 'V ' || v, 'USD', v))
	FROM unnest(ARRAY['1 month -29 days', '1 day -1 hour', '-1 year 13 months', '300000 years', '0', '-1 day',
		'1 year', '1 month 1 day 1 hour', '250000 years']) AS v;

--
-- '+44 (0)20 7946 0958': a trunk prefix "(0)" right after the country code is dropped
--
SELECT r, r::plum.recipient AS normalised, r::plum.recipient = '+442079460958' AS same_as_e164
	FROM unnest(ARRAY['+44 (0)20 7946 0958', '+44 20 7946 0958', '+44(0)2079460958', '0044 (0) 20 7946 0958',
		'+353 (0)1 234 5678']) AS r;
-- elsewhere "(0)" is a digit 0 like any other
SELECT r, r::plum.recipient AS normalised
	FROM unnest(ARRAY['+44 20 (0)7946 0958', '+4420 (0)7946 0958', '+4 4 (0)20 7946 0958', '+44 (00)20 7946 0958',
		'+1 (415) 555-0100']) AS r;

--
-- names trimmed of all whitespace, not only spaces
--
SELECT plum.create_company(E'\t Tabby Co\n' || chr(160) || chr(12288), 'USD') AS tabby \gset
SELECT name, length(name) FROM plum.companies WHERE company_id = :tabby;
SELECT pg_temp.try(format('SELECT plum.create_company(%L, %L)', E'\t\n' || chr(160) || chr(8203), 'USD'));
SELECT pg_temp.try(format('SELECT plum.create_company(%L, %L)', 'Co', E' eur\t'));
SELECT plum.add_admin(:tabby, 'boss@tabby.test', 'super_admin', 100) AS tboss \gset
SELECT plum.create_campaign(:tboss, chr(160) || 'Spring' || E'\r\n', 'links') AS tcamp \gset
SELECT name FROM plum.campaigns WHERE campaign_id = :tcamp;
SELECT plum.add_item(:tabby, 'gift_card', E'\tAmazon' || chr(8239), chr(65279) || 'Amazon 25', E'shopping\n', price => 25) AS titem \gset
SELECT brand, name, category FROM plum.items WHERE item_id = :titem;
SELECT pg_temp.try(format('SELECT plum.create_campaign(%s, %L, %L)', :tboss, chr(12288) || E'\t', 'links'));

--
-- the PU006 detail names the operations, never the first call's arguments (recipient, reference)
--
SELECT plum.add_admin(:small, 'clerk@small.test', 'admin', 100) AS sclerk \gset
SELECT plum.create_points(:sclerk, 20);
SELECT plum.give_points(:sclerk, 'bob@small.test', 10, idempotency_key => 'k-1') > 0 AS given;
SELECT pg_temp.try(format($$SELECT plum.redeem_points(%s, 'eve@small.test', 1, 'eve-order', idempotency_key => 'k-1')$$, :small));
SELECT pg_temp.try(format($$SELECT plum.give_points(%s, 'eve@small.test', 10, idempotency_key => 'k-1')$$, :sclerk));

--
-- refusals raised from SQL carry no CONTEXT naming plum's internals (plum_internal.raise is in C)
--
\set SHOW_CONTEXT always
SELECT plum.cancel_link(999, 'no-such-token');
SELECT plum.create_company(NULL, 'USD');
SELECT plum.create_link(:lzero, :lcamp, 1);
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.context_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_context text;
BEGIN
	EXECUTE sql;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS v_context = PG_EXCEPTION_CONTEXT;
	RETURN SQLSTATE || ' context: "' || v_context || '"';
END
$$;
SELECT pg_temp.context_of(format('SELECT plum.create_link(%s, %s, 1)', :lzero, :lcamp));
SELECT pg_temp.context_of($$SELECT plum.add_admin(NULL, 'x@y.test')$$);
-- the helper checks its own arguments
SELECT pg_temp.try($$SELECT plum_internal.raise('P0O1', 'm')$$);
SELECT pg_temp.try($$SELECT plum_internal.raise(NULL, 'm')$$);
SELECT pg_temp.try($$SELECT plum_internal.raise('PU001', 'a message', 'a detail', 'a hint')$$);

--
-- templates: at most 64 kB and 1,000 fields (22023), rendered in one pass
--
SELECT pg_temp.try(format('SELECT plum_internal.render_message(%L, %L)', repeat('x', 65537), '{}'));
SELECT pg_temp.try(format('SELECT plum_internal.render_message(%L, %L)', repeat('{{n}}', 1001) || repeat('x', 4000), '{"n": "1"}'));
SELECT length(plum_internal.render_message(repeat('{{ n }}', 1000) || repeat('x', 58000), '{"n": "ab"}')) AS rendered;
-- long and short templates render alike: braces inside fields, values never expanded again
SELECT plum_internal.render_message('a{{{x}}}b {{ x }}{{x}} {{ no end', '{"{x": "{{x}}", "x": "2"}') AS short,
	right(plum_internal.render_message(repeat('.', 5000) || 'a{{{x}}}b {{ x }}{{x}} {{ no end', '{"{x": "{{x}}", "x": "2"}'), 25) AS long;
SELECT pg_temp.try(format('SELECT plum_internal.render_message(%L, %L)', repeat('.', 5000) || '{{x}} {{y}} {{z}}', '{"x": "1", "y": null}'));
SELECT pg_temp.try(format('SELECT plum_internal.render_message(%L, %L)', '{{x}} {{y}} {{z}}', '{"x": "1", "y": null}'));
