-- plum.code: text and binary I/O, check symbol, operators, index support,
-- generation.  The extension is loaded by pg_regress.
\set SHOW_CONTEXT never

-- the operators live in schema plum: qualified, or with plum on the path
SELECT '7K3M-Q9XA-2BCD-S'::plum.code OPERATOR(pg_catalog.=) '7k3m q9xa 2bcd s';
SET search_path = public, plum;

-- 'ok <canonical text>' when t parses, else '<SQLSTATE> <detail>'
CREATE FUNCTION pg_temp.try_code(t text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	detail text;
BEGIN
	RETURN 'ok ' || t::plum.code::text;
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
	RETURN st || ' ' || detail;
END
$$;

-- does t parse?  Only 22P02 counts as "no": anything else fails the test
CREATE FUNCTION pg_temp.code_parses(t text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM t::plum.code;
	RETURN true;
EXCEPTION WHEN invalid_text_representation THEN
	RETURN false;
END
$$;

-- the SQLSTATE a statement raises, or 'ok'
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN others THEN
	RETURN SQLSTATE;
END
$$;

--
-- round trips of known values (computed outside PostgreSQL)
--
SELECT '0000-0000-0001-1'::plum.code;
SELECT '7K3M-Q9XA-2BCD-S'::plum.code;
SELECT 'VR5P-PEKP-8000-1'::plum.code;	-- 10^18
SELECT 'ZZZZ-ZZZZ-ZZZZ-9'::plum.code;	-- 2^60 - 1, the largest code
SELECT 'G000-0000-0000-5'::plum.code;	-- 2^59
SELECT '0123-4567-89AB-Y'::plum.code, 'CDEF-GHJK-MNPQ-C'::plum.code,
	'RSTV-WXYZ-0000-B'::plum.code;		-- every data symbol

-- the check-only symbols: values 32..36 mod 37
SELECT v::plum.code
FROM (VALUES ('0000-0000-0010-*'), ('0000-0000-0011-~'), ('0000-0000-0012-$'),
	('0000-0000-0013-='), ('0000-0000-0014-U'), ('0000-0000-0015-0')) AS t(v);

-- the value and its wire form
SELECT plum_internal.code_send('0000-0000-0001-1');
SELECT plum_internal.code_send('ZZZZ-ZZZZ-ZZZZ-9');
SELECT plum_internal.code_send('VR5P-PEKP-8000-1') = int8send(1000000000000000000);

--
-- lenient spellings of 7K3M-Q9XA-2BCD-S
--
SELECT pg_temp.try_code(v)
FROM (VALUES
	('7k3m-q9xa-2bcd-s'),			-- lower case
	('7K3mQ9xA2bCdS'),				-- no separators, mixed case
	('7K3MQ9XA2BCD-S'),
	('7-K-3-M-Q-9-X-A-2-B-C-D-S'),	-- hyphens anywhere
	('--7K3M--Q9XA--2BCD--S--'),
	('7K3M Q9XA 2BCD S'),			-- spaces
	('  7K3M-Q9XA-2BCD-S  '),
	(E'\t7K3M-Q9XA-2BCD-S\n'),		-- other white space
	(' - 7K3M - Q9XA - 2BCD - S - ')
) AS t(v);

-- I and L read as 1, O as 0 (data and check positions); u is U
SELECT pg_temp.try_code(v)
FROM (VALUES
	('oooo-oooo-oooi-i'),
	('OOOO-OOOO-OOOL-L'),
	('0000-0000-000l-I'),
	('OOOO-OOOO-OO14-u'),
	('0000-0000-0015-O')
) AS t(v);

-- equal whatever the spelling
SELECT '7k3m q9xa 2bcd s'::plum.code = '7K3M-Q9XA-2BCD-S'::plum.code;

--
-- malformed input: 22P02 with a detail
--
SELECT pg_temp.try_code(v)
FROM (VALUES
	(''),
	('   '),
	('----'),
	('7K3M-Q9XA-2BC-S'),			-- 12 symbols
	('7K3M-Q9XA-2B'),				-- 10
	('7K3M-Q9XA-2BCD-SS'),			-- 14
	('7K3M-Q9XA-2BCD-S-7K3M-Q9XA-2BCD-S'),	-- 26
	('7K3M-Q9XA-2BCD'),				-- no check symbol
	('7K3U-Q9XA-2BCD-S'),			-- U in data
	('7K3*-Q9XA-2BCD-S'),			-- * in data
	('7K3M-Q9XA-2BC~-S'),
	('$K3M-Q9XA-2BCD-S'),
	('7K3M=Q9XA-2BCD-S'),			-- = as a separator: 14 symbols, = in data
	('7K3M#Q9XA-2BCD-S'),			-- #
	('7K3M_Q9XA-2BCD-S'),			-- _
	('7K3M.Q9XA.2BCD.S'),			-- .
	('7K3M-Q9XA-2BCD-S!'),
	('7K3M-Q9XA-2BCD-T'),			-- wrong check symbol
	('7K3M-Q9XA-2BCD-*'),
	('0000-0000-0000-0'),			-- all zero: reserved
	('OOOO OOOO OOOO O'),
	('0000-0000-0000-1'),			-- all zero with a wrong check
	(repeat('A', 100000)),
	(repeat('-', 100000))
) AS t(v);

-- non-ASCII characters (only the SQLSTATE: the detail depends on the encoding)
SELECT left(pg_temp.try_code(v), 5)
FROM (VALUES ('7K3M-Q9XÄ-2BCD-S'), ('7K3M-Q9XA-2BCD-€'), ('７K3M-Q9XA-2BCD-S')) AS t(v);

-- the full error, as a client sees it
SELECT '7K3M-Q9XA-2BCD-T'::plum.code;
SELECT '7K3M#Q9XA-2BCD-S'::plum.code;
SELECT '7K3M-Q9XA-2BC'::plum.code;
SELECT '7K3U-Q9XA-2BCD-S'::plum.code;
SELECT '0000-0000-0000-0'::plum.code;

--
-- the check symbol catches every single-symbol substitution
--
CREATE TEMP TABLE sample_codes (c plum.code);
INSERT INTO sample_codes VALUES
	('0000-0000-0001-1'), ('7K3M-Q9XA-2BCD-S'), ('VR5P-PEKP-8000-1'),
	('ZZZZ-ZZZZ-ZZZZ-9'), ('G000-0000-0000-5'), ('0000-0000-0010-*'),
	('0000-0000-0014-U'), ('0123-4567-89AB-Y');
INSERT INTO sample_codes SELECT plum_internal.code_random(25);

-- the code as 13 bare symbols
CREATE TEMP VIEW sample_symbols AS
SELECT c, replace(c::text, '-', '') AS s FROM sample_codes;

-- data positions 1..12 take the other 31 data symbols; the check position
-- the other 36 check symbols
CREATE TEMP VIEW substitutions AS
SELECT c, overlay(s PLACING sym FROM pos FOR 1) AS variant
FROM sample_symbols,
	generate_series(1, 13) AS pos,
	regexp_split_to_table(CASE WHEN pos <= 12
		THEN '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
		ELSE '0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U' END, '') AS sym
WHERE sym <> substr(s, pos, 1);

SELECT count(DISTINCT c) AS codes,
	count(*) / count(DISTINCT c) AS variants_per_code,
	count(*) FILTER (WHERE pg_temp.code_parses(variant)) AS accepted
FROM substitutions;

-- ... and in lower case
SELECT count(*) FILTER (WHERE pg_temp.code_parses(lower(variant))) AS accepted
FROM substitutions;

-- the unchanged codes do parse (the check above can fail)
SELECT count(*) FILTER (WHERE pg_temp.code_parses(s)) AS accepted,
	count(*) FILTER (WHERE s::plum.code = c) AS equal
FROM sample_symbols;

--
-- ... and every transposition of two adjacent, different symbols
--
CREATE TEMP VIEW transpositions AS
SELECT c, pos,
	overlay(s PLACING substr(s, pos + 1, 1) || substr(s, pos, 1) FROM pos FOR 2)
		AS variant
FROM sample_symbols, generate_series(1, 12) AS pos
WHERE substr(s, pos, 1) <> substr(s, pos + 1, 1);

SELECT count(*) AS variants,
	count(*) FILTER (WHERE pg_temp.code_parses(variant)) AS accepted
FROM transpositions
WHERE c = '7K3M-Q9XA-2BCD-S';

-- all sample codes; position 12 swaps the last data symbol and the check
SELECT count(DISTINCT c) AS codes,
	count(*) FILTER (WHERE pos = 12) > 0 AS swaps_check_symbol,
	count(*) FILTER (WHERE pg_temp.code_parses(variant)) AS accepted
FROM transpositions;

--
-- NULLs, casts
--
SELECT NULL::plum.code IS NULL;
SELECT count(*) FROM plum_internal.code_random(NULL);

-- an 8-byte, pass-by-value, double-aligned type
SELECT typlen, typbyval, typalign, typstorage
FROM pg_type WHERE oid = 'plum.code'::regtype;

SELECT '7K3M-Q9XA-2BCD-S'::text::plum.code, '7K3M-Q9XA-2BCD-S'::plum.code::text;

CREATE TEMP TABLE code_text (c plum.code, t text);
INSERT INTO code_text VALUES ('7k3m q9xa 2bcd s'::text, 'VR5P-PEKP-8000-1'::plum.code);
SELECT * FROM code_text;
SELECT pg_temp.sqlstate_of($$INSERT INTO code_text (c) VALUES ('7K3M-Q9XA-2BCD-T'::text)$$);

-- code = text (and varchar) reads the text as a code, whatever the search path: the spelling does
-- not matter and a bad check symbol is 22P02. None from bigint.
SELECT pg_temp.sqlstate_of($$SELECT '7K3M-Q9XA-2BCD-S'::plum.code = '7K3M-Q9XA-2BCD-S'::text$$);
SELECT '7K3M-Q9XA-2BCD-S'::plum.code = '7k3m q9xa 2bcd s'::text AS eq_text,
	'7k3m q9xa 2bcd s'::varchar = '7K3M-Q9XA-2BCD-S'::plum.code AS varchar_eq,
	'7K3M-Q9XA-2BCD-S'::plum.code <> 'VR5P-PEKP-8000-1'::text AS ne_text;
SELECT pg_temp.sqlstate_of($$SELECT '7K3M-Q9XA-2BCD-S'::plum.code = '7K3M-Q9XA-2BCD-T'::text$$);
SELECT pg_temp.sqlstate_of($$SELECT 1::bigint::plum.code$$);

--
-- comparison
--
WITH v(a, b) AS (VALUES
	('0000-0000-0001-1'::plum.code, '7K3M-Q9XA-2BCD-S'::plum.code),
	('7K3M-Q9XA-2BCD-S', '7K3M-Q9XA-2BCD-S'),
	('ZZZZ-ZZZZ-ZZZZ-9', 'G000-0000-0000-5'))
SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le,
	a > b AS gt, a >= b AS ge, plum_internal.code_cmp(a, b) AS cmp
FROM v;

-- codes sort like their canonical text
SELECT array_agg(c ORDER BY c)::text[] = array_agg(c::text ORDER BY c::text COLLATE "C")
FROM sample_codes;

-- the operators know each other and the planner may hash and merge on =
SELECT o.oprname, o.oprcanhash, o.oprcanmerge,
	c.oprname AS commutator, n.oprname AS negator,
	o.oprrest, o.oprjoin
FROM pg_operator o
LEFT JOIN pg_operator c ON c.oid = o.oprcom
LEFT JOIN pg_operator n ON n.oid = o.oprnegate
WHERE o.oprleft = 'plum.code'::regtype AND o.oprright = 'plum.code'::regtype
ORDER BY o.oprname, o.oprright::regtype::text;

SELECT am.amname, opc.opcname, opc.opcdefault, amvalidate(opc.oid)
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE opc.opcintype = 'plum.code'::regtype
ORDER BY am.amname;

-- hash and extended hash agree on the low 32 bits with seed 0, as for bigint
SELECT count(*) AS codes,
	count(*) FILTER (WHERE plum_internal.code_hash(c) = ((plum_internal.code_hash_extended(c, 0) << 32) >> 32)::integer) AS agree,
	count(*) FILTER (WHERE plum_internal.code_hash(c) =
		hashint8(('x' || encode(plum_internal.code_send(c), 'hex'))::bit(64)::bigint)) AS as_bigint,
	count(DISTINCT plum_internal.code_hash_extended(c, 42)) = count(*) AS seeded
FROM sample_codes;

-- every C function, operator, operator class and the type have a comment
SELECT p.oid::regprocedure
FROM pg_proc p
WHERE p.pronamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace) AND p.proname LIKE 'code\_%'
	AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT o.oid::regoperator
FROM pg_operator o
WHERE o.oprleft = 'plum.code'::regtype AND obj_description(o.oid, 'pg_operator') IS NULL;
SELECT opc.opcname
FROM pg_opclass opc
WHERE opc.opcintype = 'plum.code'::regtype AND obj_description(opc.oid, 'pg_opclass') IS NULL;
SELECT obj_description('plum.code'::regtype, 'pg_type') IS NOT NULL AS type_has_comment;

--
-- binary I/O through COPY (FORMAT binary)
--
SELECT '/tmp/plum_code_type_' || pg_backend_pid() || '.bin' AS binfile \gset

CREATE TEMP TABLE bin_out (c plum.code);
INSERT INTO bin_out SELECT c FROM sample_codes;
INSERT INTO bin_out SELECT plum_internal.code_random(1000);
COPY bin_out TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE bin_in (c plum.code);
COPY bin_in FROM :'binfile' WITH (FORMAT binary);
SELECT (SELECT count(*) FROM bin_in) AS rows,
	(SELECT count(*) FROM (TABLE bin_out EXCEPT ALL TABLE bin_in) d) AS missing,
	(SELECT count(*) FROM (TABLE bin_in EXCEPT ALL TABLE bin_out) d) AS extra;

-- a bigint's wire form is a code's
COPY (SELECT 1000000000000000000::bigint) TO :'binfile' WITH (FORMAT binary);
TRUNCATE bin_in;
COPY bin_in FROM :'binfile' WITH (FORMAT binary);
SELECT * FROM bin_in;

-- recv refuses what input refuses: zero (22P03); the top 4 bits are a shard's number (accepted)
COPY (SELECT '\x1000000000000001'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY bin_in FROM :'binfile' WITH (FORMAT binary);
SELECT pg_temp.sqlstate_of(format('COPY bin_in FROM %L WITH (FORMAT binary)', :'binfile'));
COPY (SELECT '\x8000000000000001'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY bin_in FROM :'binfile' WITH (FORMAT binary);
COPY (SELECT '\xffffffffffffffff'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY bin_in FROM :'binfile' WITH (FORMAT binary);
COPY (SELECT '\x0000000000000000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY bin_in FROM :'binfile' WITH (FORMAT binary);
SELECT pg_temp.sqlstate_of(format('COPY bin_in FROM %L WITH (FORMAT binary)', :'binfile'));
-- ... and the wrong length
COPY (SELECT '\x00000000000001'::bytea) TO :'binfile' WITH (FORMAT binary);
SELECT pg_temp.sqlstate_of(format('COPY bin_in FROM %L WITH (FORMAT binary)', :'binfile'));
COPY (SELECT '\x000000000000000101'::bytea) TO :'binfile' WITH (FORMAT binary);
SELECT pg_temp.sqlstate_of(format('COPY bin_in FROM %L WITH (FORMAT binary)', :'binfile'));
-- the largest code is fine
COPY (SELECT '\x0fffffffffffffff'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY bin_in FROM :'binfile' WITH (FORMAT binary);
SELECT * FROM bin_in ORDER BY c;

SELECT 'rm -f ' || :'binfile' AS rmcmd \gset
COPY (SELECT) TO PROGRAM :'rmcmd';

--
-- btree
--
CREATE TEMP TABLE idx (id integer, c plum.code);
INSERT INTO idx SELECT i, c FROM plum_internal.code_random(5000) WITH ORDINALITY AS r(c, i);
INSERT INTO idx VALUES (0, '7K3M-Q9XA-2BCD-S');
CREATE UNIQUE INDEX idx_c ON idx (c);
VACUUM ANALYZE idx;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM idx WHERE c = '7K3M-Q9XA-2BCD-S';
SELECT id FROM idx WHERE c = '7K3M-Q9XA-2BCD-S';
SELECT id FROM idx WHERE c = '7k3m q9xa 2bcd s';
EXPLAIN (COSTS OFF) SELECT id FROM idx WHERE c < '7K3M-Q9XA-2BCD-S';
SELECT (SELECT count(*) FROM idx WHERE c < '7K3M-Q9XA-2BCD-S')
	= (SELECT count(*) FROM idx WHERE c::text COLLATE "C" < '7K3M-Q9XA-2BCD-S');
EXPLAIN (COSTS OFF) SELECT id, c FROM idx ORDER BY c LIMIT 3;
-- index order equals sort order (sortsupport) equals text order
SELECT array_agg(c ORDER BY c)::text[] = array_agg(c::text ORDER BY c::text COLLATE "C")
FROM idx;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_temp.sqlstate_of($$INSERT INTO idx VALUES (-1, '7K3M Q9XA 2BCD S')$$);

-- merge join
SET enable_hashjoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM idx a JOIN idx b ON a.c = b.c;
SELECT count(*) FROM idx a JOIN idx b ON a.c = b.c;
RESET enable_hashjoin;
RESET enable_nestloop;

--
-- hash
--
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT c, count(*) FROM idx GROUP BY c;
SELECT count(*) FROM (SELECT c, count(*) FROM idx GROUP BY c) g;
EXPLAIN (COSTS OFF) SELECT DISTINCT c FROM idx;
SELECT count(*) FROM (SELECT DISTINCT c FROM idx) d;
RESET enable_sort;

SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM idx a JOIN idx b ON a.c = b.c;
SELECT count(*) FROM idx a JOIN idx b ON a.c = b.c;
RESET enable_mergejoin;
RESET enable_nestloop;

CREATE INDEX idx_c_hash ON idx USING hash (c);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
DROP INDEX idx_c;
EXPLAIN (COSTS OFF) SELECT id FROM idx WHERE c = '7K3M-Q9XA-2BCD-S';
SELECT id FROM idx WHERE c = '7K3M-Q9XA-2BCD-S';
RESET enable_seqscan;
RESET enable_bitmapscan;

--
-- generation
--
SELECT pg_typeof(plum_internal.code_random());
SELECT plum_internal.code_random() <> plum_internal.code_random() AS differ;
SELECT pg_temp.sqlstate_of('SELECT plum_internal.code_random(-1)');
SELECT plum_internal.code_random(-1);
SELECT count(*) FROM plum_internal.code_random(0);
SELECT count(*) FROM plum_internal.code_random(1);
SELECT count(*) FROM plum_internal.code_random(1023);
SELECT count(*) FROM plum_internal.code_random(1025);
SELECT count(*) FROM (SELECT plum_internal.code_random(3)) t;	-- in the select list

CREATE TEMP TABLE random_codes AS SELECT c FROM plum_internal.code_random(100000) AS c;
SELECT count(*) AS codes, count(DISTINCT c) AS distinct_codes
FROM random_codes;

-- each one round-trips through text and has the canonical shape
SELECT count(*) FILTER (WHERE c::text::plum.code = c) AS round_trip,
	count(*) FILTER (WHERE c::text ~ '^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z*~$=U]$') AS shaped,
	count(*) FILTER (WHERE lower(c::text)::plum.code = c) AS lower_case
FROM random_codes;

-- all 60 bits are random (each set in about half the codes; 0.48..0.52 is
-- over 12 standard deviations wide) and the top 4 are always clear
WITH v AS (
	SELECT ('x' || encode(plum_internal.code_send(c), 'hex'))::bit(64)::bigint AS v
	FROM random_codes)
SELECT bit < 60 AS value_bit,
	count(*) AS bits,
	count(*) FILTER (WHERE share BETWEEN 0.48 AND 0.52) AS random_bits,
	count(*) FILTER (WHERE share = 0) AS clear_bits
FROM (SELECT bit, avg((v >> bit) & 1) AS share
	FROM v, generate_series(0, 63) AS bit
	GROUP BY bit) s
GROUP BY bit < 60
ORDER BY value_bit;

-- the check symbols are all used
SELECT count(DISTINCT right(c::text, 1)) AS check_symbols FROM random_codes;

-- a set of codes is usable in one statement with a unique index
CREATE TEMP TABLE issued (c plum.code PRIMARY KEY);
INSERT INTO issued SELECT plum_internal.code_random(10000);
SELECT count(*) FROM issued;
