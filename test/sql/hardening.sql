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
