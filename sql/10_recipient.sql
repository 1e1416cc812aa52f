-- plum.recipient: an end user known by an email address or a mobile number
-- (src/recipient.c).  Stored normalised, compared byte-wise.

CREATE TYPE plum.recipient;

CREATE FUNCTION plum_internal.recipient_in(pg_catalog.cstring) RETURNS plum.recipient
    AS 'MODULE_PATHNAME', 'plum_recipient_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.recipient_out(plum.recipient) RETURNS pg_catalog.cstring
    AS 'MODULE_PATHNAME', 'plum_recipient_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.recipient_recv(pg_catalog.internal) RETURNS plum.recipient
    AS 'MODULE_PATHNAME', 'plum_recipient_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.recipient_send(plum.recipient) RETURNS pg_catalog.bytea
    AS 'MODULE_PATHNAME', 'plum_recipient_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE = extended, as for text: a recipient is at most 254 bytes, so it
-- is never moved out of line in practice, but a packable type gets a 1-byte
-- varlena header and no alignment padding on disk (3 to 6 bytes saved per
-- value in every row and index entry that holds one).  The C code reads
-- values through PG_DETOAST_DATUM_PACKED and VARDATA_ANY.
CREATE TYPE plum.recipient (
    INPUT = plum_internal.recipient_in,
    OUTPUT = plum_internal.recipient_out,
    RECEIVE = plum_internal.recipient_recv,
    SEND = plum_internal.recipient_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended,
    ALIGNMENT = int4
);

-- comparison and hashing: byte-wise on the normalised form, never fail, so leakproof

