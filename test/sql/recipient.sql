-- plum.recipient: normalisation, comparison, hashing, indexes, casts, binary I/O, errors

-- the operators live in schema plum; without it in search_path they are
-- reached as OPERATOR(pg_catalog.=)
SELECT 'Alice@Example.COM'::plum.recipient OPERATOR(pg_catalog.=) ' alice@example.com'::plum.recipient;
SET search_path = public, plum;

-- a helper that shows the SQLSTATE, detail and hint of a refused value, or the normalised form
CREATE FUNCTION pg_temp.try(v text, OUT state text, OUT result text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    result := v::plum.recipient::text;
    state := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE,
                            result = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
END
$$;

-- email: trimmed, lower-cased
SELECT 'Alice@Example.COM'::plum.recipient;
SELECT ' alice@example.com'::plum.recipient;
SELECT E' \t\n alice@EXAMPLE.com \r\n\t'::plum.recipient;
SELECT 'x@a.b'::plum.recipient;
SELECT 'O''Brien+Rewards@Mail.Example.CO.UK'::plum.recipient;
SELECT 'a!#$%&''*+/=?^_`{|}~-.z@example.com'::plum.recipient;
SELECT '+alice@example.com'::plum.recipient;
SELECT 'first.last@sub-domain.example-1.com'::plum.recipient;
SELECT 'alice@123.example.c0m'::plum.recipient;
SELECT 'alice@xn--bcher-kva.example'::plum.recipient;

-- phone: E.164
SELECT '+14155550100'::plum.recipient;
SELECT '+1 (415) 555-0100'::plum.recipient;
SELECT ' +1.415.555.0100 '::plum.recipient;
SELECT '0044 20 7946 0958'::plum.recipient;
SELECT '00442079460958'::plum.recipient;
SELECT '+33 (0)1 23 45 67 89'::plum.recipient;
SELECT '+ 6 0 1 2 3 4 5 6 7 8'::plum.recipient;
SELECT E'\t+60123456789\n'::plum.recipient;

-- lengths at the limits
SELECT length(try.result), try.state FROM pg_temp.try(repeat('a', 64) || '@example.com') try;
SELECT length(try.result), try.state FROM pg_temp.try('a@' || repeat('b', 63) || '.com') try;
SELECT length(try.result), try.state
FROM pg_temp.try(repeat('a', 64) || '@' || repeat('b', 63) || '.' || repeat('c', 63) || '.' || repeat('d', 61)) try;
SELECT '+12345678'::plum.recipient, '+123456789012345'::plum.recipient;

-- the kind
SELECT v, plum.recipient_kind(v::plum.recipient)
FROM (VALUES ('Alice@Example.COM'), ('+alice@example.com'), ('+1 (415) 555-0100'), ('0044 20 7946 0958')) t(v);

-- equality across spellings
SELECT 'Alice@Example.COM'::plum.recipient = ' alice@example.com'::plum.recipient;
SELECT '+1 (415) 555-0100'::plum.recipient = '+14155550100'::plum.recipient;
SELECT '0044 20 7946 0958'::plum.recipient = '+442079460958'::plum.recipient;
SELECT 'alice@example.com'::plum.recipient = 'alice@example.org'::plum.recipient;
SELECT 'alice@example.com'::plum.recipient <> 'ALICE@example.com'::plum.recipient;
SELECT 'alice@example.com'::plum.recipient <> 'bob@example.com'::plum.recipient;

-- ordering: byte order of the normalised form ("+" before digits before letters; a prefix first)
SELECT 'a@example.com'::plum.recipient < 'b@example.com'::plum.recipient;
SELECT 'a@example.com'::plum.recipient < 'a@example.com.au'::plum.recipient;
SELECT '+14155550100'::plum.recipient < '+442079460958'::plum.recipient;
SELECT '+14155550100'::plum.recipient < '+1415555010'::plum.recipient;
SELECT '+442079460958'::plum.recipient < '0@example.com'::plum.recipient;
SELECT 'B@example.com'::plum.recipient <= 'b@example.com'::plum.recipient;
SELECT 'c@example.com'::plum.recipient > 'B@EXAMPLE.COM'::plum.recipient;
SELECT 'b@example.com'::plum.recipient >= 'B@example.com'::plum.recipient;
SELECT 'b@example.com'::plum.recipient > 'c@example.com'::plum.recipient;
SELECT plum_internal.recipient_cmp('a@example.com', 'B@example.com'),
       plum_internal.recipient_cmp('B@example.com', 'b@example.com'),
       plum_internal.recipient_cmp('c@example.com', 'b@example.com'),
       plum_internal.recipient_cmp('a@example.com.au', 'a@example.com');

-- hashing: equal recipients hash equal; the extended hash with seed 0 agrees with the 32-bit one
SELECT plum_internal.recipient_hash('Alice@Example.COM') = plum_internal.recipient_hash(' alice@example.com');
SELECT plum_internal.recipient_hash('+1 (415) 555-0100') = plum_internal.recipient_hash('00 1 415 555 0100');
SELECT plum_internal.recipient_hash('alice@example.com') = plum_internal.recipient_hash('bob@example.com');
SELECT plum_internal.recipient_hash_extended('Alice@Example.COM', 42) = plum_internal.recipient_hash_extended('alice@example.com', 42);
SELECT plum_internal.recipient_hash_extended('alice@example.com', 0)::bit(32) = plum_internal.recipient_hash('alice@example.com')::bit(32);
SELECT plum_internal.recipient_hash_extended('alice@example.com', 0) = plum_internal.recipient_hash_extended('alice@example.com', 1);

-- NULL handling: the functions are strict; an empty string is not NULL
SELECT NULL::plum.recipient;
SELECT NULL::plum.recipient = 'alice@example.com'::plum.recipient;
SELECT plum.recipient_kind(NULL), plum_internal.recipient_hash(NULL), plum_internal.recipient_cmp(NULL, 'alice@example.com');
SELECT NULL::text::plum.recipient IS NULL;

-- a table: DISTINCT, GROUP BY, joins and indexes treat every spelling as one recipient
CREATE TEMP TABLE r1 (id int, r plum.recipient);
INSERT INTO r1 VALUES
    (1, 'Alice@Example.COM'), (2, ' alice@example.com'), (3, '+1 (415) 555-0100'),
    (4, '+14155550100'), (5, 'bob@example.com'), (6, '0044 20 7946 0958'), (7, NULL),
    (8, 'ALICE@EXAMPLE.COM');
SELECT id, r, plum.recipient_kind(r) FROM r1 ORDER BY r, id;
SELECT id, r FROM r1 ORDER BY r DESC NULLS LAST, id;
SELECT DISTINCT r FROM r1 ORDER BY r;
SELECT count(DISTINCT r) FROM r1;

-- stored with a 1-byte header (storage extended, packable): 17 bytes + 1
SELECT pg_column_size(r) FROM r1 WHERE id = 1;

-- GROUP BY with hashing
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT r, count(*) FROM r1 GROUP BY r;
SELECT * FROM (SELECT r, count(*) FROM r1 GROUP BY r) s ORDER BY r;
RESET enable_sort;
SELECT DISTINCT r FROM r1 WHERE r IS NOT NULL EXCEPT SELECT '+14155550100' ORDER BY 1;

-- a hash join and a merge join
CREATE TEMP TABLE r2 (r plum.recipient, note text);
INSERT INTO r2 VALUES ('alice@example.com', 'email'), ('00 1 (415) 555 0100', 'phone'), ('carol@example.com', 'nobody');
ANALYZE r1, r2;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT r1.id, r2.note FROM r1 JOIN r2 ON r1.r = r2.r;
SELECT r1.id, r2.note FROM r1 JOIN r2 ON r1.r = r2.r ORDER BY r1.id;
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF) SELECT r1.id, r2.note FROM r1 JOIN r2 USING (r);
SELECT r1.id, r2.note FROM r1 JOIN r2 USING (r) ORDER BY r1.id;
RESET enable_hashjoin;
RESET enable_nestloop;

