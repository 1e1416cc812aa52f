-- plum.recipient: an end user known by an email address or a mobile number
-- (src/recipient.c).  Stored normalised, compared byte-wise.

CREATE TYPE plum.recipient;

CREATE FUNCTION plum.recipient_in(pg_catalog.cstring) RETURNS plum.recipient
    AS 'MODULE_PATHNAME', 'plum_recipient_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.recipient_in(pg_catalog.cstring) IS
    'input function of plum.recipient: validates and normalises an email address or phone number';

CREATE FUNCTION plum.recipient_out(plum.recipient) RETURNS pg_catalog.cstring
    AS 'MODULE_PATHNAME', 'plum_recipient_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.recipient_out(plum.recipient) IS
    'output function of plum.recipient: the normalised form';

CREATE FUNCTION plum.recipient_recv(pg_catalog.internal) RETURNS plum.recipient
    AS 'MODULE_PATHNAME', 'plum_recipient_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.recipient_recv(pg_catalog.internal) IS
    'binary input function of plum.recipient: the normalised text, validated like input (22P02); a value not in normalised form is refused (22P03)';

CREATE FUNCTION plum.recipient_send(plum.recipient) RETURNS pg_catalog.bytea
    AS 'MODULE_PATHNAME', 'plum_recipient_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.recipient_send(plum.recipient) IS
    'binary output function of plum.recipient: the normalised text';

-- STORAGE = extended, as for text: a recipient is at most 254 bytes, so it
-- is never moved out of line in practice, but a packable type gets a 1-byte
-- varlena header and no alignment padding on disk (3 to 6 bytes saved per
-- value in every row and index entry that holds one).  The C code reads
-- values through PG_DETOAST_DATUM_PACKED and VARDATA_ANY.
CREATE TYPE plum.recipient (
    INPUT = plum.recipient_in,
    OUTPUT = plum.recipient_out,
    RECEIVE = plum.recipient_recv,
    SEND = plum.recipient_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended,
    ALIGNMENT = int4
);
COMMENT ON TYPE plum.recipient IS
    'an end user known by an email address (trimmed, lower-cased) or a mobile number (E.164: + and 8 to 15 digits); compared byte-wise on the normalised form';

-- comparison and hashing: byte-wise on the normalised form, never fail, so leakproof