CREATE FUNCTION plum_internal.recipient_eq(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.recipient_ne(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.recipient_lt(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_lt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.recipient_le(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_le'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.recipient_gt(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_gt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.recipient_ge(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_ge'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.recipient_cmp(plum.recipient, plum.recipient) RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'plum_recipient_cmp'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum_internal.recipient_hash(plum.recipient) RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'plum_recipient_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.recipient_hash_extended(plum.recipient, pg_catalog.int8) RETURNS pg_catalog.int8
    AS 'MODULE_PATHNAME', 'plum_recipient_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- operators

CREATE OPERATOR pg_catalog.= (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum_internal.recipient_eq,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
    HASHES, MERGES
);

CREATE OPERATOR pg_catalog.<> (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum_internal.recipient_ne,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR pg_catalog.< (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum_internal.recipient_lt,
    COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
    RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);

CREATE OPERATOR pg_catalog.<= (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum_internal.recipient_le,
    COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
    RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);

CREATE OPERATOR pg_catalog.> (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum_internal.recipient_gt,
    COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
    RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);

CREATE OPERATOR pg_catalog.>= (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum_internal.recipient_ge,
    COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
    RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

-- operator classes: btree (with deduplication: equal recipients are
-- byte-identical, so btequalimage holds) and hash

CREATE OPERATOR CLASS plum.recipient_ops
    DEFAULT FOR TYPE plum.recipient USING btree AS
        OPERATOR 1 pg_catalog.< ,
        OPERATOR 2 pg_catalog.<= ,
        OPERATOR 3 pg_catalog.= ,
        OPERATOR 4 pg_catalog.>= ,
        OPERATOR 5 pg_catalog.> ,
        FUNCTION 1 plum_internal.recipient_cmp(plum.recipient, plum.recipient),
        FUNCTION 4 pg_catalog.btequalimage(pg_catalog.oid);

CREATE OPERATOR CLASS plum.recipient_ops
    DEFAULT FOR TYPE plum.recipient USING hash AS
        OPERATOR 1 pg_catalog.= ,
        FUNCTION 1 plum_internal.recipient_hash(plum.recipient),
        FUNCTION 2 plum_internal.recipient_hash_extended(plum.recipient, pg_catalog.int8);

-- casts: through the text forms, so a cast from text normalises and validates

-- implicit and binary-coercible (the stored bytes are the normalised text): lets psql users and BI tools
-- compare a recipient column with a normalised literal without schema plum on their search_path
CREATE CAST (plum.recipient AS pg_catalog.text) WITHOUT FUNCTION AS IMPLICIT;
-- implicit too: applications whose drivers send parameters typed text or varchar can call
-- plum.give_points(..., $2, ...) without a cast (the value is validated and normalised like input)
CREATE CAST (pg_catalog.text AS plum.recipient) WITH INOUT AS IMPLICIT;
CREATE CAST (pg_catalog.varchar AS plum.recipient) WITH INOUT AS IMPLICIT;

-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
-- Comparisons with text and varchar, in pg_catalog like the operators above: a driver's parameter
-- typed text (node-postgres, psycopg) or varchar (JDBC setString) is read as a recipient (validated,
-- normalised) and compared with the recipient's own operator, so WHERE recipient = $1 finds the row and
-- uses the index whatever the spelling and the search_path. The support functions are SQL that
-- the planner inlines into "recipient = $1::plum.recipient".
CREATE FUNCTION plum_internal.recipient_eq_text(plum.recipient, pg_catalog.text) RETURNS pg_catalog.bool
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT $1 OPERATOR(pg_catalog.=) $2::plum.recipient';
CREATE FUNCTION plum_internal.text_eq_recipient(pg_catalog.text, plum.recipient) RETURNS pg_catalog.bool
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT $1::plum.recipient OPERATOR(pg_catalog.=) $2';
CREATE FUNCTION plum_internal.recipient_ne_text(plum.recipient, pg_catalog.text) RETURNS pg_catalog.bool
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT $1 OPERATOR(pg_catalog.<>) $2::plum.recipient';
CREATE FUNCTION plum_internal.text_ne_recipient(pg_catalog.text, plum.recipient) RETURNS pg_catalog.bool
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS 'SELECT $1::plum.recipient OPERATOR(pg_catalog.<>) $2';
CREATE OPERATOR pg_catalog.= (
    LEFTARG = plum.recipient, RIGHTARG = pg_catalog.text, FUNCTION = plum_internal.recipient_eq_text,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel
);
CREATE OPERATOR pg_catalog.= (
    LEFTARG = pg_catalog.text, RIGHTARG = plum.recipient, FUNCTION = plum_internal.text_eq_recipient,
    COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = plum.recipient, RIGHTARG = pg_catalog.text, FUNCTION = plum_internal.recipient_ne_text,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR pg_catalog.<> (
    LEFTARG = pg_catalog.text, RIGHTARG = plum.recipient, FUNCTION = plum_internal.text_ne_recipient,
    COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
-- @end

-- @api
COMMENT ON FUNCTION plum_internal.recipient_in(pg_catalog.cstring) IS
    'input function of plum.recipient: validates and normalises an email address or phone number';
COMMENT ON FUNCTION plum_internal.recipient_out(plum.recipient) IS
    'output function of plum.recipient: the normalised form';
COMMENT ON FUNCTION plum_internal.recipient_recv(pg_catalog.internal) IS
    'binary input function of plum.recipient: the normalised text, validated like input (22P02); a value not in normalised form is refused (22P03)';
COMMENT ON FUNCTION plum_internal.recipient_send(plum.recipient) IS
    'binary output function of plum.recipient: the normalised text';
COMMENT ON TYPE plum.recipient IS
    'an end user known by an email address (trimmed, lower-cased) or a mobile number (E.164: + and 8 to 15 digits); compared byte-wise on the normalised form';
COMMENT ON FUNCTION plum_internal.recipient_eq(plum.recipient, plum.recipient) IS
    'implementation of = for plum.recipient';
COMMENT ON FUNCTION plum_internal.recipient_ne(plum.recipient, plum.recipient) IS
    'implementation of <> for plum.recipient';
COMMENT ON FUNCTION plum_internal.recipient_lt(plum.recipient, plum.recipient) IS
    'implementation of < for plum.recipient (byte order of the normalised form)';
COMMENT ON FUNCTION plum_internal.recipient_le(plum.recipient, plum.recipient) IS
    'implementation of <= for plum.recipient (byte order of the normalised form)';
COMMENT ON FUNCTION plum_internal.recipient_gt(plum.recipient, plum.recipient) IS
    'implementation of > for plum.recipient (byte order of the normalised form)';
COMMENT ON FUNCTION plum_internal.recipient_ge(plum.recipient, plum.recipient) IS
    'implementation of >= for plum.recipient (byte order of the normalised form)';
COMMENT ON FUNCTION plum_internal.recipient_cmp(plum.recipient, plum.recipient) IS
    'btree support for plum.recipient: -1, 0 or 1 in byte order of the normalised form';
COMMENT ON FUNCTION plum_internal.recipient_hash(plum.recipient) IS
    'hash support for plum.recipient: hash of the normalised form';
COMMENT ON FUNCTION plum_internal.recipient_hash_extended(plum.recipient, pg_catalog.int8) IS
    'hash support for plum.recipient: seeded 64-bit hash of the normalised form';

CREATE FUNCTION plum.recipient_kind(plum.recipient) RETURNS pg_catalog.text
    AS 'MODULE_PATHNAME', 'plum_recipient_kind'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.recipient_kind(plum.recipient) IS
    'the kind of a recipient: ''email'' or ''phone''';
COMMENT ON OPERATOR pg_catalog.= (plum.recipient, plum.recipient) IS 'equal (same normalised recipient)';
COMMENT ON OPERATOR pg_catalog.<> (plum.recipient, plum.recipient) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (plum.recipient, plum.recipient) IS 'less than (byte order of the normalised form)';
COMMENT ON OPERATOR pg_catalog.<= (plum.recipient, plum.recipient) IS 'less than or equal (byte order of the normalised form)';
COMMENT ON OPERATOR pg_catalog.> (plum.recipient, plum.recipient) IS 'greater than (byte order of the normalised form)';
COMMENT ON OPERATOR pg_catalog.>= (plum.recipient, plum.recipient) IS 'greater than or equal (byte order of the normalised form)';
COMMENT ON OPERATOR CLASS plum.recipient_ops USING btree IS
    'default btree operator class for plum.recipient: byte order of the normalised form';
COMMENT ON OPERATOR FAMILY plum.recipient_ops USING btree IS
    'btree operators for plum.recipient';
COMMENT ON OPERATOR CLASS plum.recipient_ops USING hash IS
    'default hash operator class for plum.recipient';
COMMENT ON OPERATOR FAMILY plum.recipient_ops USING hash IS
    'hash operators for plum.recipient';
COMMENT ON CAST (plum.recipient AS pg_catalog.text) IS 'the normalised form (implicit, binary-coercible)';
COMMENT ON CAST (pg_catalog.text AS plum.recipient) IS 'validates and normalises, like input';
COMMENT ON CAST (pg_catalog.varchar AS plum.recipient) IS 'validates and normalises, like input';

COMMENT ON FUNCTION plum_internal.recipient_eq_text(plum.recipient, pg_catalog.text) IS 'implementation of = between plum.recipient and text (the text read as a recipient; inlined)';
COMMENT ON FUNCTION plum_internal.text_eq_recipient(pg_catalog.text, plum.recipient) IS 'implementation of = between text and plum.recipient (the text read as a recipient; inlined)';
COMMENT ON FUNCTION plum_internal.recipient_ne_text(plum.recipient, pg_catalog.text) IS 'implementation of <> between plum.recipient and text (the text read as a recipient; inlined)';
COMMENT ON FUNCTION plum_internal.text_ne_recipient(pg_catalog.text, plum.recipient) IS 'implementation of <> between text and plum.recipient (the text read as a recipient; inlined)';
COMMENT ON OPERATOR pg_catalog.= (plum.recipient, pg_catalog.text) IS 'equal: the text validated and normalised, then compared (uses the index on the recipient column)';
COMMENT ON OPERATOR pg_catalog.= (pg_catalog.text, plum.recipient) IS 'equal: the text validated and normalised, then compared (uses the index on the recipient column)';
COMMENT ON OPERATOR pg_catalog.<> (plum.recipient, pg_catalog.text) IS 'not equal: the text validated and normalised, then compared';
COMMENT ON OPERATOR pg_catalog.<> (pg_catalog.text, plum.recipient) IS 'not equal: the text validated and normalised, then compared';