-- a btree index: equality and range scans
CREATE INDEX r1_r_btree ON r1 (r);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM r1 WHERE r = 'ALICE@example.com';
SELECT id FROM r1 WHERE r = 'ALICE@example.com' ORDER BY id;
SELECT id FROM r1 WHERE r = '00 1 415 555 0100' ORDER BY id;
EXPLAIN (COSTS OFF) SELECT id, r FROM r1 WHERE r < 'a@example.com' ORDER BY r;
SELECT id, r FROM r1 WHERE r < 'a@example.com' ORDER BY r, id;
SELECT id, r FROM r1 WHERE r > 'alice@example.com' ORDER BY r, id;
SELECT id, r FROM r1 WHERE r BETWEEN '+20000000' AND 'alice@example.com' ORDER BY r, id;
DROP INDEX r1_r_btree;

-- a hash index
CREATE INDEX r1_r_hash ON r1 USING hash (r);
EXPLAIN (COSTS OFF) SELECT id FROM r1 WHERE r = ' Alice@example.com ';
SELECT id FROM r1 WHERE r = ' Alice@example.com ' ORDER BY id;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- a unique index refuses a second spelling of the same recipient
CREATE TEMP TABLE r3 (r plum.recipient PRIMARY KEY);
INSERT INTO r3 VALUES ('alice@example.com');
INSERT INTO r3 VALUES ('Alice@Example.COM ');