CREATE FUNCTION plum.recipient_eq(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION plum.recipient_eq(plum.recipient, plum.recipient) IS
    'implementation of = for plum.recipient';

CREATE FUNCTION plum.recipient_ne(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION plum.recipient_ne(plum.recipient, plum.recipient) IS
    'implementation of <> for plum.recipient';

CREATE FUNCTION plum.recipient_lt(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_lt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION plum.recipient_lt(plum.recipient, plum.recipient) IS
    'implementation of < for plum.recipient (byte order of the normalised form)';

CREATE FUNCTION plum.recipient_le(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_le'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION plum.recipient_le(plum.recipient, plum.recipient) IS
    'implementation of <= for plum.recipient (byte order of the normalised form)';

CREATE FUNCTION plum.recipient_gt(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_gt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION plum.recipient_gt(plum.recipient, plum.recipient) IS
    'implementation of > for plum.recipient (byte order of the normalised form)';

CREATE FUNCTION plum.recipient_ge(plum.recipient, plum.recipient) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'plum_recipient_ge'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION plum.recipient_ge(plum.recipient, plum.recipient) IS
    'implementation of >= for plum.recipient (byte order of the normalised form)';

CREATE FUNCTION plum.recipient_cmp(plum.recipient, plum.recipient) RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'plum_recipient_cmp'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION plum.recipient_cmp(plum.recipient, plum.recipient) IS
    'btree support for plum.recipient: -1, 0 or 1 in byte order of the normalised form';

CREATE FUNCTION plum.recipient_hash(plum.recipient) RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'plum_recipient_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.recipient_hash(plum.recipient) IS
    'hash support for plum.recipient: hash of the normalised form';

CREATE FUNCTION plum.recipient_hash_extended(plum.recipient, pg_catalog.int8) RETURNS pg_catalog.int8
    AS 'MODULE_PATHNAME', 'plum_recipient_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.recipient_hash_extended(plum.recipient, pg_catalog.int8) IS
    'hash support for plum.recipient: seeded 64-bit hash of the normalised form';

CREATE FUNCTION plum.recipient_kind(plum.recipient) RETURNS pg_catalog.text
    AS 'MODULE_PATHNAME', 'plum_recipient_kind'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.recipient_kind(plum.recipient) IS
    'the kind of a recipient: ''email'' or ''phone''';

-- operators

CREATE OPERATOR plum.= (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum.recipient_eq,
    COMMUTATOR = OPERATOR(plum.=), NEGATOR = OPERATOR(plum.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
    HASHES, MERGES
);
COMMENT ON OPERATOR plum.= (plum.recipient, plum.recipient) IS 'equal (same normalised recipient)';

CREATE OPERATOR plum.<> (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum.recipient_ne,
    COMMUTATOR = OPERATOR(plum.<>), NEGATOR = OPERATOR(plum.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
COMMENT ON OPERATOR plum.<> (plum.recipient, plum.recipient) IS 'not equal';

CREATE OPERATOR plum.< (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum.recipient_lt,
    COMMUTATOR = OPERATOR(plum.>), NEGATOR = OPERATOR(plum.>=),
    RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
COMMENT ON OPERATOR plum.< (plum.recipient, plum.recipient) IS 'less than (byte order of the normalised form)';

CREATE OPERATOR plum.<= (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum.recipient_le,
    COMMUTATOR = OPERATOR(plum.>=), NEGATOR = OPERATOR(plum.>),
    RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
COMMENT ON OPERATOR plum.<= (plum.recipient, plum.recipient) IS 'less than or equal (byte order of the normalised form)';

CREATE OPERATOR plum.> (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum.recipient_gt,
    COMMUTATOR = OPERATOR(plum.<), NEGATOR = OPERATOR(plum.<=),
    RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
COMMENT ON OPERATOR plum.> (plum.recipient, plum.recipient) IS 'greater than (byte order of the normalised form)';

CREATE OPERATOR plum.>= (
    LEFTARG = plum.recipient, RIGHTARG = plum.recipient,
    FUNCTION = plum.recipient_ge,
    COMMUTATOR = OPERATOR(plum.<=), NEGATOR = OPERATOR(plum.<),
    RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
COMMENT ON OPERATOR plum.>= (plum.recipient, plum.recipient) IS 'greater than or equal (byte order of the normalised form)';

-- operator classes: btree (with deduplication: equal recipients are
-- byte-identical, so btequalimage holds) and hash

CREATE OPERATOR CLASS plum.recipient_ops
    DEFAULT FOR TYPE plum.recipient USING btree AS
        OPERATOR 1 plum.< ,
        OPERATOR 2 plum.<= ,
        OPERATOR 3 plum.= ,
        OPERATOR 4 plum.>= ,
        OPERATOR 5 plum.> ,
        FUNCTION 1 plum.recipient_cmp(plum.recipient, plum.recipient),
        FUNCTION 4 pg_catalog.btequalimage(pg_catalog.oid);
COMMENT ON OPERATOR CLASS plum.recipient_ops USING btree IS
    'default btree operator class for plum.recipient: byte order of the normalised form';
COMMENT ON OPERATOR FAMILY plum.recipient_ops USING btree IS
    'btree operators for plum.recipient';

CREATE OPERATOR CLASS plum.recipient_ops
    DEFAULT FOR TYPE plum.recipient USING hash AS
        OPERATOR 1 plum.= ,
        FUNCTION 1 plum.recipient_hash(plum.recipient),
        FUNCTION 2 plum.recipient_hash_extended(plum.recipient, pg_catalog.int8);
COMMENT ON OPERATOR CLASS plum.recipient_ops USING hash IS
    'default hash operator class for plum.recipient';
COMMENT ON OPERATOR FAMILY plum.recipient_ops USING hash IS
    'hash operators for plum.recipient';

-- casts: through the text forms, so a cast from text normalises and validates

-- implicit and binary-coercible (the stored bytes are the normalised text): lets psql users and BI tools
-- compare a recipient column with a normalised literal without schema plum on their search_path
CREATE CAST (plum.recipient AS pg_catalog.text) WITHOUT FUNCTION AS IMPLICIT;
COMMENT ON CAST (plum.recipient AS pg_catalog.text) IS 'the normalised form (implicit, binary-coercible)';
-- implicit too: applications whose drivers send parameters typed text or varchar can call
-- plum.give_points(..., $2, ...) without a cast (the value is validated and normalised like input)
CREATE CAST (pg_catalog.text AS plum.recipient) WITH INOUT AS IMPLICIT;
COMMENT ON CAST (pg_catalog.text AS plum.recipient) IS 'validates and normalises, like input';
CREATE CAST (pg_catalog.varchar AS plum.recipient) WITH INOUT AS IMPLICIT;
COMMENT ON CAST (pg_catalog.varchar AS plum.recipient) IS 'validates and normalises, like input';
