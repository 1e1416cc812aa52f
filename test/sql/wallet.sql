-- plum.wallet: text and binary I/O, validation, FIFO consumption, expiry, merge, reversal
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- errors as one line: SQLSTATE, message and detail
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	msg text;
	det text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || msg || coalesce(' | ' || nullif(det, ''), '');
END
$$;

--
-- text round trips
--
SELECT '{"scale": 2, "lots": []}'::plum.wallet;
SELECT '{"scale": 0, "lots": []}'::plum.wallet;
SELECT '{"scale": 2, "lots": [{"lot_id": 17, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "100.00", "remaining": "40.00"}]}'::plum.wallet;
SELECT '{"scale": 0, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "500", "remaining": "499"}, {"lot_id": 2, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2026-12-31T23:59:59Z", "amount": "999999999999999999", "remaining": "1"}]}'::plum.wallet;
SELECT '{"scale": 3, "lots": [{"lot_id": 5, "issued_at": "2024-02-29T12:34:56.5Z", "expires_at": "2025-02-28T00:00:00.000123Z", "amount": "1.005", "remaining": "0.001"}, {"lot_id": 9223372036854775807, "issued_at": "2024-03-01T00:00:00.999999Z", "expires_at": "12345-06-07T08:09:10.000001Z", "amount": "7", "remaining": "6.5"}]}'::plum.wallet;
SELECT '{"scale": 4, "lots": [{"lot_id": 3, "issued_at": "-0044-03-15T12:00:00Z", "expires_at": "0000-01-01T00:00:00Z", "amount": "0.0001", "remaining": "0.0001"}]}'::plum.wallet;

-- whitespace, key order and non-canonical spellings are accepted; output is canonical
SELECT E' \n{ "lots" :[ {"remaining":"4","amount":"10.5","expires_at":"2027-01-01T00:00:00.500000Z","issued_at":"2026-01-01T00:00:00Z","lot_id":7}\t] ,\r\n"scale":2 } '::plum.wallet;

-- output is JSON: it goes through jsonb and comes back unchanged
WITH w(v) AS (SELECT '{"scale": 2, "lots": [{"lot_id": 17, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00.25Z", "amount": "100.00", "remaining": "40.00"}, {"lot_id": 18, "issued_at": "2026-01-02T00:00:00Z", "expires_at": "2027-01-02T00:00:00Z", "amount": "5.00", "remaining": "5.00"}]}'::plum.wallet)
SELECT v::text::jsonb -> 'lots' -> 0 ->> 'remaining' AS remaining,
       (v::text::jsonb ->> 'scale')::int AS scale,
       v::text::jsonb::text::plum.wallet::text = v::text AS jsonb_round_trip
FROM w;

--
-- the text is the same whatever TimeZone and DateStyle say
--
CREATE TEMP TABLE tz_wallet (w plum.wallet);
SET TimeZone = 'Pacific/Chatham';
SET DateStyle = 'SQL, DMY';
INSERT INTO tz_wallet SELECT plum_internal.wallet_add(plum_internal.wallet_empty(2), 1, '2026-03-04 05:06:07.5+00', '2027-03-04 05:06:07+00', 12.5, '2026-01-01 00:00+00');
SELECT w FROM tz_wallet;
SET TimeZone = 'America/St_Johns';
SET DateStyle = 'German';
SELECT w FROM tz_wallet;
SELECT w::text = '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-03-04T05:06:07.5Z", "expires_at": "2027-03-04T05:06:07Z", "amount": "12.50", "remaining": "12.50"}]}'::plum.wallet::text AS same FROM tz_wallet;
RESET TimeZone;
RESET DateStyle;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