-- casts: text and varchar in (assignment), text out (assignment)
SELECT 'Alice@Example.COM'::text::plum.recipient;
SELECT 'Alice@Example.COM'::varchar::plum.recipient;
SELECT CAST('+1 (415) 555-0100' AS varchar(40))::plum.recipient;
SELECT ('Alice@Example.COM'::plum.recipient)::text || '!';
SELECT pg_typeof('alice@example.com'::plum.recipient::text);
CREATE TEMP TABLE casts (r plum.recipient, t text);
INSERT INTO casts (r, t) VALUES ('BOB@example.com'::text, '+44 20 7946 0958'::plum.recipient);
INSERT INTO casts (r) VALUES ('Carol@Example.com'::varchar);
INSERT INTO casts (r) SELECT 'not a recipient'::text;
SELECT * FROM casts;
-- an implicit cast: a text value (a driver parameter typed text) becomes a recipient in a function call, validated and normalised
SELECT plum.recipient_kind('alice@example.com'::text);

-- arrays
SELECT ARRAY['Alice@Example.COM', '+1 (415) 555-0100']::plum.recipient[];
SELECT '{Bob@Example.COM," +44 20 7946 0958 "}'::plum.recipient[];

-- binary I/O: send gives the normalised text
SELECT plum_internal.recipient_send('Alice@Example.COM');
SELECT plum_internal.recipient_send('+1 (415) 555-0100');

-- binary round trip through COPY
CREATE TEMP TABLE bin (id int, r plum.recipient);
COPY (SELECT id, r FROM r1 ORDER BY id) TO PROGRAM 'cat > plum_recipient_regress.bin' (FORMAT binary);
COPY bin FROM PROGRAM 'cat plum_recipient_regress.bin && rm plum_recipient_regress.bin' (FORMAT binary);
SELECT b.id, b.r, b.r = r1.r AS same FROM bin b JOIN r1 USING (id) ORDER BY b.id;

-- binary input from a hand-made COPY stream: recv validates like input
-- a normalised value is accepted
COPY bin (r) FROM PROGRAM $$printf 'PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\017bob@example.com\377\377'$$ (FORMAT binary);
SELECT r FROM bin WHERE id IS NULL;
-- a valid value not in normalised form is refused (22P03)
COPY bin (r) FROM PROGRAM $$printf 'PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\017Bob@example.com\377\377'$$ (FORMAT binary);
COPY bin (r) FROM PROGRAM $$printf 'PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\014+1 415 555 0\377\377'$$ (FORMAT binary);
-- an invalid value is refused like input (22P02)
COPY bin (r) FROM PROGRAM $$printf 'PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\013bob@example\377\377'$$ (FORMAT binary);
COPY bin (r) FROM PROGRAM $$printf 'PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\000\377\377'$$ (FORMAT binary);
SELECT count(*) FROM bin;

-- text COPY normalises like input
COPY bin (id, r) FROM STDIN;
100	Dave@Example.com
101	\N
102	+1 (415) 555-0100
\.
SELECT id, r FROM bin WHERE id >= 100 ORDER BY id;

-- errors: the message names the value, the detail says what is wrong, the hint what is valid
SELECT ''::plum.recipient;
SELECT 'alice@localhost'::plum.recipient;
SELECT '4155550100'::plum.recipient;
SELECT 'alice'::plum.recipient;
SELECT '+1 415 CALL NOW'::plum.recipient;
SELECT 'ålice@example.com'::plum.recipient;

