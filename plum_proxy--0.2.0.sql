-- plum_proxy: install script, assembled by the Makefile from sql/proxy/00_head.sql, plum's own type
-- files (sql/10_recipient.sql, sql/11_wallet.sql, sql/12_code.sql: the proxy reads and writes
-- plum's types with plum's C code) and sql/proxy/50_proxy.sql (routing, and the generator that
-- builds schema plum from a shard's catalog at CREATE EXTENSION time, so the proxy's functions
-- and views are those of the plum its shards run, never a copy that can lag).
--
-- Set-up (SPEC, "Scale-out"), in the proxy database:
--   CREATE EXTENSION plproxy;
--   CREATE SERVER plum_shards FOREIGN DATA WRAPPER plproxy OPTIONS (p0 '<conninfo>', p1 '<conninfo>', ...);
--   CREATE USER MAPPING FOR PUBLIC SERVER plum_shards;
--   CREATE EXTENSION plum_proxy;
\echo Use "CREATE EXTENSION plum_proxy" to load this file. \quit

-- the roles of plum (cluster-wide: created only when missing, never dropped with the extension)
DO $roles$
BEGIN
	PERFORM 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'plum_reader';
	IF NOT FOUND THEN
		CREATE ROLE plum_reader NOLOGIN;
	END IF;
	PERFORM 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'plum_app';
	IF NOT FOUND THEN
		CREATE ROLE plum_app NOLOGIN;
	END IF;
	PERFORM 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'plum_admin';
	IF NOT FOUND THEN
		CREATE ROLE plum_admin NOLOGIN;
	END IF;
END
$roles$;
GRANT plum_reader TO plum_app;
GRANT plum_app TO plum_admin;

GRANT USAGE ON SCHEMA plum TO plum_reader;
CREATE SCHEMA plum_internal;
REVOKE ALL ON SCHEMA plum_internal FROM PUBLIC;
COMMENT ON SCHEMA plum IS 'plum through PL/Proxy: every function and view of plum''s SQL surface, each call routed to the shard of its company (the shard number is in every id, code and token).';
COMMENT ON SCHEMA plum_internal IS 'plum_proxy''s plumbing: the PL/Proxy functions that reach the shards, the routing helpers and plum''s type support.';
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
-- Points wallets: the plum.wallet type (a recipient's lots in one value) and its FIFO lot algebra

CREATE TYPE plum.wallet;

CREATE FUNCTION plum_internal.wallet_in(cstring) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.wallet_out(plum.wallet) RETURNS cstring
	AS 'MODULE_PATHNAME', 'plum_wallet_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.wallet_recv(internal) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum_internal.wallet_send(plum.wallet) RETURNS bytea
	AS 'MODULE_PATHNAME', 'plum_wallet_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE plum.wallet (
	INPUT = plum_internal.wallet_in,
	OUTPUT = plum_internal.wallet_out,
	RECEIVE = plum_internal.wallet_recv,
	SEND = plum_internal.wallet_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);