--
-- input validation: every invariant and every syntax error is 22P02
--
CREATE TEMP TABLE bad (what text, literal text);
INSERT INTO bad VALUES
	('not json', 'wallet'),
	('empty', ''),
	('unterminated', '{"scale": 2, "lots": ['),
	('trailing text', '{"scale": 2, "lots": []} x'),
	('trailing comma', '{"scale": 2, "lots": [],}'),
	('no scale', '{"lots": []}'),
	('no lots', '{"scale": 2}'),
	('empty object', '{}'),
	('unknown key', '{"scale": 2, "lots": [], "owner": "me"}'),
	('duplicate key', '{"scale": 2, "scale": 2, "lots": []}'),
	('scale too big', '{"scale": 5, "lots": []}'),
	('scale negative', '{"scale": -1, "lots": []}'),
	('scale fraction', '{"scale": 2.5, "lots": []}'),
	('scale string', '{"scale": "2", "lots": []}'),
	('lots not array', '{"scale": 2, "lots": {}}'),
	('lot not object', '{"scale": 2, "lots": [1]}'),
	('lot key missing', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00"}]}'),
	('lot key unknown', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00", "note": "x"}]}'),
	('lot key twice', '{"scale": 2, "lots": [{"lot_id": 1, "lot_id": 2, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('lot_id string', '{"scale": 2, "lots": [{"lot_id": "1", "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('lot_id fraction', '{"scale": 2, "lots": [{"lot_id": 1.5, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('lot_id too big', '{"scale": 2, "lots": [{"lot_id": 9223372036854775808, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('lot_id zero', '{"scale": 2, "lots": [{"lot_id": 0, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('lot_id negative', '{"scale": 2, "lots": [{"lot_id": -4, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('escape in string', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00\u005a", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('time zone offset', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00+00:00", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('space for T', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01 00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('february 30', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-02-30T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('not a leap year', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2100-02-29T00:00:00Z", "expires_at": "2101-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('hour 24', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T24:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('nanoseconds', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00.0000001Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('infinity', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "infinity", "amount": "1.00", "remaining": "1.00"}]}'),
	('beyond timestamp range', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "300000-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('amount as number', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": 1.00, "remaining": "1.00"}]}'),
	('amount negative', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "-1.00", "remaining": "1.00"}]}'),
	('amount exponent', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1e2", "remaining": "1.00"}]}'),
	('amount bare point', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.", "remaining": "1.00"}]}'),
	('too many decimals', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.005", "remaining": "1.00"}]}'),
	('decimals at scale 0', '{"scale": 0, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "10", "remaining": "1.0"}]}'),
	('amount out of range', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "92233720368547758.08", "remaining": "1.00"}]}'),
	('remaining zero', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "0.00"}]}'),
	('remaining over amount', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.01"}]}'),
	('expires when issued', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('expires before issued', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2025-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('not FIFO by issued_at', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-02-01T00:00:00Z", "expires_at": "2027-02-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}, {"lot_id": 2, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('not FIFO by lot_id', '{"scale": 2, "lots": [{"lot_id": 2, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-02-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}, {"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('same lot twice', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}, {"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-02-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('lot_id reused', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}, {"lot_id": 2, "issued_at": "2026-02-01T00:00:00Z", "expires_at": "2027-02-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}, {"lot_id": 1, "issued_at": "2026-03-01T00:00:00Z", "expires_at": "2027-03-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}'),
	('same expiry', '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}, {"lot_id": 2, "issued_at": "2026-02-01T00:00:00Z", "expires_at": "2027-02-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}, {"lot_id": 3, "issued_at": "2026-03-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "1.00", "remaining": "1.00"}]}');
SELECT what, pg_temp.err(format('SELECT %L::plum.wallet', literal)) AS error FROM bad;

-- a long literal is quoted only in part
SELECT pg_temp.err(format('SELECT %L::plum.wallet', '{"scale": 2, "lots": [' || repeat(' ', 100) || ']'));

--
-- scalar functions
--
SELECT plum_internal.wallet_empty(3), plum_internal.wallet_total(plum_internal.wallet_empty(3)),
       plum_internal.wallet_balance(plum_internal.wallet_empty(0), '2026-01-01 00:00+00'),
       plum_internal.wallet_next_expiry(plum_internal.wallet_empty(2), '2026-01-01 00:00+00');
SELECT pg_temp.err('SELECT plum_internal.wallet_empty(5)');
SELECT pg_temp.err('SELECT plum_internal.wallet_empty(-1)');

--
-- adding lots: FIFO order, ties on issued_at by lot_id, merge of equal expiry
--
CREATE TEMP TABLE ws (name text PRIMARY KEY, w plum.wallet);
INSERT INTO ws SELECT 'five', plum_internal.wallet_add(plum_internal.wallet_add(plum_internal.wallet_add(plum_internal.wallet_add(plum_internal.wallet_add(
	plum_internal.wallet_empty(2),
	12, '2026-01-01 00:00+00', '2026-09-01 00:00+00', 15, '2026-05-01 00:00+00'),
	11, '2026-01-01 00:00+00', '2026-08-01 00:00+00', 20, '2026-05-01 00:00+00'),
	14, '2026-03-01 00:00+00', '2027-03-01 00:00+00', 30, '2026-05-01 00:00+00'),
	10, '2025-12-01 00:00+00', '2026-07-01 00:00+00', 10, '2026-05-01 00:00+00'),
	13, '2026-02-01 00:00+00', '2026-06-01 00:00+00', 5, '2026-05-01 00:00+00');
SELECT * FROM plum_internal.wallet_lots((SELECT w FROM ws WHERE name = 'five'));

-- balances: lot 13 stops counting at its expires_at
SELECT at, plum_internal.wallet_balance(w, at) AS balance, plum_internal.wallet_next_expiry(w, at) AS next_expiry, plum_internal.wallet_total(w) AS total
FROM ws, (VALUES (timestamptz '2026-05-31 23:59:59.999999+00'), ('2026-06-01 00:00+00'), ('2026-08-15 00:00+00'), ('2027-03-01 00:00+00')) AS t(at)
WHERE name = 'five' ORDER BY at;

-- live and expired parts
SELECT plum_internal.wallet_live(w, '2026-06-01 00:00+00'), plum_internal.wallet_expired(w, '2026-06-01 00:00+00')
FROM ws WHERE name = 'five';
SELECT plum_internal.wallet_live(w, '2026-01-01 00:00+00')::text = w::text AS all_live,
       plum_internal.wallet_expired(w, '2026-01-01 00:00+00') AS none_expired
FROM ws WHERE name = 'five';

-- equal expiry merges: amounts add up, smallest lot_id and earliest issued_at are kept
SELECT * FROM plum_internal.wallet_lots((SELECT plum_internal.wallet_add(w, 20, '2026-04-01 00:00+00', '2027-03-01 00:00+00', 2.5, '2026-05-01 00:00+00') FROM ws WHERE name = 'five'));
-- a merge can move the lot earlier in FIFO order
SELECT * FROM plum_internal.wallet_lots((SELECT plum_internal.wallet_add(w, 9, '2025-11-01 00:00+00', '2027-03-01 00:00+00', 1, '2026-05-01 00:00+00') FROM ws WHERE name = 'five'));
-- adding drops the lots expired by "at" (13 and 10 here), and a lot already expired is not added
SELECT * FROM plum_internal.wallet_lots((SELECT plum_internal.wallet_add(w, 21, '2026-04-01 00:00+00', '2026-07-01 00:00+00', 1, '2026-07-01 00:00+00') FROM ws WHERE name = 'five'));

-- bad lots
SELECT pg_temp.err($$SELECT plum_internal.wallet_add(plum_internal.wallet_empty(2), 1, '2026-01-01 00:00+00', '2026-01-01 00:00+00', 1, '2026-01-01 00:00+00')$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_add(plum_internal.wallet_empty(2), 0, '2026-01-01 00:00+00', '2027-01-01 00:00+00', 1, '2026-01-01 00:00+00')$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_add(plum_internal.wallet_empty(2), 1, '2026-01-01 00:00+00', 'infinity', 1, '2026-01-01 00:00+00')$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_add(plum_internal.wallet_empty(2), 1, '2026-01-01 00:00+00', '2027-01-01 00:00+00', 0, '2026-01-01 00:00+00')$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_add(plum_internal.wallet_empty(2), 1, '2026-01-01 00:00+00', '2027-01-01 00:00+00', 1.005, '2026-01-01 00:00+00')$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_add(plum_internal.wallet_empty(2), 1, '2026-01-01 00:00+00', '2027-01-01 00:00+00', 'NaN', '2026-01-01 00:00+00')$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_add(w, 12, '2026-01-01 00:00+00', '2027-01-01 00:00+00', 1, '2026-05-01 00:00+00') FROM ws WHERE name = 'five'$$);
-- money overflow is PU008, never a wrap-around
SELECT pg_temp.err($$SELECT plum_internal.wallet_add('{"scale": 0, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "9223372036854775807", "remaining": "9223372036854775807"}]}', 2, '2026-02-01 00:00+00', '2027-01-01 00:00+00', 1, '2026-01-01 00:00+00')$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_total('{"scale": 0, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "9223372036854775807", "remaining": "9223372036854775807"}, {"lot_id": 2, "issued_at": "2026-01-02T00:00:00Z", "expires_at": "2027-01-02T00:00:00Z", "amount": "1", "remaining": "1"}]}')$$);

--
-- FIFO consumption
--
-- 35.00 at 2026-06-01: lot 10 (10.00) and lot 11 (20.00) emptied and dropped,
-- 5.00 from lot 12; lot 13 expires exactly then, is not consumed and is dropped
CREATE TEMP TABLE r1 AS
SELECT (plum_internal.wallet_consume(w, 35, '2026-06-01 00:00+00')).* FROM ws WHERE name = 'five';
SELECT * FROM plum_internal.wallet_lots((SELECT wallet FROM r1));
SELECT * FROM plum_internal.wallet_lots((SELECT taken FROM r1));
SELECT * FROM plum_internal.wallet_lots((SELECT expired FROM r1));
SELECT plum_internal.wallet_total(wallet) AS left, plum_internal.wallet_total(taken) AS taken, plum_internal.wallet_total(expired) AS expired FROM r1;

-- all of the live balance, and not one cent more
SELECT plum_internal.wallet_total(wallet) AS left, plum_internal.wallet_total(taken) AS taken, plum_internal.wallet_total(expired) AS expired
FROM ws, plum_internal.wallet_consume(w, 75, '2026-06-01 00:00+00') WHERE name = 'five';
SELECT pg_temp.err($$SELECT plum_internal.wallet_consume(w, 75.01, '2026-06-01 00:00+00') FROM ws WHERE name = 'five'$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_consume(plum_internal.wallet_empty(2), 1, '2026-06-01 00:00+00')$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_consume(w, 0, '2026-06-01 00:00+00') FROM ws WHERE name = 'five'$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_consume(w, -1, '2026-06-01 00:00+00') FROM ws WHERE name = 'five'$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_consume(w, 0.001, '2026-06-01 00:00+00') FROM ws WHERE name = 'five'$$);
-- shortage in a DO block, as an application sees it
DO $$
BEGIN
	PERFORM plum_internal.wallet_consume(w, 1000, '2026-06-01 00:00+00') FROM ws WHERE name = 'five';
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
END
$$;

-- ties on issued_at are consumed in lot_id order (11 before 12)
SELECT * FROM plum_internal.wallet_lots((SELECT taken FROM ws, plum_internal.wallet_consume(plum_internal.wallet_live(w, '2026-07-01 00:00+00'), 25, '2026-07-01 00:00+00') WHERE name = 'five'));

--
-- reversal: latest expiry first, to the same lots, at most what was taken
--
-- what is still reversible after 7.00 was given back: 5.00 from lot 12, then 2.00 from lot 11
SELECT * FROM plum_internal.wallet_lots((SELECT plum_internal.wallet_reversible(taken, 7) FROM r1));
SELECT plum_internal.wallet_reversible(taken, 0)::text = taken::text AS nothing_reversed,
       plum_internal.wallet_reversible(taken, 35) AS all_reversed
FROM r1;
SELECT pg_temp.err($$SELECT plum_internal.wallet_reversible(taken, 35.01) FROM r1$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_reversible(taken, -1) FROM r1$$);

-- 1st reversal, 7.00 at 2026-06-15: 5.00 back to lot 12 (still in the wallet),
-- 2.00 to lot 11 (dropped when emptied: re-created with its id, issued_at, expires_at)
CREATE TEMP TABLE v1 AS
SELECT (plum_internal.wallet_restore(wallet, taken, 0, 7, '2026-06-15 00:00+00')).* FROM r1;
SELECT * FROM plum_internal.wallet_lots((SELECT wallet FROM v1));
SELECT * FROM plum_internal.wallet_lots((SELECT restored FROM v1));
SELECT expired FROM v1;

-- 2nd reversal, 20.00 at 2026-07-15: 18.00 to lot 11, 2.00 to lot 10, which has
-- expired since: it comes back in expired, not in the wallet
CREATE TEMP TABLE v2 AS
SELECT (plum_internal.wallet_restore(v1.wallet, r1.taken, 7, 20, '2026-07-15 00:00+00')).* FROM r1, v1;
SELECT * FROM plum_internal.wallet_lots((SELECT wallet FROM v2));
SELECT * FROM plum_internal.wallet_lots((SELECT restored FROM v2));
SELECT * FROM plum_internal.wallet_lots((SELECT expired FROM v2));

-- 8.00 is left to reverse: 9.00 is refused, 8.00 goes back (expired)
SELECT * FROM plum_internal.wallet_lots((SELECT plum_internal.wallet_reversible(taken, 27) FROM r1));
SELECT pg_temp.err($$SELECT plum_internal.wallet_restore(v2.wallet, r1.taken, 27, 9, '2026-07-15 00:00+00') FROM r1, v2$$);
SELECT plum_internal.wallet_total(v.wallet) AS wallet, plum_internal.wallet_total(v.restored) AS restored, plum_internal.wallet_total(v.expired) AS expired
FROM r1, v2, plum_internal.wallet_restore(v2.wallet, r1.taken, 27, 8, '2026-07-15 00:00+00') AS v;
SELECT pg_temp.err($$SELECT plum_internal.wallet_restore(v2.wallet, r1.taken, 35, 0.01, '2026-07-15 00:00+00') FROM r1, v2$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_restore(v2.wallet, r1.taken, 0, 0, '2026-07-15 00:00+00') FROM r1, v2$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_restore(v2.wallet, r1.taken, 0, 1.001, '2026-07-15 00:00+00') FROM r1, v2$$);
SELECT pg_temp.err($$SELECT plum_internal.wallet_restore(plum_internal.wallet_empty(0), r1.taken, 0, 1, '2026-07-15 00:00+00') FROM r1$$);

-- a restore (10.00 to lot 11, after the 1st reversal) at a time when both the
-- lot left in the wallet and the portion given back have expired: they come
-- back as one expired lot, its amount not counted twice
SELECT x.wallet, (SELECT string_agg(lot_id || ':' || remaining, ' ') FROM plum_internal.wallet_lots(x.restored)) AS restored
FROM r1, v1, plum_internal.wallet_restore(v1.wallet, r1.taken, 7, 10, '2026-09-15 00:00+00') AS x;
SELECT * FROM plum_internal.wallet_lots((SELECT x.expired FROM r1, v1, plum_internal.wallet_restore(v1.wallet, r1.taken, 7, 10, '2026-09-15 00:00+00') AS x));

-- consumption then full reversal at the same instant gives the wallet back
SELECT v.wallet::text = plum_internal.wallet_live(ws.w, '2026-06-01 00:00+00')::text AS same
FROM ws, plum_internal.wallet_consume(ws.w, 75, '2026-06-01 00:00+00') AS c,
     plum_internal.wallet_restore(c.wallet, c.taken, 0, 75, '2026-06-01 00:00+00') AS v
WHERE ws.name = 'five';

--
-- binary I/O: send/recv round trip through COPY, and recv validates like in
--
CREATE TEMP TABLE bin (name text, w plum.wallet);
INSERT INTO bin SELECT name, w FROM ws;
INSERT INTO bin VALUES ('empty', plum_internal.wallet_empty(4)),
	('scale 3', '{"scale": 3, "lots": [{"lot_id": 5, "issued_at": "-0044-03-15T12:00:00.000001Z", "expires_at": "12345-06-07T08:09:10Z", "amount": "1.005", "remaining": "0.001"}]}');
COPY bin TO '/tmp/plum_wallet_regress.bin' (FORMAT binary);
CREATE TEMP TABLE bin2 (LIKE bin);
COPY bin2 FROM '/tmp/plum_wallet_regress.bin' (FORMAT binary);
SELECT name, bin.w::text = bin2.w::text AS text_same, plum_internal.wallet_send(bin.w) = plum_internal.wallet_send(bin2.w) AS send_same
FROM bin JOIN bin2 USING (name) ORDER BY name;
SELECT plum_internal.wallet_send(plum_internal.wallet_empty(2)), plum_internal.wallet_send(w) FROM bin WHERE name = 'scale 3';

-- corrupt the bytes of wallet_send and read them back as a wallet
CREATE TEMP TABLE raw (what text, b bytea);
INSERT INTO raw SELECT c.what, c.b FROM ws, LATERAL (VALUES
	('flags', overlay(plum_internal.wallet_send(w) placing '\x0001' from 3 for 2)),
	('scale', overlay(plum_internal.wallet_send(w) placing '\x0009' from 1 for 2)),
	('too few lots', overlay(plum_internal.wallet_send(w) placing '\x00000009' from 5 for 4)),
	('negative count', overlay(plum_internal.wallet_send(w) placing '\xffffffff' from 5 for 4)),
	('lot_id zero', overlay(plum_internal.wallet_send(w) placing '\x0000000000000000' from 9 for 8)),
	('infinite expiry', overlay(plum_internal.wallet_send(w) placing '\x7fffffffffffffff' from 25 for 8)),
	('remaining zero', overlay(plum_internal.wallet_send(w) placing '\x0000000000000000' from 41 for 8)),
	('remaining over amount', overlay(plum_internal.wallet_send(w) placing '\x00000000000003e9' from 41 for 8)),
	('lot_id reused', overlay(plum_internal.wallet_send(w) placing '\x000000000000000a' from 49 for 8)),
	('same expiry', overlay(plum_internal.wallet_send(w) placing substr(plum_internal.wallet_send(w), 25, 8) from 65 for 8)),
	('not FIFO', overlay(plum_internal.wallet_send(w) placing substr(plum_internal.wallet_send(w), 137, 8) from 17 for 8))
	) AS c(what, b)
WHERE name = 'five';
DO $$
DECLARE
	r record;
	det text;
BEGIN
	FOR r IN SELECT what FROM raw ORDER BY what LOOP
		EXECUTE format('COPY (SELECT b FROM raw WHERE what = %L) TO %L (FORMAT binary)', r.what, '/tmp/plum_wallet_regress_bad.bin');
		BEGIN
			COPY bin2 (w) FROM '/tmp/plum_wallet_regress_bad.bin' (FORMAT binary);
			RAISE NOTICE '%: accepted', r.what;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
			RAISE NOTICE '%: % % | %', r.what, SQLSTATE, SQLERRM, det;
		END;
	END LOOP;
END
$$;

--
-- 5,000 lots: built one grant at a time, stored (TOASTed), consumed in one call
--
CREATE TEMP TABLE big (w plum.wallet);
DO $$
DECLARE
	w plum.wallet := plum_internal.wallet_empty(2);
BEGIN
	FOR i IN 1..5000 LOOP
		w := plum_internal.wallet_add(w, i, timestamptz '2026-01-01 00:00+00' + i * interval '1 minute',
							 timestamptz '2027-01-01 00:00+00' + i * interval '1 minute',
							 1.25, '2026-01-01 00:00+00');
	END LOOP;
	INSERT INTO big VALUES (w);
END
$$;
SELECT (SELECT count(*) FROM plum_internal.wallet_lots(w)) AS lots, plum_internal.wallet_total(w) AS total,
       plum_internal.wallet_balance(w, timestamptz '2027-01-01 00:00+00' + 2500 * interval '1 minute') AS balance_half_expired,
       plum_internal.wallet_next_expiry(w, timestamptz '2027-01-01 00:00+00' + 2500 * interval '1 minute') AS next_expiry,
       w::text::plum.wallet::text = w::text AS text_round_trip
FROM big;
-- all but one cent
SELECT (SELECT count(*) FROM plum_internal.wallet_lots(c.taken)) AS taken_lots, plum_internal.wallet_total(c.taken) AS taken,
       c.wallet AS left, plum_internal.wallet_total(c.expired) AS expired
FROM big, plum_internal.wallet_consume(big.w, 6249.99, '2026-06-01 00:00+00') AS c;
-- half of the lots expired: they are skipped, dropped and handed back
SELECT (SELECT count(*) FROM plum_internal.wallet_lots(c.taken)) AS taken_lots, plum_internal.wallet_total(c.taken) AS taken,
       (SELECT count(*) FROM plum_internal.wallet_lots(c.wallet)) AS left_lots,
       (SELECT count(*) FROM plum_internal.wallet_lots(c.expired)) AS expired_lots, plum_internal.wallet_total(c.expired) AS expired,
       (SELECT min(lot_id) FROM plum_internal.wallet_lots(c.taken)) AS first_taken
FROM big, plum_internal.wallet_consume(big.w, 3000, timestamptz '2027-01-01 00:00+00' + 2500 * interval '1 minute') AS c;
-- reversing everything puts every lot back as it was
SELECT v.wallet::text = big.w::text AS same, plum_internal.wallet_total(v.restored) AS restored
FROM big, plum_internal.wallet_consume(big.w, 6250, '2026-06-01 00:00+00') AS c,
     plum_internal.wallet_restore(c.wallet, c.taken, 0, 6250, '2026-06-01 00:00+00') AS v;
-- binary round trip of the big wallet
COPY big TO '/tmp/plum_wallet_regress.bin' (FORMAT binary);
CREATE TEMP TABLE big2 (LIKE big);
COPY big2 FROM '/tmp/plum_wallet_regress.bin' (FORMAT binary);
SELECT big.w::text = big2.w::text AS same FROM big, big2;

--
-- pending lots (0.2.0): available_at
--
-- a wallet in the 0.1.0 text form (no available_at) still reads, and prints the same text
SELECT w::text = '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "10.00", "remaining": "10.00"}]}' AS same_text,
       (SELECT available_at FROM plum_internal.wallet_lots(w)) AS available_at
FROM (SELECT '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "10.00", "remaining": "10.00"}]}'::plum.wallet AS w) x;
-- a wallet without pending lots is sent in 0.1.0's binary form (flags 0, five int64 a lot)
SELECT encode(plum_internal.wallet_send('{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "10.00", "remaining": "10.00"}]}'::plum.wallet), 'hex') AS wire;
-- a lot pending until March: it counts nowhere before that instant, exactly
CREATE TEMP TABLE pw AS SELECT plum_internal.wallet_add(
	plum_internal.wallet_add(plum_internal.wallet_empty(2), 1, '2026-01-01 00:00+00', '2027-01-01 00:00+00', 10, '2026-01-01 00:00+00'),
	2, '2026-01-15 00:00+00', '2027-03-01 00:00+00', 7, '2026-01-15 00:00+00', '2026-03-01 00:00+00') AS w;
SELECT w::text FROM pw;
SELECT encode(plum_internal.wallet_send(w), 'hex') AS wire FROM pw;
SELECT at, plum_internal.wallet_balance(w, at) AS balance, plum_internal.wallet_pending(w, at) AS pending
FROM pw, unnest(ARRAY['2026-02-01 00:00+00', '2026-02-28 23:59:59.999999+00', '2026-03-01 00:00+00']::timestamptz[]) AS at;
-- FIFO by issue time skips the pending lot: redeeming 12 before March is short, 12 in March takes lot 1 then lot 2
SELECT pg_temp.err($$SELECT plum_internal.wallet_consume(w, 12, '2026-02-01 00:00+00') FROM pw$$) AS before_march;
SELECT c.taken::text FROM pw, plum_internal.wallet_consume(pw.w, 12, '2026-03-01 00:00+00') AS c;
-- a lot issued later but already available is consumed while the earlier lot is pending
SELECT c.taken::text, c.wallet::text
FROM pw, plum_internal.wallet_consume(plum_internal.wallet_add(pw.w, 3, '2026-01-20 00:00+00', '2027-01-20 00:00+00', 5, '2026-01-20 00:00+00'), 15, '2026-02-01 00:00+00') AS c;
-- lots merge only when expiry and availability are equal: same expiry, pending vs immediate stay apart
SELECT count(*) AS lots FROM pw, plum_internal.wallet_lots(plum_internal.wallet_add(pw.w, 4, '2026-02-01 00:00+00', '2027-03-01 00:00+00', 1, '2026-02-01 00:00+00'));
SELECT l.lot_id, l.amount, l.available_at FROM pw, plum_internal.wallet_lots(plum_internal.wallet_add(pw.w, 5, '2026-02-01 00:00+00', '2027-03-01 00:00+00', 1, '2026-02-01 00:00+00', '2026-03-01 00:00+00')) AS l;
-- bad availability: before the issue, at or after the expiry
SELECT pg_temp.err($$SELECT plum_internal.wallet_add(plum_internal.wallet_empty(2), 9, '2026-02-01 00:00+00', '2027-02-01 00:00+00', 1, '2026-02-01 00:00+00', '2026-01-01 00:00+00')$$) AS before_issue;
SELECT pg_temp.err($$SELECT plum_internal.wallet_add(plum_internal.wallet_empty(2), 9, '2026-02-01 00:00+00', '2027-02-01 00:00+00', 1, '2026-02-01 00:00+00', '2027-02-01 00:00+00')$$) AS at_expiry;
SELECT pg_temp.err($$SELECT '{"scale": 2, "lots": [{"lot_id": 1, "issued_at": "2026-01-01T00:00:00Z", "available_at": "2025-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z", "amount": "10.00", "remaining": "10.00"}]}'::plum.wallet$$) AS text_before_issue;
-- text and binary round trips keep available_at
SELECT w::text::plum.wallet::text = w::text AS text_round_trip FROM pw;
CREATE TEMP TABLE pw2 (LIKE pw);
COPY pw TO '/tmp/plum_wallet_regress_pending.bin' (FORMAT binary);
COPY pw2 FROM '/tmp/plum_wallet_regress_pending.bin' (FORMAT binary);
SELECT pw.w::text = pw2.w::text AS binary_round_trip FROM pw, pw2;
-- taking back an award: from its own lot (pending or live), never more than the lot holds
SELECT t.taken, t.wallet::text FROM pw, plum_internal.wallet_take_back(pw.w, '2026-01-15 00:00+00', '2026-03-01 00:00+00', '2027-03-01 00:00+00', 5, '2026-02-01 00:00+00') AS t;
SELECT t.taken FROM pw, plum_internal.wallet_take_back(pw.w, '2026-01-15 00:00+00', '2026-03-01 00:00+00', '2027-03-01 00:00+00', 50, '2026-02-01 00:00+00') AS t;
SELECT t.taken FROM pw, plum_internal.wallet_take_back(pw.w, '2026-06-01 00:00+00', '2026-06-01 00:00+00', '2027-06-01 00:00+00', 5, '2026-07-01 00:00+00') AS t;

--
-- the stored form is packed (0.2.0): ten lots of a year issued a day apart take
-- well under half of their 16 + 10 x 48 bytes in working form, and every value
-- round-trips exactly, the extreme ones included
--
SELECT pg_column_size(w) AS packed_bytes, pg_column_size(w) < (16 + 10 * 48) / 2 AS under_half,
	   (SELECT count(*) FROM plum_internal.wallet_lots(w)) AS lots
FROM (SELECT format('{"scale": 2, "lots": [%s]}', string_agg(format(
		'{"lot_id": %s, "issued_at": "%s", "expires_at": "%s", "amount": "1000.00", "remaining": "%s"}',
		1000 + 20000 * i, to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		to_char(t + interval '1 year', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), CASE WHEN i = 0 THEN '12.34' ELSE '1000.00' END), ', ' ORDER BY i))::plum.wallet AS w
	  FROM generate_series(0, 9) i, LATERAL (SELECT timestamp '2026-01-01' + i * interval '1 day' AS t) x) ten;
CREATE TEMP TABLE extreme (w plum.wallet);
INSERT INTO extreme VALUES ('{"scale": 0, "lots": [{"lot_id": 9223372036854775807, "issued_at": "-4713-11-24T00:00:00Z", "available_at": "294276-12-31T23:59:59.999998Z", "expires_at": "294276-12-31T23:59:59.999999Z", "amount": "999999999999999999", "remaining": "1"}, {"lot_id": 1, "issued_at": "294276-12-31T23:59:59.999998Z", "expires_at": "294276-12-31T23:59:59.999999Z", "amount": "999999999999999998", "remaining": "999999999999999998"}]}');
SELECT w::text FROM extreme;
SELECT w::text::plum.wallet::text = w::text AS text_round_trip,
	   plum_internal.wallet_total(w) AS total, pg_column_size(w) AS packed_bytes FROM extreme;