-- errors: every kind of bad input, with its SQLSTATE
SELECT label, try.*
FROM (VALUES
    ('empty', ''),
    ('spaces only', '   '),
    ('whitespace only', E' \t\n\r '),
    ('two @', 'alice@bob@example.com'),
    ('three @', 'a@b@c@example.com'),
    ('@@', 'alice@@example.com'),
    ('only @', '@'),
    ('no local part', '@example.com'),
    ('no domain', 'alice@'),
    ('no dot in domain', 'alice@localhost'),
    ('local starts with dot', '.alice@example.com'),
    ('local ends with dot', 'alice.@example.com'),
    ('local has ..', 'al..ice@example.com'),
    ('space in local', 'al ice@example.com'),
    ('tab in local', E'al\tice@example.com'),
    ('control char', E'al\x01ice@example.com'),
    ('quote in local', 'al"ice@example.com'),
    ('parens in local', 'alice(work)@example.com'),
    ('comma in local', 'alice,bob@example.com'),
    ('domain starts with dot', 'alice@.example.com'),
    ('domain ends with dot', 'alice@example.com.'),
    ('domain has ..', 'alice@example..com'),
    ('label starts with -', 'alice@-example.com'),
    ('label ends with -', 'alice@example-.com'),
    ('underscore in domain', 'alice@exa_mple.com'),
    ('space in domain', 'alice@exa mple.com'),
    ('IP address', 'alice@127.0.0.1'),
    ('IP literal', 'alice@[127.0.0.1]'),
    ('numeric TLD', 'alice@example.123'),
    ('non-ASCII local', 'ålice@example.com'),
    ('non-ASCII domain', 'alice@bücher.example'),
    ('non-ASCII phone', '+1 415 555 0100 ☎'),
    ('local 65 bytes', repeat('a', 65) || '@example.com'),
    ('local 10000 bytes', repeat('a', 10000) || '@example.com'),
    ('label 64 bytes', 'a@' || repeat('b', 64) || '.com'),
    ('domain 256 bytes', 'a@' || repeat(repeat('b', 63) || '.', 4)),
    ('total 255 bytes', repeat('a', 64) || '@' || repeat('b', 63) || '.' || repeat('c', 63) || '.' || repeat('d', 62)),
    ('phone no +', '4155550100'),
    ('phone no + with separators', '(415) 555-0100'),
    ('phone single 0 prefix', '0 20 7946 0958'),
    ('not email nor phone', 'alice'),
    ('phone letters', '+1 415 CALL NOW'),
    ('phone ++', '++14155550100'),
    ('phone slash', '+1/415/555/0100'),
    ('phone tab inside', E'+1\t4155550100'),
    ('phone extension', '+14155550100 x12'),
    ('phone + only', '+'),
    ('phone 00 only', '00'),
    ('phone 7 digits', '+1234567'),
    ('phone 16 digits', '+1234567890123456'),
    ('phone 10000 digits', '+' || repeat('1', 10000)),
    ('phone +0', '+0 20 7946 0958'),
    ('phone 000', '000 20 7946 0958'),
    ('phone 00 then +', '00+14155550100')
) AS t(label, v), pg_temp.try(v) AS try;

-- catalog: every function, operator and operator class is documented
SELECT p.oid::regprocedure AS undocumented_function FROM pg_proc p
WHERE p.pronamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace) AND p.proname LIKE 'recipient%'
  AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT o.oid::regoperator AS undocumented_operator FROM pg_operator o
WHERE o.oprleft = 'plum.recipient'::regtype AND obj_description(o.oid, 'pg_operator') IS NULL;
SELECT c.opcname AS undocumented_opclass FROM pg_opclass c
WHERE c.opcintype = 'plum.recipient'::regtype AND obj_description(c.oid, 'pg_opclass') IS NULL;
SELECT obj_description('plum.recipient'::regtype, 'pg_type') IS NOT NULL AS type_documented;
SELECT p.oid::regprocedure, p.provolatile, p.proisstrict, p.proparallel, p.proleakproof
FROM pg_proc p WHERE p.pronamespace IN ('plum'::regnamespace, 'plum_internal'::regnamespace) AND p.proname LIKE 'recipient%'
ORDER BY p.proname;
SELECT o.oid::regoperator, o.oprcom::regoperator, o.oprnegate::regoperator, o.oprcode,
       o.oprrest, o.oprjoin, o.oprcanhash, o.oprcanmerge
FROM pg_operator o WHERE o.oprleft = 'plum.recipient'::regtype ORDER BY o.oprname, o.oprright::regtype::text;
SELECT a.amname, c.opcname, c.opcdefault, amvalidate(c.oid)
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE c.opcintype = 'plum.recipient'::regtype ORDER BY a.amname;
SELECT t.typname, t.typlen, t.typalign, t.typstorage, t.typcollation = 0 AS collation_free
FROM pg_type t WHERE t.oid = 'plum.recipient'::regtype;
SELECT c.castsource::regtype, c.casttarget::regtype, c.castcontext, c.castmethod
FROM pg_cast c WHERE 'plum.recipient'::regtype IN (c.castsource, c.casttarget)
ORDER BY c.castsource::regtype::text, c.casttarget::regtype::text;

RESET search_path;
