-- plum.code: the bearer gift code type (src/code.c)

CREATE TYPE plum.code;

CREATE FUNCTION plum_internal.code_in(cstring) RETURNS plum.code
	AS 'MODULE_PATHNAME', 'plum_code_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.code_out(plum.code) RETURNS cstring
	AS 'MODULE_PATHNAME', 'plum_code_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.code_recv(internal) RETURNS plum.code
	AS 'MODULE_PATHNAME', 'plum_code_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.code_send(plum.code) RETURNS bytea
	AS 'MODULE_PATHNAME', 'plum_code_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE plum.code (
	INPUT = plum_internal.code_in,
	OUTPUT = plum_internal.code_out,
	RECEIVE = plum_internal.code_recv,
	SEND = plum_internal.code_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);

-- comparison

CREATE FUNCTION plum_internal.code_eq(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_eq'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.code_ne(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_ne'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.code_lt(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_lt'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.code_le(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_le'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.code_gt(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_gt'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.code_ge(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_ge'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.code_cmp(plum.code, plum.code) RETURNS integer
	AS 'MODULE_PATHNAME', 'plum_code_cmp'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.code_sortsupport(internal) RETURNS void
	AS 'MODULE_PATHNAME', 'plum_code_sortsupport'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.code_hash(plum.code) RETURNS integer
	AS 'MODULE_PATHNAME', 'plum_code_hash'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.code_hash_extended(plum.code, bigint) RETURNS bigint
	AS 'MODULE_PATHNAME', 'plum_code_hash_extended'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum_internal.code_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=),
	NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = pg_catalog.eqsel,
	JOIN = pg_catalog.eqjoinsel,
	HASHES,
	MERGES
);

CREATE OPERATOR pg_catalog.<> (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum_internal.code_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>),
	NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = pg_catalog.neqsel,
	JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR pg_catalog.< (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum_internal.code_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>),
	NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = pg_catalog.scalarltsel,
	JOIN = pg_catalog.scalarltjoinsel
);

CREATE OPERATOR pg_catalog.<= (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum_internal.code_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=),
	NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = pg_catalog.scalarlesel,
	JOIN = pg_catalog.scalarlejoinsel
);

CREATE OPERATOR pg_catalog.> (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum_internal.code_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<),
	NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = pg_catalog.scalargtsel,
	JOIN = pg_catalog.scalargtjoinsel
);

CREATE OPERATOR pg_catalog.>= (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum_internal.code_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=),
	NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = pg_catalog.scalargesel,
	JOIN = pg_catalog.scalargejoinsel
);

CREATE OPERATOR CLASS plum.code_ops
	DEFAULT FOR TYPE plum.code USING btree AS
	OPERATOR 1 pg_catalog.< ,
	OPERATOR 2 pg_catalog.<= ,
	OPERATOR 3 pg_catalog.= ,
	OPERATOR 4 pg_catalog.>= ,
	OPERATOR 5 pg_catalog.> ,
	FUNCTION 1 plum_internal.code_cmp(plum.code, plum.code),
	FUNCTION 2 plum_internal.code_sortsupport(internal);

CREATE OPERATOR CLASS plum.code_ops
	DEFAULT FOR TYPE plum.code USING hash AS
	OPERATOR 1 pg_catalog.= ,
	FUNCTION 1 plum_internal.code_hash(plum.code),
	FUNCTION 2 plum_internal.code_hash_extended(plum.code, bigint);

-- casts to and from text

CREATE CAST (plum.code AS text) WITH INOUT AS IMPLICIT;
CREATE CAST (text AS plum.code) WITH INOUT AS IMPLICIT;