CREATE FUNCTION plum_internal.wallet_next_expiry(w plum.wallet, at timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'plum_wallet_next_expiry'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
-- a wallet's JSON text form as jsonb, for BI tools and drivers (explicit: lots::jsonb)
CREATE CAST (plum.wallet AS pg_catalog.jsonb) WITH INOUT;
-- @end

-- @api
COMMENT ON TYPE plum.wallet IS
	'A recipient''s points lots in FIFO order (issued_at, lot_id); text form is JSON: {"scale": 2, "lots": [{"lot_id", "issued_at", "expires_at", "amount", "remaining"}]}, timestamps in UTC';
COMMENT ON FUNCTION plum_internal.wallet_in(cstring) IS
	'Text input of plum.wallet: the JSON form, checked against every wallet invariant';
COMMENT ON FUNCTION plum_internal.wallet_out(plum.wallet) IS
	'Text output of plum.wallet: JSON, timestamps in UTC, amounts as strings with the currency''s decimals';
COMMENT ON FUNCTION plum_internal.wallet_recv(internal) IS
	'Binary input of plum.wallet, checked like the text input';
COMMENT ON FUNCTION plum_internal.wallet_send(plum.wallet) IS
	'Binary output of plum.wallet: scale, flags, lot count, then five int64 per lot';

CREATE FUNCTION plum_internal.wallet_balance(w plum.wallet, at timestamptz) RETURNS numeric
	AS 'MODULE_PATHNAME', 'plum_wallet_balance'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_balance(plum.wallet, timestamptz) IS
	'Live balance of the wallet at an instant: the remaining points of lots that expire after it';

CREATE FUNCTION plum_internal.wallet_total(w plum.wallet) RETURNS numeric
	AS 'MODULE_PATHNAME', 'plum_wallet_total'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_total(plum.wallet) IS
	'Remaining points of every lot of the wallet, expired or not';
COMMENT ON FUNCTION plum_internal.wallet_next_expiry(plum.wallet, timestamptz) IS
	'The earliest expiry after an instant among the wallet''s lots, or NULL when no lot is live';

CREATE FUNCTION plum_internal.wallet_lots(w plum.wallet)
	RETURNS TABLE(lot_id bigint, issued_at timestamptz, expires_at timestamptz,
				  amount numeric, remaining numeric)
	AS 'MODULE_PATHNAME', 'plum_wallet_lots'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION plum_internal.wallet_lots(plum.wallet) IS
	'Every lot of the wallet in FIFO order (issued_at, lot_id), expired or not';

CREATE FUNCTION plum_internal.wallet_empty(scale integer) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_empty'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_empty(integer) IS
	'An empty wallet for a currency with the given number of decimals (0 to 4)';

CREATE FUNCTION plum_internal.wallet_add(w plum.wallet, lot_id bigint, issued_at timestamptz,
								expires_at timestamptz, amount numeric, at timestamptz)
	RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_add'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_add(plum.wallet, bigint, timestamptz, timestamptz, numeric, timestamptz) IS
	'The wallet with a new lot, merged into the lot with the same expiry if any; lots empty or expired at "at" are dropped';

CREATE FUNCTION plum_internal.wallet_live(w plum.wallet, at timestamptz) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_live'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_live(plum.wallet, timestamptz) IS
	'The lots of the wallet still live at an instant (expiring after it)';

CREATE FUNCTION plum_internal.wallet_expired(w plum.wallet, at timestamptz) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_expired'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_expired(plum.wallet, timestamptz) IS
	'The lots of the wallet expired at an instant (expiring at or before it)';

CREATE FUNCTION plum_internal.wallet_consume(w plum.wallet, amount numeric, at timestamptz,
									OUT wallet plum.wallet, OUT taken plum.wallet,
									OUT expired plum.wallet)
	RETURNS record
	AS 'MODULE_PATHNAME', 'plum_wallet_consume'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_consume(plum.wallet, numeric, timestamptz) IS
	'FIFO consumption of an amount at an instant, all or nothing (PU001 when the live balance is short): the new wallet, the portions taken from each lot, and the expired lots dropped';

CREATE FUNCTION plum_internal.wallet_reversible(taken plum.wallet, already_reversed numeric)
	RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_reversible'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_reversible(plum.wallet, numeric) IS
	'The portions of a redemption still reversible once already_reversed was given back, latest expiry first';

CREATE FUNCTION plum_internal.wallet_restore(w plum.wallet, taken plum.wallet, already_reversed numeric,
									amount numeric, at timestamptz,
									OUT wallet plum.wallet, OUT restored plum.wallet,
									OUT expired plum.wallet)
	RETURNS record
	AS 'MODULE_PATHNAME', 'plum_wallet_restore'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_restore(plum.wallet, plum.wallet, numeric, numeric, timestamptz) IS
	'A reversal: gives an amount back to the lots a redemption took, latest expiry first, keeping their expiry; portions of lots expired at "at" come back in expired (PU008 when more than is left to reverse)';
COMMENT ON CAST (plum.wallet AS pg_catalog.jsonb) IS 'the wallet''s JSON text form as jsonb: {"scale", "lots": [{"lot_id", "issued_at", "expires_at", "amount", "remaining"}]} (timestamps in UTC, amounts as strings)';
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

-- ---------------------------------------------------------------------------------------------
-- plum_proxy: routing (see 00_head.sql)
--
-- Every function of schema plum here is a thin SQL function that calls plum_internal.px_call()
-- with the shard its arguments name (a company id, or any id: id % 16; a code: its 4 high bits;
-- a link token: its first symbol), the plum function's signature and its arguments as text.
-- px_call() reaches the shard through PL/Proxy (one autocommit transaction there), where
-- plum.shard_call() runs the function as the same role and returns its rows as jsonb, or a
-- refusal as data (so PL/Proxy keeps its connection); px_call() raises that refusal here with the
-- same SQLSTATE, message, detail and hint, and turns a shard that cannot be reached into 08006.
-- The shard number is mapped to a partition as PL/Proxy does: number & (partitions - 1).
-- ---------------------------------------------------------------------------------------------

-- the proxy's callers reach the routing functions (they run as the caller, so that the shard
-- sees the caller's own role and confines it there)
GRANT USAGE ON SCHEMA plum_internal TO plum_reader;

CREATE FUNCTION plum_internal.raise(sqlstate text, message text, detail text DEFAULT NULL, hint text DEFAULT NULL) RETURNS void
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_raise';
COMMENT ON FUNCTION plum_internal.raise(text, text, text, text) IS
	'Internal: raise an error with a SQLSTATE, message, detail and hint, without a CONTEXT (plum''s own).';

CREATE FUNCTION plum_internal.shard_count() RETURNS integer
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT count(*)::integer FROM pg_foreign_server s, pg_options_to_table(s.srvoptions) o
	WHERE s.srvname = 'plum_shards' AND o.option_name ~ '^p[0-9]+$'
$$;
COMMENT ON FUNCTION plum_internal.shard_count() IS 'How many partitions (options p0, p1, ...) the foreign server plum_shards has.';

CREATE FUNCTION plum_internal.id_shard(id bigint) RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT (id & 15)::integer $$;
COMMENT ON FUNCTION plum_internal.id_shard(bigint) IS 'The shard an id was handed out by: id % 16 (plum.configure_shard).';

CREATE FUNCTION plum_internal.ids_shard(ids bigint[]) RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT (i & 15)::integer FROM unnest(ids) AS u(i) WHERE i IS NOT NULL LIMIT 1 $$;
COMMENT ON FUNCTION plum_internal.ids_shard(bigint[]) IS 'The shard of the first id of an array (a call''s ids all belong to one company).';

CREATE FUNCTION plum_internal.codes_shard(codes plum.code[]) RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT plum_internal.code_shard(c) FROM unnest(codes) AS u(c) WHERE c IS NOT NULL LIMIT 1 $$;
COMMENT ON FUNCTION plum_internal.codes_shard(plum.code[]) IS 'The shard of the first code of an array (a call''s codes all belong to one company).';

CREATE FUNCTION plum_internal.token_shard(token text) RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT CASE WHEN p > 0 THEN (p - 1) & 15 ELSE 0 END
	FROM strpos('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', left(token, 1)) AS p
$$;
COMMENT ON FUNCTION plum_internal.token_shard(text) IS 'The shard a link token was made on: the low 4 bits of its first base64url symbol.';

CREATE SEQUENCE plum_internal.company_spread;
COMMENT ON SEQUENCE plum_internal.company_spread IS 'Round robin of plum.create_company over the shards.';
GRANT USAGE ON SEQUENCE plum_internal.company_spread TO plum_reader;

CREATE FUNCTION plum_internal.next_shard() RETURNS integer
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT (nextval('plum_internal.company_spread') % greatest(plum_internal.shard_count(), 1))::integer $$;
COMMENT ON FUNCTION plum_internal.next_shard() IS 'The shard of the next new company: round robin over the partitions.';

-- PL/Proxy: one shard, every shard, a view of every shard, and a shard's catalog
CREATE FUNCTION plum_internal.remote_call(shard integer, fn text, args text[], clock text)
	RETURNS TABLE(result jsonb, state text, message text, detail text, hint text)
	LANGUAGE plproxy AS $$
	CLUSTER 'plum_shards';
	RUN ON shard;
	TARGET plum.shard_call;
$$;
COMMENT ON FUNCTION plum_internal.remote_call(integer, text, text[], text) IS 'PL/Proxy: plum.shard_call() on the partition shard & (partitions - 1).';

CREATE FUNCTION plum_internal.remote_all(shard integer, fn text, args text[], clock text)
	RETURNS TABLE(result jsonb, state text, message text, detail text, hint text)
	LANGUAGE plproxy AS $$
	CLUSTER 'plum_shards';
	RUN ON ALL;
	TARGET plum.shard_call;
$$;
COMMENT ON FUNCTION plum_internal.remote_all(integer, text, text[], text) IS 'PL/Proxy: plum.shard_call() on every partition, in parallel (shard is -1: no routing check).';

CREATE FUNCTION plum_internal.remote_view(shard integer, view text, clock text) RETURNS SETOF jsonb
	LANGUAGE plproxy AS $$
	CLUSTER 'plum_shards';
	RUN ON ALL;
	TARGET plum.shard_view;
$$;
COMMENT ON FUNCTION plum_internal.remote_view(integer, text, text) IS 'PL/Proxy: the rows of a view of plum on every partition, in parallel.';

CREATE FUNCTION plum_internal.remote_catalog(shard integer) RETURNS SETOF jsonb
	LANGUAGE plproxy AS $$
	CLUSTER 'plum_shards';
	RUN ON shard;
	SELECT c AS remote_catalog FROM plum.shard_catalog() AS c;
$$;
COMMENT ON FUNCTION plum_internal.remote_catalog(integer) IS 'PL/Proxy: plum.shard_catalog() of one partition (what CREATE EXTENSION plum_proxy builds schema plum from).';

-- the error for a shard that cannot be reached (or a gather, when one of them cannot)
CREATE FUNCTION plum_internal.unreachable(shard integer, state text, message text) RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.raise('08006',
		CASE WHEN shard IS NULL THEN 'a shard is unreachable'
			ELSE format('shard p%s is unreachable', shard & (greatest(plum_internal.shard_count(), 1) - 1)) END,
		format('PL/Proxy: %s', rtrim(message, E'\n ')),
		'Only the companies of that shard are affected. Retry later with the same idempotency_key: a call in flight when the shard failed may or may not have committed there.');
END
$$;
COMMENT ON FUNCTION plum_internal.unreachable(integer, text, text) IS 'Raise 08006 for a shard that cannot be reached (never XX000), with the partition and PL/Proxy''s own message.';

-- Call a plum function on its shard (shard NULL: on every shard when gather, else on shard 0,
-- where the missing argument is refused as on one server); its rows as jsonb.
CREATE FUNCTION plum_internal.px_call(shard integer, fn text, args text[], gather boolean) RETURNS SETOF jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	v_clock text := nullif(current_setting('plum.now', true), '');
	v_rows jsonb[] := '{}';
	v_error text[];
	r record;
	v_state text;
	v_message text;
BEGIN
	BEGIN
		FOR r IN SELECT * FROM plum_internal.remote_call(coalesce(shard, 0), fn, args, v_clock)
			WHERE shard IS NOT NULL OR NOT gather
			UNION ALL
			SELECT * FROM plum_internal.remote_all(-1, fn, args, v_clock)
			WHERE shard IS NULL AND gather
		LOOP
			IF r.state IS NOT NULL THEN
				IF v_error IS NULL THEN
					v_error := ARRAY[r.state, r.message, r.detail, r.hint];
				END IF;
			ELSE
				v_rows := v_rows || r.result;
			END IF;
		END LOOP;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
		IF v_state ~ '^(08|XX|57|58|53)' THEN
			PERFORM plum_internal.unreachable(shard, v_state, v_message);
		END IF;
		RAISE;
	END;
	IF v_error IS NOT NULL THEN
		PERFORM plum_internal.raise(v_error[1], v_error[2], v_error[3], v_error[4]);
	END IF;
	RETURN QUERY SELECT u.r FROM unnest(v_rows) AS u(r);
END
$$;
COMMENT ON FUNCTION plum_internal.px_call(integer, text, text[], boolean) IS
	'Run the plum function fn (its signature) with args on shard (NULL: every shard when gather, else shard 0), with this session''s plum.now; returns its rows as jsonb; raises a refusal with its own SQLSTATE, message, detail and hint, and 08006 for a shard that cannot be reached.';

CREATE FUNCTION plum_internal.px_view(view text) RETURNS SETOF jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	v_state text;
	v_message text;
BEGIN
	RETURN QUERY SELECT * FROM plum_internal.remote_view(-1, view, nullif(current_setting('plum.now', true), ''));
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
	IF v_state ~ '^(08|XX|57|58|53)' THEN
		PERFORM plum_internal.unreachable(NULL, v_state, v_message);
	END IF;
	RAISE;
END
$$;
COMMENT ON FUNCTION plum_internal.px_view(text) IS 'The rows of the view plum.<view> of every shard, as jsonb (08006 when a shard cannot be reached).';

REVOKE EXECUTE ON FUNCTION plum_internal.remote_call(integer, text, text[], text), plum_internal.remote_all(integer, text, text[], text),
	plum_internal.remote_view(integer, text, text), plum_internal.remote_catalog(integer), plum_internal.px_call(integer, text, text[], boolean),
	plum_internal.px_view(text), plum_internal.next_shard(), plum_internal.unreachable(integer, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum_internal.remote_call(integer, text, text[], text), plum_internal.remote_all(integer, text, text[], text),
	plum_internal.remote_view(integer, text, text), plum_internal.px_call(integer, text, text[], boolean),
	plum_internal.px_view(text), plum_internal.next_shard(), plum_internal.unreachable(integer, text, text) TO plum_reader;

CREATE FUNCTION plum.shard_of(company_id bigint) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT o.option_value FROM pg_foreign_server s, pg_options_to_table(s.srvoptions) o
	WHERE s.srvname = 'plum_shards'
		AND o.option_name = 'p' || (plum_internal.id_shard(shard_of.company_id) & (greatest(plum_internal.shard_count(), 1) - 1))
$$;
COMMENT ON FUNCTION plum.shard_of(bigint) IS
	'The connection string of the shard that holds company_id (the option p<N> of the foreign server plum_shards). Connect there directly when a plum call must commit with your own transaction: a call through the proxy commits on its shard by itself.';
GRANT EXECUTE ON FUNCTION plum.shard_of(bigint) TO plum_reader;

-- Build schema plum from the catalog of shard p0: the composite types, then every function (a
-- local C function where plum's is one and needs no shard: plum.now, plum.qr_svg), then the views.
DO $generate$
DECLARE
	v_catalog jsonb[];
	d jsonb;
	v_names text[];
	v_types text[];
	v_route text;
	v_gather boolean;
	v_args text;
	v_call text;
	v_body text;
	v_grantee text;
	i integer;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_foreign_server WHERE srvname = 'plum_shards') THEN
		PERFORM plum_internal.raise('55000', 'the foreign server plum_shards does not exist',
			'plum_proxy builds its functions from the catalog of the shard p0.',
			'CREATE SERVER plum_shards FOREIGN DATA WRAPPER plproxy OPTIONS (p0 ''<conninfo>'', ...); CREATE USER MAPPING FOR PUBLIC SERVER plum_shards; then CREATE EXTENSION plum_proxy.');
	END IF;
	v_catalog := ARRAY(SELECT c FROM plum_internal.remote_catalog(0) AS c);

	FOR d IN SELECT c.d FROM unnest(v_catalog) AS c(d) WHERE c.d->>'kind' = 'type' ORDER BY c.d->>'name' LOOP
		EXECUTE format('CREATE TYPE plum.%I AS (%s)', d->>'name', d->>'columns');
		EXECUTE format('COMMENT ON TYPE plum.%I IS %L', d->>'name', d->>'comment');
	END LOOP;

	FOR d IN SELECT c.d FROM unnest(v_catalog) AS c(d) WHERE c.d->>'kind' = 'function' ORDER BY c.d->>'name', c.d->>'identity' LOOP
		d := jsonb_strip_nulls(d);
		CONTINUE WHEN to_regprocedure(d->>'signature') IS NOT NULL;	-- from plum's type files (recipient_kind)
		v_names := ARRAY(SELECT jsonb_array_elements_text(coalesce(d->'argnames', '[]')));
		v_types := ARRAY(SELECT jsonb_array_elements_text(coalesce(d->'argtypes', '[]')));
		IF d->>'language' = 'c' AND d->>'volatility' <> 'v'
			AND NOT EXISTS (SELECT FROM unnest(v_types) t WHERE t ~ '^plum\.') THEN
			-- plum's own C function, computed here (no data: the clock, a QR code)
			EXECUTE format('CREATE FUNCTION plum.%I(%s) RETURNS %s LANGUAGE C %s %s PARALLEL SAFE AS %L, %L',
				d->>'name', d->>'arguments', d->>'result',
				CASE d->>'volatility' WHEN 'i' THEN 'IMMUTABLE' ELSE 'STABLE' END,
				CASE WHEN (d->>'strict')::boolean THEN 'STRICT' ELSE '' END,
				'$libdir/plum', d->>'symbol');
		ELSE
			v_route := NULL;
			FOR i IN 1 .. coalesce(array_length(v_types, 1), 0) LOOP
				v_route := CASE
					WHEN v_types[i] = 'bigint' AND (v_names[i] ~ '_id$' OR v_names[i] = 'by_admin') THEN format('plum_internal.id_shard($%s)', i)
					WHEN v_types[i] = 'bigint[]' AND v_names[i] ~ '_ids$' THEN format('plum_internal.ids_shard($%s)', i)
					WHEN v_types[i] = 'plum.code' THEN format('plum_internal.code_shard($%s)', i)
					WHEN v_types[i] = 'plum.code[]' THEN format('plum_internal.codes_shard($%s)', i)
					WHEN v_types[i] = 'text' AND v_names[i] = 'token' THEN format('plum_internal.token_shard($%s)', i)
				END;
				EXIT WHEN v_route IS NOT NULL;
			END LOOP;
			IF v_types[1] = 'regrole' THEN
				v_route := NULL;		-- grants and revocations: on every shard, so a role is confined everywhere
			END IF;
			v_gather := (d->>'retset')::boolean OR v_route IS NULL;
			IF v_route IS NULL AND d->>'name' = 'create_company' THEN
				v_route := 'plum_internal.next_shard()';
				v_gather := false;
			END IF;
			SELECT coalesce('ARRAY[' || string_agg(format('$%s::text', n), ', ' ORDER BY n) || ']', 'ARRAY[]::text[]')
				INTO v_args FROM generate_series(1, coalesce(array_length(v_types, 1), 0)) n;
			v_call := format('plum_internal.px_call(%s, %L, %s, %s) AS j', coalesce(v_route, 'NULL'), d->>'signature', v_args, CASE WHEN v_gather THEN 'true' ELSE 'false' END);
			v_body := CASE d->>'shape'
				WHEN 'void' THEN format('SELECT count(*) FROM %s', v_call)
				WHEN 'record' THEN format('SELECT x.* FROM %s, jsonb_to_record(j) AS x(%s)', v_call, d->>'columns')
				WHEN 'composite' THEN format('SELECT x.* FROM %s, jsonb_populate_record(NULL::%s, j) AS x', v_call, d->>'rettype')
				ELSE CASE WHEN v_gather AND NOT (d->>'retset')::boolean AND d->>'rettype' IN ('numeric', 'integer', 'bigint')
					THEN format('SELECT coalesce(sum((j #>> ''{}'')::%s), 0)::%s FROM %s', d->>'rettype', d->>'rettype', v_call)
					ELSE format('SELECT (j #>> ''{}'')::%s FROM %s', d->>'rettype', v_call) END
			END;
			IF d->>'shape' = 'void' THEN
				v_body := format('SELECT FROM (%s) AS done', v_body);
			END IF;
			EXECUTE format('CREATE FUNCTION plum.%I(%s) RETURNS %s LANGUAGE sql %s %s SET search_path = pg_catalog, pg_temp AS %L',
				d->>'name', d->>'arguments', d->>'result',
				CASE d->>'volatility' WHEN 'v' THEN 'VOLATILE' ELSE 'STABLE' END,
				CASE WHEN (d->>'strict')::boolean THEN 'STRICT' ELSE '' END, v_body);
		END IF;
		EXECUTE format('COMMENT ON FUNCTION %s IS %L', d->>'signature', d->>'comment');
		IF NOT (d->>'public')::boolean THEN
			EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', d->>'signature');
		END IF;
		FOR v_grantee IN SELECT jsonb_array_elements_text(coalesce(d->'grants', '[]')) LOOP
			EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', d->>'signature', v_grantee);
		END LOOP;
	END LOOP;

	FOR d IN SELECT c.d FROM unnest(v_catalog) AS c(d) WHERE c.d->>'kind' = 'view' ORDER BY c.d->>'name' LOOP
		d := jsonb_strip_nulls(d);
		EXECUTE format('CREATE VIEW plum.%I AS SELECT x.* FROM plum_internal.px_view(%L) AS j, jsonb_to_record(j) AS x(%s)',
			d->>'name', d->>'name', d->>'columns');
		EXECUTE format('COMMENT ON VIEW plum.%I IS %L', d->>'name', 'Gathered from every shard: ' || coalesce(d->>'comment', ''));
		FOR v_grantee IN SELECT DISTINCT g->>'grantee' FROM jsonb_array_elements(coalesce(d->'grants', '[]')) AS g WHERE g->>'privilege' = 'SELECT' LOOP
			EXECUTE format('GRANT SELECT ON plum.%I TO %s', d->>'name', v_grantee);
		END LOOP;
	END LOOP;

	-- PL/Proxy connects as the caller, who needs the server
	GRANT USAGE ON FOREIGN SERVER plum_shards TO plum_reader;
END
$generate$;