-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
-- Comparisons with text and varchar, in pg_catalog like the operators above: a driver's parameter
-- typed text (node-postgres, psycopg) or varchar (JDBC setString) is read as a code (validated,
-- parsed and check-symbol checked) and compared with the code's own operator, so WHERE code = $1 finds the row and
-- uses the index whatever the spelling and the search_path. The support functions are SQL that
-- the planner inlines into "code = $1::plum.code".
CREATE FUNCTION plum_internal.code_eq_text(plum.code, pg_catalog.text) RETURNS pg_catalog.bool
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT $1 OPERATOR(pg_catalog.=) $2::plum.code';
CREATE FUNCTION plum_internal.text_eq_code(pg_catalog.text, plum.code) RETURNS pg_catalog.bool
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT $1::plum.code OPERATOR(pg_catalog.=) $2';
CREATE FUNCTION plum_internal.code_ne_text(plum.code, pg_catalog.text) RETURNS pg_catalog.bool
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT $1 OPERATOR(pg_catalog.<>) $2::plum.code';
CREATE FUNCTION plum_internal.text_ne_code(pg_catalog.text, plum.code) RETURNS pg_catalog.bool
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT $1::plum.code OPERATOR(pg_catalog.<>) $2';
CREATE OPERATOR pg_catalog.= (
    LEFTARG = plum.code, RIGHTARG = pg_catalog.text, FUNCTION = plum_internal.code_eq_text,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel
);
CREATE OPERATOR pg_catalog.= (
    LEFTARG = pg_catalog.text, RIGHTARG = plum.code, FUNCTION = plum_internal.text_eq_code,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = plum.code, RIGHTARG = pg_catalog.text, FUNCTION = plum_internal.code_ne_text,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = pg_catalog.text, RIGHTARG = plum.code, FUNCTION = plum_internal.text_ne_code,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

-- JDBC's setString and varchar[] arrays send varchar: read as a code too, like the recipient's
CREATE CAST (pg_catalog.varchar AS plum.code) WITH INOUT AS IMPLICIT;
-- @end

-- @api
COMMENT ON TYPE plum.code IS 'bearer gift code: 60 random bits shown as Crockford base-32 XXXX-XXXX-XXXX-C with a mod-37 check symbol';
COMMENT ON FUNCTION plum_internal.code_in(cstring) IS 'text input of plum.code: case-insensitive, hyphens and spaces ignored, I/L read as 1 and O as 0, check symbol verified';
COMMENT ON FUNCTION plum_internal.code_out(plum.code) IS 'text output of plum.code: XXXX-XXXX-XXXX-C';
COMMENT ON FUNCTION plum_internal.code_recv(internal) IS 'binary input of plum.code: a big-endian int64 with the top 4 bits clear, not zero';
COMMENT ON FUNCTION plum_internal.code_send(plum.code) IS 'binary output of plum.code: a big-endian int64';

COMMENT ON FUNCTION plum_internal.code_eq(plum.code, plum.code) IS 'implementation of = for plum.code';
COMMENT ON FUNCTION plum_internal.code_ne(plum.code, plum.code) IS 'implementation of <> for plum.code';
COMMENT ON FUNCTION plum_internal.code_lt(plum.code, plum.code) IS 'implementation of < for plum.code';
COMMENT ON FUNCTION plum_internal.code_le(plum.code, plum.code) IS 'implementation of <= for plum.code';
COMMENT ON FUNCTION plum_internal.code_gt(plum.code, plum.code) IS 'implementation of > for plum.code';
COMMENT ON FUNCTION plum_internal.code_ge(plum.code, plum.code) IS 'implementation of >= for plum.code';
COMMENT ON FUNCTION plum_internal.code_cmp(plum.code, plum.code) IS 'btree comparison of plum.code: -1, 0 or 1';
COMMENT ON FUNCTION plum_internal.code_sortsupport(internal) IS 'btree sort support for plum.code';
COMMENT ON FUNCTION plum_internal.code_hash(plum.code) IS 'hash of plum.code (as for bigint)';
COMMENT ON FUNCTION plum_internal.code_hash_extended(plum.code, bigint) IS 'seeded 64-bit hash of plum.code (as for bigint)';

COMMENT ON OPERATOR pg_catalog.= (plum.code, plum.code) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (plum.code, plum.code) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (plum.code, plum.code) IS 'less than (codes sort like their canonical text)';
COMMENT ON OPERATOR pg_catalog.<= (plum.code, plum.code) IS 'less than or equal';
COMMENT ON OPERATOR pg_catalog.> (plum.code, plum.code) IS 'greater than';
COMMENT ON OPERATOR pg_catalog.>= (plum.code, plum.code) IS 'greater than or equal';

COMMENT ON OPERATOR FAMILY plum.code_ops USING btree IS 'btree operators for plum.code';
COMMENT ON OPERATOR CLASS plum.code_ops USING btree IS 'default btree operator class for plum.code';
COMMENT ON OPERATOR FAMILY plum.code_ops USING hash IS 'hash operators for plum.code';
COMMENT ON OPERATOR CLASS plum.code_ops USING hash IS 'default hash operator class for plum.code';

COMMENT ON CAST (plum.code AS text) IS 'the canonical text of a code (implicit, so a code column compares with a canonical literal anywhere)';
COMMENT ON CAST (text AS plum.code) IS 'parse a code, checking its check symbol';

-- generation

CREATE FUNCTION plum_internal.code_random() RETURNS plum.code
	AS 'MODULE_PATHNAME', 'plum_code_random'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.code_random(n integer) RETURNS SETOF plum.code
	AS 'MODULE_PATHNAME', 'plum_code_random_n'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION plum_internal.code_random() IS 'a fresh code with 60 bits from pg_strong_random() (and on a shard its shard in the 4 high bits); uniqueness is up to the caller';
COMMENT ON FUNCTION plum_internal.code_random(integer) IS 'n fresh codes with 60 bits each from pg_strong_random() (and on a shard its shard in the 4 high bits); uniqueness is up to the caller';

CREATE FUNCTION plum_internal.code_shard(code plum.code) RETURNS integer
	AS 'MODULE_PATHNAME', 'plum_code_shard'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.code_shard(plum.code) IS 'the shard a code was issued on: its 4 high bits (0 on a single server); plum_proxy routes codes by it';

COMMENT ON FUNCTION plum_internal.code_eq_text(plum.code, pg_catalog.text) IS 'implementation of = between plum.code and text (the text read as a code; inlined)';
COMMENT ON FUNCTION plum_internal.text_eq_code(pg_catalog.text, plum.code) IS 'implementation of = between text and plum.code (the text read as a code; inlined)';
COMMENT ON FUNCTION plum_internal.code_ne_text(plum.code, pg_catalog.text) IS 'implementation of <> between plum.code and text (the text read as a code; inlined)';
COMMENT ON FUNCTION plum_internal.text_ne_code(pg_catalog.text, plum.code) IS 'implementation of <> between text and plum.code (the text read as a code; inlined)';
COMMENT ON OPERATOR pg_catalog.= (plum.code, pg_catalog.text) IS 'equal: the text parsed (check symbol checked), then compared (uses the index on the code column)';
COMMENT ON OPERATOR pg_catalog.= (pg_catalog.text, plum.code) IS 'equal: the text parsed (check symbol checked), then compared (uses the index on the code column)';
COMMENT ON OPERATOR pg_catalog.<> (plum.code, pg_catalog.text) IS 'not equal: the text parsed (check symbol checked), then compared';
COMMENT ON OPERATOR pg_catalog.<> (pg_catalog.text, plum.code) IS 'not equal: the text parsed (check symbol checked), then compared';
COMMENT ON CAST (pg_catalog.varchar AS plum.code) IS 'parse a code, checking its check symbol (JDBC setString and varchar arrays)';
