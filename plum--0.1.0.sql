-- plum: install script, assembled by the Makefile from sql/*.sql in name order.
\echo Use "CREATE EXTENSION plum" to load this file. \quit

-- Roles (cluster-wide, so created only when missing and never dropped with the extension):
--   plum_reader  reads the views (BI tools)
--   plum_app     redeems and reads balances (applications), and reads the views
--   plum_admin   configures, creates and issues value (back office), and everything plum_app can do
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

COMMENT ON SCHEMA plum IS 'plum: a rewards platform inside PostgreSQL (points wallets, gift codes, reward links).';
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
-- Points wallets: the plum.wallet type (a recipient's lots in one value) and its FIFO lot algebra

CREATE TYPE plum.wallet;

CREATE FUNCTION plum.wallet_in(cstring) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum.wallet_out(plum.wallet) RETURNS cstring
	AS 'MODULE_PATHNAME', 'plum_wallet_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum.wallet_recv(internal) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum.wallet_send(plum.wallet) RETURNS bytea
	AS 'MODULE_PATHNAME', 'plum_wallet_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE plum.wallet (
	INPUT = plum.wallet_in,
	OUTPUT = plum.wallet_out,
	RECEIVE = plum.wallet_recv,
	SEND = plum.wallet_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);

COMMENT ON TYPE plum.wallet IS
	'A recipient''s points lots in FIFO order (issued_at, lot_id); text form is JSON: {"scale": 2, "lots": [{"lot_id", "issued_at", "expires_at", "amount", "remaining"}]}, timestamps in UTC';
COMMENT ON FUNCTION plum.wallet_in(cstring) IS
	'Text input of plum.wallet: the JSON form, checked against every wallet invariant';
COMMENT ON FUNCTION plum.wallet_out(plum.wallet) IS
	'Text output of plum.wallet: JSON, timestamps in UTC, amounts as strings with the currency''s decimals';
COMMENT ON FUNCTION plum.wallet_recv(internal) IS
	'Binary input of plum.wallet, checked like the text input';
COMMENT ON FUNCTION plum.wallet_send(plum.wallet) IS
	'Binary output of plum.wallet: scale, flags, lot count, then five int64 per lot';

CREATE FUNCTION plum.wallet_balance(w plum.wallet, at timestamptz) RETURNS numeric
	AS 'MODULE_PATHNAME', 'plum_wallet_balance'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_balance(plum.wallet, timestamptz) IS
	'Live balance of the wallet at an instant: the remaining points of lots that expire after it';

CREATE FUNCTION plum.wallet_total(w plum.wallet) RETURNS numeric
	AS 'MODULE_PATHNAME', 'plum_wallet_total_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_total(plum.wallet) IS
	'Remaining points of every lot of the wallet, expired or not';

CREATE FUNCTION plum.wallet_next_expiry(w plum.wallet, at timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'plum_wallet_next_expiry_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_next_expiry(plum.wallet, timestamptz) IS
	'The earliest expiry after an instant among the wallet''s lots, or NULL when no lot is live';

CREATE FUNCTION plum.wallet_lots(w plum.wallet)
	RETURNS TABLE(lot_id bigint, issued_at timestamptz, expires_at timestamptz,
				  amount numeric, remaining numeric)
	AS 'MODULE_PATHNAME', 'plum_wallet_lots'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION plum.wallet_lots(plum.wallet) IS
	'Every lot of the wallet in FIFO order (issued_at, lot_id), expired or not';

CREATE FUNCTION plum.wallet_empty(scale integer) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_empty'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_empty(integer) IS
	'An empty wallet for a currency with the given number of decimals (0 to 4)';

CREATE FUNCTION plum.wallet_add(w plum.wallet, lot_id bigint, issued_at timestamptz,
								expires_at timestamptz, amount numeric, at timestamptz)
	RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_add_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_add(plum.wallet, bigint, timestamptz, timestamptz, numeric, timestamptz) IS
	'The wallet with a new lot, merged into the lot with the same expiry if any; lots empty or expired at "at" are dropped';

CREATE FUNCTION plum.wallet_live(w plum.wallet, at timestamptz) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_live_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_live(plum.wallet, timestamptz) IS
	'The lots of the wallet still live at an instant (expiring after it)';

CREATE FUNCTION plum.wallet_expired(w plum.wallet, at timestamptz) RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_expired_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_expired(plum.wallet, timestamptz) IS
	'The lots of the wallet expired at an instant (expiring at or before it)';

CREATE FUNCTION plum.wallet_consume(w plum.wallet, amount numeric, at timestamptz,
									OUT wallet plum.wallet, OUT taken plum.wallet,
									OUT expired plum.wallet)
	RETURNS record
	AS 'MODULE_PATHNAME', 'plum_wallet_consume_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_consume(plum.wallet, numeric, timestamptz) IS
	'FIFO consumption of an amount at an instant, all or nothing (PU001 when the live balance is short): the new wallet, the portions taken from each lot, and the expired lots dropped';

CREATE FUNCTION plum.wallet_reversible(taken plum.wallet, already_reversed numeric)
	RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_reversible_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_reversible(plum.wallet, numeric) IS
	'The portions of a redemption still reversible once already_reversed was given back, latest expiry first';

CREATE FUNCTION plum.wallet_restore(w plum.wallet, taken plum.wallet, already_reversed numeric,
									amount numeric, at timestamptz,
									OUT wallet plum.wallet, OUT restored plum.wallet,
									OUT expired plum.wallet)
	RETURNS record
	AS 'MODULE_PATHNAME', 'plum_wallet_restore_sql'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.wallet_restore(plum.wallet, plum.wallet, numeric, numeric, timestamptz) IS
	'A reversal: gives an amount back to the lots a redemption took, latest expiry first, keeping their expiry; portions of lots expired at "at" come back in expired (PU008 when more than is left to reverse)';
-- plum.code: the bearer gift code type (src/code.c)

CREATE TYPE plum.code;

CREATE FUNCTION plum.code_in(cstring) RETURNS plum.code
	AS 'MODULE_PATHNAME', 'plum_code_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum.code_out(plum.code) RETURNS cstring
	AS 'MODULE_PATHNAME', 'plum_code_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum.code_recv(internal) RETURNS plum.code
	AS 'MODULE_PATHNAME', 'plum_code_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum.code_send(plum.code) RETURNS bytea
	AS 'MODULE_PATHNAME', 'plum_code_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE plum.code (
	INPUT = plum.code_in,
	OUTPUT = plum.code_out,
	RECEIVE = plum.code_recv,
	SEND = plum.code_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);

COMMENT ON TYPE plum.code IS 'bearer gift code: 60 random bits shown as Crockford base-32 XXXX-XXXX-XXXX-C with a mod-37 check symbol';
COMMENT ON FUNCTION plum.code_in(cstring) IS 'text input of plum.code: case-insensitive, hyphens and spaces ignored, I/L read as 1 and O as 0, check symbol verified';
COMMENT ON FUNCTION plum.code_out(plum.code) IS 'text output of plum.code: XXXX-XXXX-XXXX-C';
COMMENT ON FUNCTION plum.code_recv(internal) IS 'binary input of plum.code: a big-endian int64 with the top 4 bits clear, not zero';
COMMENT ON FUNCTION plum.code_send(plum.code) IS 'binary output of plum.code: a big-endian int64';

-- comparison

CREATE FUNCTION plum.code_eq(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_eq'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum.code_ne(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_ne'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum.code_lt(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_lt'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum.code_le(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_le'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum.code_gt(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_gt'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum.code_ge(plum.code, plum.code) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_code_ge'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum.code_cmp(plum.code, plum.code) RETURNS integer
	AS 'MODULE_PATHNAME', 'plum_code_cmp'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum.code_sortsupport(internal) RETURNS void
	AS 'MODULE_PATHNAME', 'plum_code_sortsupport'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION plum.code_hash(plum.code) RETURNS integer
	AS 'MODULE_PATHNAME', 'plum_code_hash'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION plum.code_hash_extended(plum.code, bigint) RETURNS bigint
	AS 'MODULE_PATHNAME', 'plum_code_hash_extended'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

COMMENT ON FUNCTION plum.code_eq(plum.code, plum.code) IS 'implementation of = for plum.code';
COMMENT ON FUNCTION plum.code_ne(plum.code, plum.code) IS 'implementation of <> for plum.code';
COMMENT ON FUNCTION plum.code_lt(plum.code, plum.code) IS 'implementation of < for plum.code';
COMMENT ON FUNCTION plum.code_le(plum.code, plum.code) IS 'implementation of <= for plum.code';
COMMENT ON FUNCTION plum.code_gt(plum.code, plum.code) IS 'implementation of > for plum.code';
COMMENT ON FUNCTION plum.code_ge(plum.code, plum.code) IS 'implementation of >= for plum.code';
COMMENT ON FUNCTION plum.code_cmp(plum.code, plum.code) IS 'btree comparison of plum.code: -1, 0 or 1';
COMMENT ON FUNCTION plum.code_sortsupport(internal) IS 'btree sort support for plum.code';
COMMENT ON FUNCTION plum.code_hash(plum.code) IS 'hash of plum.code (as for bigint)';
COMMENT ON FUNCTION plum.code_hash_extended(plum.code, bigint) IS 'seeded 64-bit hash of plum.code (as for bigint)';

CREATE OPERATOR plum.= (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum.code_eq,
	COMMUTATOR = OPERATOR(plum.=),
	NEGATOR = OPERATOR(plum.<>),
	RESTRICT = pg_catalog.eqsel,
	JOIN = pg_catalog.eqjoinsel,
	HASHES,
	MERGES
);

CREATE OPERATOR plum.<> (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum.code_ne,
	COMMUTATOR = OPERATOR(plum.<>),
	NEGATOR = OPERATOR(plum.=),
	RESTRICT = pg_catalog.neqsel,
	JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR plum.< (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum.code_lt,
	COMMUTATOR = OPERATOR(plum.>),
	NEGATOR = OPERATOR(plum.>=),
	RESTRICT = pg_catalog.scalarltsel,
	JOIN = pg_catalog.scalarltjoinsel
);

CREATE OPERATOR plum.<= (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum.code_le,
	COMMUTATOR = OPERATOR(plum.>=),
	NEGATOR = OPERATOR(plum.>),
	RESTRICT = pg_catalog.scalarlesel,
	JOIN = pg_catalog.scalarlejoinsel
);

CREATE OPERATOR plum.> (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum.code_gt,
	COMMUTATOR = OPERATOR(plum.<),
	NEGATOR = OPERATOR(plum.<=),
	RESTRICT = pg_catalog.scalargtsel,
	JOIN = pg_catalog.scalargtjoinsel
);

CREATE OPERATOR plum.>= (
	LEFTARG = plum.code,
	RIGHTARG = plum.code,
	FUNCTION = plum.code_ge,
	COMMUTATOR = OPERATOR(plum.<=),
	NEGATOR = OPERATOR(plum.<),
	RESTRICT = pg_catalog.scalargesel,
	JOIN = pg_catalog.scalargejoinsel
);

COMMENT ON OPERATOR plum.= (plum.code, plum.code) IS 'equal';
COMMENT ON OPERATOR plum.<> (plum.code, plum.code) IS 'not equal';
COMMENT ON OPERATOR plum.< (plum.code, plum.code) IS 'less than (codes sort like their canonical text)';
COMMENT ON OPERATOR plum.<= (plum.code, plum.code) IS 'less than or equal';
COMMENT ON OPERATOR plum.> (plum.code, plum.code) IS 'greater than';
COMMENT ON OPERATOR plum.>= (plum.code, plum.code) IS 'greater than or equal';

CREATE OPERATOR CLASS plum.code_ops
	DEFAULT FOR TYPE plum.code USING btree AS
	OPERATOR 1 plum.< ,
	OPERATOR 2 plum.<= ,
	OPERATOR 3 plum.= ,
	OPERATOR 4 plum.>= ,
	OPERATOR 5 plum.> ,
	FUNCTION 1 plum.code_cmp(plum.code, plum.code),
	FUNCTION 2 plum.code_sortsupport(internal);

CREATE OPERATOR CLASS plum.code_ops
	DEFAULT FOR TYPE plum.code USING hash AS
	OPERATOR 1 plum.= ,
	FUNCTION 1 plum.code_hash(plum.code),
	FUNCTION 2 plum.code_hash_extended(plum.code, bigint);

COMMENT ON OPERATOR FAMILY plum.code_ops USING btree IS 'btree operators for plum.code';
COMMENT ON OPERATOR CLASS plum.code_ops USING btree IS 'default btree operator class for plum.code';
COMMENT ON OPERATOR FAMILY plum.code_ops USING hash IS 'hash operators for plum.code';
COMMENT ON OPERATOR CLASS plum.code_ops USING hash IS 'default hash operator class for plum.code';

-- casts to and from text

CREATE CAST (plum.code AS text) WITH INOUT AS IMPLICIT;
CREATE CAST (text AS plum.code) WITH INOUT AS IMPLICIT;

COMMENT ON CAST (plum.code AS text) IS 'the canonical text of a code (implicit, so a code column compares with a canonical literal anywhere)';
COMMENT ON CAST (text AS plum.code) IS 'parse a code, checking its check symbol';

-- generation

CREATE FUNCTION plum.code_random() RETURNS plum.code
	AS 'MODULE_PATHNAME', 'plum_code_random'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION plum.code_random(n integer) RETURNS SETOF plum.code
	AS 'MODULE_PATHNAME', 'plum_code_random_n'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION plum.code_random() IS 'a fresh code with 60 bits from pg_strong_random(); uniqueness is up to the caller';
COMMENT ON FUNCTION plum.code_random(integer) IS 'n fresh codes with 60 bits each from pg_strong_random(); uniqueness is up to the caller';
-- The clock and exact money checks, shared by every plum function.

CREATE FUNCTION plum.now() RETURNS timestamptz
	LANGUAGE C STABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_now_sql';
COMMENT ON FUNCTION plum.now() IS
	'plum''s clock: the setting plum.now when set (superuser only), else the transaction timestamp. Every plum function reads the time here.';

CREATE FUNCTION plum.check_amount(amount numeric, scale integer, what text DEFAULT 'amount') RETURNS bigint
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_check_amount';
COMMENT ON FUNCTION plum.check_amount(numeric, integer, text) IS
	'The amount in minor units of a currency with the given decimals; refuses NULL (22004), NaN, infinities, zero, negatives and too many decimals (PU008).';

-- Raise a plum error from SQL with a message, detail and hint (internal helper).
CREATE FUNCTION plum.raise(sqlstate text, message text, detail text DEFAULT NULL, hint text DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF detail IS NULL AND hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message;
	ELSIF hint IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message, DETAIL = detail;
	ELSIF detail IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message, HINT = hint;
	ELSE
		RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message, DETAIL = detail, HINT = hint;
	END IF;
END
$$;
COMMENT ON FUNCTION plum.raise(text, text, text, text) IS
	'Internal: raise an error with a SQLSTATE, message, detail and hint.';

-- Refuse a NULL argument with SQLSTATE 22004 (internal helper).
CREATE FUNCTION plum.not_null(value anyelement, name text) RETURNS anyelement
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF value IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = format('%s must not be null', name);
	END IF;
	RETURN value;
END
$$;
COMMENT ON FUNCTION plum.not_null(anyelement, text) IS
	'Internal: the value, or SQLSTATE 22004 when it is NULL.';
-- Tenancy: currencies, companies and their admins (pools and thresholds).

CREATE TABLE plum.currency (
	code		text PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
	minor_unit	smallint NOT NULL CHECK (minor_unit BETWEEN 0 AND 4),
	name		text NOT NULL
);
COMMENT ON TABLE plum.currency IS 'ISO 4217 currencies a company may choose as its base currency, with their minor units.';
COMMENT ON COLUMN plum.currency.code IS 'ISO 4217 alphabetic code, e.g. USD.';
COMMENT ON COLUMN plum.currency.minor_unit IS 'Decimals of the currency: USD 2, JPY 0, KWD 3. Amounts must be exact to it.';
COMMENT ON COLUMN plum.currency.name IS 'English name of the currency.';

INSERT INTO plum.currency (code, minor_unit, name) VALUES
	('AED', 2, 'UAE dirham'),
	('AFN', 2, 'Afghan afghani'),
	('ALL', 2, 'Albanian lek'),
	('AMD', 2, 'Armenian dram'),
	('ANG', 2, 'Netherlands Antillean guilder'),
	('AOA', 2, 'Angolan kwanza'),
	('ARS', 2, 'Argentine peso'),
	('AUD', 2, 'Australian dollar'),
	('AWG', 2, 'Aruban florin'),
	('AZN', 2, 'Azerbaijani manat'),
	('BAM', 2, 'Bosnia and Herzegovina convertible mark'),
	('BBD', 2, 'Barbados dollar'),
	('BDT', 2, 'Bangladeshi taka'),
	('BGN', 2, 'Bulgarian lev'),
	('BHD', 3, 'Bahraini dinar'),
	('BIF', 0, 'Burundian franc'),
	('BMD', 2, 'Bermudian dollar'),
	('BND', 2, 'Brunei dollar'),
	('BOB', 2, 'Boliviano'),
	('BRL', 2, 'Brazilian real'),
	('BSD', 2, 'Bahamian dollar'),
	('BTN', 2, 'Bhutanese ngultrum'),
	('BWP', 2, 'Botswana pula'),
	('BYN', 2, 'Belarusian ruble'),
	('BZD', 2, 'Belize dollar'),
	('CAD', 2, 'Canadian dollar'),
	('CDF', 2, 'Congolese franc'),
	('CHF', 2, 'Swiss franc'),
	('CLF', 4, 'Unidad de Fomento'),
	('CLP', 0, 'Chilean peso'),
	('CNY', 2, 'Renminbi'),
	('COP', 2, 'Colombian peso'),
	('CRC', 2, 'Costa Rican colon'),
	('CUP', 2, 'Cuban peso'),
	('CVE', 2, 'Cape Verdean escudo'),
	('CZK', 2, 'Czech koruna'),
	('DJF', 0, 'Djiboutian franc'),
	('DKK', 2, 'Danish krone'),
	('DOP', 2, 'Dominican peso'),
	('DZD', 2, 'Algerian dinar'),
	('EGP', 2, 'Egyptian pound'),
	('ERN', 2, 'Eritrean nakfa'),
	('ETB', 2, 'Ethiopian birr'),
	('EUR', 2, 'Euro'),
	('FJD', 2, 'Fiji dollar'),
	('FKP', 2, 'Falkland Islands pound'),
	('GBP', 2, 'Pound sterling'),
	('GEL', 2, 'Georgian lari'),
	('GHS', 2, 'Ghanaian cedi'),
	('GIP', 2, 'Gibraltar pound'),
	('GMD', 2, 'Gambian dalasi'),
	('GNF', 0, 'Guinean franc'),
	('GTQ', 2, 'Guatemalan quetzal'),
	('GYD', 2, 'Guyanese dollar'),
	('HKD', 2, 'Hong Kong dollar'),
	('HNL', 2, 'Honduran lempira'),
	('HTG', 2, 'Haitian gourde'),
	('HUF', 2, 'Hungarian forint'),
	('IDR', 2, 'Indonesian rupiah'),
	('ILS', 2, 'Israeli new shekel'),
	('INR', 2, 'Indian rupee'),
	('IQD', 3, 'Iraqi dinar'),
	('IRR', 2, 'Iranian rial'),
	('ISK', 0, 'Icelandic krona'),
	('JMD', 2, 'Jamaican dollar'),
	('JOD', 3, 'Jordanian dinar'),
	('JPY', 0, 'Japanese yen'),
	('KES', 2, 'Kenyan shilling'),
	('KGS', 2, 'Kyrgyzstani som'),
	('KHR', 2, 'Cambodian riel'),
	('KMF', 0, 'Comoro franc'),
	('KPW', 2, 'North Korean won'),
	('KRW', 0, 'South Korean won'),
	('KWD', 3, 'Kuwaiti dinar'),
	('KYD', 2, 'Cayman Islands dollar'),
	('KZT', 2, 'Kazakhstani tenge'),
	('LAK', 2, 'Lao kip'),
	('LBP', 2, 'Lebanese pound'),
	('LKR', 2, 'Sri Lankan rupee'),
	('LRD', 2, 'Liberian dollar'),
	('LSL', 2, 'Lesotho loti'),
	('LYD', 3, 'Libyan dinar'),
	('MAD', 2, 'Moroccan dirham'),
	('MDL', 2, 'Moldovan leu'),
	('MGA', 2, 'Malagasy ariary'),
	('MKD', 2, 'Macedonian denar'),
	('MMK', 2, 'Myanmar kyat'),
	('MNT', 2, 'Mongolian togrog'),
	('MOP', 2, 'Macanese pataca'),
	('MRU', 2, 'Mauritanian ouguiya'),
	('MUR', 2, 'Mauritian rupee'),
	('MVR', 2, 'Maldivian rufiyaa'),
	('MWK', 2, 'Malawian kwacha'),
	('MXN', 2, 'Mexican peso'),
	('MYR', 2, 'Malaysian ringgit'),
	('MZN', 2, 'Mozambican metical'),
	('NAD', 2, 'Namibian dollar'),
	('NGN', 2, 'Nigerian naira'),
	('NIO', 2, 'Nicaraguan cordoba'),
	('NOK', 2, 'Norwegian krone'),
	('NPR', 2, 'Nepalese rupee'),
	('NZD', 2, 'New Zealand dollar'),
	('OMR', 3, 'Omani rial'),
	('PAB', 2, 'Panamanian balboa'),
	('PEN', 2, 'Peruvian sol'),
	('PGK', 2, 'Papua New Guinean kina'),
	('PHP', 2, 'Philippine peso'),
	('PKR', 2, 'Pakistani rupee'),
	('PLN', 2, 'Polish zloty'),
	('PYG', 0, 'Paraguayan guarani'),
	('QAR', 2, 'Qatari riyal'),
	('RON', 2, 'Romanian leu'),
	('RSD', 2, 'Serbian dinar'),
	('RUB', 2, 'Russian ruble'),
	('RWF', 0, 'Rwandan franc'),
	('SAR', 2, 'Saudi riyal'),
	('SBD', 2, 'Solomon Islands dollar'),
	('SCR', 2, 'Seychelles rupee'),
	('SDG', 2, 'Sudanese pound'),
	('SEK', 2, 'Swedish krona'),
	('SGD', 2, 'Singapore dollar'),
	('SHP', 2, 'Saint Helena pound'),
	('SLE', 2, 'Sierra Leonean leone'),
	('SOS', 2, 'Somali shilling'),
	('SRD', 2, 'Surinamese dollar'),
	('SSP', 2, 'South Sudanese pound'),
	('STN', 2, 'Sao Tome and Principe dobra'),
	('SVC', 2, 'Salvadoran colon'),
	('SYP', 2, 'Syrian pound'),
	('SZL', 2, 'Swazi lilangeni'),
	('THB', 2, 'Thai baht'),
	('TJS', 2, 'Tajikistani somoni'),
	('TMT', 2, 'Turkmenistan manat'),
	('TND', 3, 'Tunisian dinar'),
	('TOP', 2, 'Tongan paanga'),
	('TRY', 2, 'Turkish lira'),
	('TTD', 2, 'Trinidad and Tobago dollar'),
	('TWD', 2, 'New Taiwan dollar'),
	('TZS', 2, 'Tanzanian shilling'),
	('UAH', 2, 'Ukrainian hryvnia'),
	('UGX', 0, 'Ugandan shilling'),
	('USD', 2, 'United States dollar'),
	('UYU', 2, 'Uruguayan peso'),
	('UYW', 4, 'Unidad previsional'),
	('UZS', 2, 'Uzbekistan sum'),
	('VED', 2, 'Venezuelan digital bolivar'),
	('VES', 2, 'Venezuelan sovereign bolivar'),
	('VND', 0, 'Vietnamese dong'),
	('VUV', 0, 'Vanuatu vatu'),
	('WST', 2, 'Samoan tala'),
	('XAF', 0, 'CFA franc BEAC'),
	('XCD', 2, 'East Caribbean dollar'),
	('XCG', 2, 'Caribbean guilder'),
	('XOF', 0, 'CFA franc BCEAO'),
	('XPF', 0, 'CFP franc'),
	('YER', 2, 'Yemeni rial'),
	('ZAR', 2, 'South African rand'),
	('ZMW', 2, 'Zambian kwacha'),
	('ZWG', 2, 'Zimbabwe gold');

CREATE TABLE plum.company (
	company_id	bigserial PRIMARY KEY,
	name		text NOT NULL CHECK (name <> ''),
	base_currency text NOT NULL REFERENCES plum.currency (code),
	scale		smallint NOT NULL CHECK (scale BETWEEN 0 AND 4),
	points_validity interval NOT NULL CHECK (points_validity > interval '0'),
	code_denominations numeric[] NOT NULL,
	max_grant	numeric NOT NULL CHECK (max_grant > 0),
	created		timestamptz NOT NULL
);
COMMENT ON TABLE plum.company IS 'Tenants. 1 point = 1 unit of the base currency. Written only by plum.create_company().';
COMMENT ON COLUMN plum.company.company_id IS 'Company id.';
COMMENT ON COLUMN plum.company.name IS 'Company name.';
COMMENT ON COLUMN plum.company.base_currency IS 'ISO 4217 base currency; 1 point = 1 unit of it.';
COMMENT ON COLUMN plum.company.scale IS 'Decimals of the base currency (its minor unit); every amount is exact to it.';
COMMENT ON COLUMN plum.company.points_validity IS 'How long a points grant lives from its issue (default 1 year).';
COMMENT ON COLUMN plum.company.code_denominations IS 'Denominations codes may be issued in.';
COMMENT ON COLUMN plum.company.max_grant IS 'The largest single points grant.';
COMMENT ON COLUMN plum.company.created IS 'When the company was created (plum clock).';

CREATE TABLE plum.admin (
	admin_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum.company,
	email		plum.recipient NOT NULL,
	role		text NOT NULL CHECK (role IN ('super_admin', 'admin')),
	threshold	numeric NOT NULL CHECK (threshold >= 0),
	created_total numeric NOT NULL DEFAULT 0 CHECK (created_total >= 0),
	pool		numeric NOT NULL DEFAULT 0,
	created		timestamptz NOT NULL,
	UNIQUE (company_id, email)
);
COMMENT ON TABLE plum.admin IS 'Admins of a company, each with a threshold (the most value it may ever create) and an undistributed pool that never expires. Thresholds and pools are enforced by trigger on every write.';
COMMENT ON COLUMN plum.admin.admin_id IS 'Admin id.';
COMMENT ON COLUMN plum.admin.company_id IS 'The company the admin belongs to.';
COMMENT ON COLUMN plum.admin.email IS 'The admin''s email address.';
COMMENT ON COLUMN plum.admin.role IS 'super_admin (may change thresholds) or admin.';
COMMENT ON COLUMN plum.admin.threshold IS 'The most value this admin may ever create.';
COMMENT ON COLUMN plum.admin.created_total IS 'Value this admin has created so far (never above threshold).';
COMMENT ON COLUMN plum.admin.pool IS 'Undistributed value: created and not yet handed out (never below zero; never expires).';
COMMENT ON COLUMN plum.admin.created IS 'When the admin was added (plum clock).';

-- Enforce thresholds and pools on every write of plum.admin, whoever writes it.
CREATE FUNCTION plum.admin_guard() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_scale smallint;
BEGIN
	SELECT c.scale INTO v_scale FROM plum.company c WHERE c.company_id = NEW.company_id;
	IF NEW.created_total > NEW.threshold THEN
		IF TG_OP = 'UPDATE' AND NEW.created_total > OLD.created_total THEN
			PERFORM plum.raise('PU004', 'admin threshold exceeded',
				format('Admin %s has a threshold of %s and has created %s; creating %s more would make %s.',
					NEW.admin_id, round(NEW.threshold, v_scale), round(OLD.created_total, v_scale),
					round(NEW.created_total - OLD.created_total, v_scale), round(NEW.created_total, v_scale)),
				'A super admin of the company can raise the threshold with plum.set_threshold().');
		ELSE
			PERFORM plum.raise('PU004', 'admin threshold exceeded',
				format('Admin %s would have a threshold of %s but has created %s.',
					NEW.admin_id, round(NEW.threshold, v_scale), round(NEW.created_total, v_scale)),
				'A threshold cannot be set below what the admin has already created.');
		END IF;
	END IF;
	IF NEW.pool < 0 THEN
		PERFORM plum.raise('PU001', 'insufficient pool',
			format('Admin %s''s pool would be %s.', NEW.admin_id, round(NEW.pool, v_scale)),
			'Create points into the pool with plum.create_points() first.');
	END IF;
	IF NEW.pool > NEW.created_total THEN
		PERFORM plum.raise('PU009', 'pool above what the admin created',
			format('Admin %s''s pool would be %s but it has created %s.', NEW.admin_id,
				round(NEW.pool, v_scale), round(NEW.created_total, v_scale)));
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION plum.admin_guard() IS
	'Trigger: an admin never creates more than its threshold (PU004), its pool never goes below zero (PU001) nor above what it created.';
CREATE TRIGGER admin_guard BEFORE INSERT OR UPDATE ON plum.admin
	FOR EACH ROW EXECUTE FUNCTION plum.admin_guard();

-- Validate an amount of a company's currency: NULL (22004), NaN/infinite/zero/negative/too many decimals (PU008).
CREATE FUNCTION plum.valid_amount(amount numeric, scale smallint, what text DEFAULT 'amount') RETURNS numeric
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, plum, pg_temp
	RETURN round(plum.check_amount(amount, scale, what)::numeric / (10::numeric ^ scale), scale);
COMMENT ON FUNCTION plum.valid_amount(numeric, smallint, text) IS
	'Internal: the amount rounded to the currency''s decimals after plum.check_amount() refused anything invalid.';

CREATE FUNCTION plum.create_company(name text, base_currency text, points_validity interval DEFAULT '1 year',
		code_denominations numeric[] DEFAULT '{5,10,50,100,500,1000,5000}', max_grant numeric DEFAULT 50000)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_currency plum.currency;
	v_denoms numeric[];
	v_id bigint;
	v_bad numeric;
BEGIN
	PERFORM plum.not_null(name, 'name');
	PERFORM plum.not_null(base_currency, 'base_currency');
	PERFORM plum.not_null(points_validity, 'points_validity');
	PERFORM plum.not_null(code_denominations, 'code_denominations');
	PERFORM plum.not_null(max_grant, 'max_grant');
	IF btrim(name) = '' THEN
		PERFORM plum.raise('22023', 'company name must not be empty');
	END IF;
	SELECT * INTO v_currency FROM plum.currency c WHERE c.code = upper(btrim(base_currency));
	IF NOT FOUND THEN
		PERFORM plum.raise('22023', format('unknown currency "%s"', base_currency),
			'The base currency must be an ISO 4217 code listed in plum.currency.',
			'Use a code such as USD, EUR, JPY or KWD.');
	END IF;
	IF points_validity <= interval '0' OR isfinite(points_validity) IS NOT TRUE THEN
		PERFORM plum.raise('22023', 'points validity must be positive',
			format('The points validity is %s.', points_validity));
	END IF;
	IF array_ndims(code_denominations) > 1 THEN
		PERFORM plum.raise('22023', 'code denominations must be a one-dimensional array',
			format('The denominations are %s.', code_denominations));
	END IF;
	IF cardinality(code_denominations) = 0 OR array_position(code_denominations, NULL) IS NOT NULL THEN
		PERFORM plum.raise('PU008', 'invalid code denominations',
			format('The denominations are %s; give at least one and no NULL.', code_denominations));
	END IF;
	SELECT array_agg(plum.valid_amount(d, v_currency.minor_unit, 'denomination') ORDER BY d)
		INTO v_denoms FROM unnest(code_denominations) AS d;
	SELECT d INTO v_bad FROM unnest(v_denoms) d GROUP BY d HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		PERFORM plum.raise('PU008', 'duplicate code denomination',
			format('The denomination %s is listed more than once.', v_bad));
	END IF;
	max_grant := plum.valid_amount(max_grant, v_currency.minor_unit, 'largest grant');

	INSERT INTO plum.company (name, base_currency, scale, points_validity, code_denominations, max_grant, created)
		VALUES (btrim(create_company.name), v_currency.code, v_currency.minor_unit, create_company.points_validity,
			v_denoms, create_company.max_grant, plum.now())
		RETURNING company_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.create_company(text, text, interval, numeric[], numeric) IS
	'Create a company (tenant) with an ISO 4217 base currency (1 point = 1 unit), points validity, code denominations and largest grant; returns its id.';

CREATE FUNCTION plum.add_admin(company_id bigint, email plum.recipient, role text DEFAULT 'admin', threshold numeric DEFAULT 0)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company plum.company;
	v_id bigint;
BEGIN
	PERFORM plum.not_null(company_id, 'company_id');
	PERFORM plum.not_null(email, 'email');
	PERFORM plum.not_null(role, 'role');
	PERFORM plum.not_null(threshold, 'threshold');
	SELECT * INTO v_company FROM plum.company c WHERE c.company_id = add_admin.company_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown company', format('There is no company %s.', add_admin.company_id));
	END IF;
	IF plum.recipient_kind(email) <> 'email' THEN
		PERFORM plum.raise('22023', 'an admin must have an email address',
			format('"%s" is a phone number.', email));
	END IF;
	IF role NOT IN ('super_admin', 'admin') THEN
		PERFORM plum.raise('22023', format('invalid admin role "%s"', role), NULL,
			'The role is super_admin or admin.');
	END IF;
	IF threshold < 0 THEN
		PERFORM plum.raise('PU008', 'threshold must not be negative', format('The threshold is %s.', threshold));
	ELSIF threshold <> 0 THEN
		threshold := plum.valid_amount(threshold, v_company.scale, 'threshold');
	END IF;
	PERFORM 1 FROM plum.admin a WHERE a.company_id = add_admin.company_id AND a.email = add_admin.email;
	IF FOUND THEN
		PERFORM plum.raise('23505', 'admin already exists',
			format('Company %s already has an admin %s.', add_admin.company_id, email));
	END IF;
	INSERT INTO plum.admin (company_id, email, role, threshold, created)
		VALUES (add_admin.company_id, add_admin.email, add_admin.role, round(add_admin.threshold, v_company.scale), plum.now())
		RETURNING admin_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.add_admin(bigint, plum.recipient, text, numeric) IS
	'Add an admin (role super_admin or admin) to a company with a threshold: the most value it may ever create. Returns the admin id.';

CREATE FUNCTION plum.set_threshold(by_admin bigint, admin_id bigint, threshold numeric) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_by plum.admin;
	v_target plum.admin;
	v_scale smallint;
BEGIN
	PERFORM plum.not_null(by_admin, 'by_admin');
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(threshold, 'threshold');
	SELECT * INTO v_by FROM plum.admin a WHERE a.admin_id = set_threshold.by_admin;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', by_admin));
	END IF;
	SELECT * INTO v_target FROM plum.admin a WHERE a.admin_id = set_threshold.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', set_threshold.admin_id));
	END IF;
	IF v_target.company_id <> v_by.company_id THEN
		PERFORM plum.raise('PU009', 'admin belongs to another company',
			format('Admin %s is in company %s; admin %s is in company %s.', by_admin, v_by.company_id,
				set_threshold.admin_id, v_target.company_id));
	END IF;
	IF v_by.role <> 'super_admin' THEN
		PERFORM plum.raise('PU009', 'only a super admin may change thresholds',
			format('Admin %s is an %s.', by_admin, v_by.role),
			'Ask a super admin of the company.');
	END IF;
	SELECT c.scale INTO v_scale FROM plum.company c WHERE c.company_id = v_by.company_id;
	IF threshold < 0 THEN
		PERFORM plum.raise('PU008', 'threshold must not be negative', format('The threshold is %s.', threshold));
	ELSIF threshold <> 0 THEN
		threshold := plum.valid_amount(threshold, v_scale, 'threshold');
	END IF;
	UPDATE plum.admin a SET threshold = round(set_threshold.threshold, v_scale) WHERE a.admin_id = set_threshold.admin_id;
END
$$;
COMMENT ON FUNCTION plum.set_threshold(bigint, bigint, numeric) IS
	'A super admin (by_admin) sets the threshold of an admin of the same company; never below what that admin already created (PU004).';

CREATE FUNCTION plum.create_points(admin_id bigint, amount numeric) RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company bigint;
	v_scale smallint;
	v_pool numeric;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	SELECT a.company_id, c.scale INTO v_company, v_scale
		FROM plum.admin a JOIN plum.company c USING (company_id) WHERE a.admin_id = create_points.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', create_points.admin_id));
	END IF;
	amount := plum.valid_amount(amount, v_scale);
	-- the row lock serialises one admin's creations; the trigger enforces the threshold
	UPDATE plum.admin a SET created_total = a.created_total + amount, pool = a.pool + amount
		WHERE a.admin_id = create_points.admin_id RETURNING a.pool INTO v_pool;
	INSERT INTO plum.journal (company_id, at, kind, amount, admin_id)
		VALUES (v_company, plum.now(), 'create', amount, create_points.admin_id);
	RETURN round(v_pool, v_scale);
END
$$;
COMMENT ON FUNCTION plum.create_points(bigint, numeric) IS
	'Create points into the admin''s undistributed pool (never expires), within its threshold (PU004); returns the new pool.';
-- Points: accounts (one wallet row per recipient), the append-only ledger, idempotency keys,
-- and the points functions.

CREATE TABLE plum.account (
	company_id	bigint NOT NULL REFERENCES plum.company,
	recipient	plum.recipient NOT NULL,
	lots		plum.wallet COMPRESSION lz4 NOT NULL,
	next_expiry	timestamptz GENERATED ALWAYS AS (plum.wallet_next_expiry(lots, '-infinity'::timestamptz)) STORED,
	PRIMARY KEY (company_id, recipient)
) WITH (fillfactor = 80);
CREATE INDEX account_next_expiry ON plum.account (next_expiry);
COMMENT ON TABLE plum.account IS 'One row per recipient with points: the wallet of its lots. Written only by plum''s functions; read plum.wallets and plum.point_lots.';
COMMENT ON COLUMN plum.account.company_id IS 'The company whose points these are.';
COMMENT ON COLUMN plum.account.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON COLUMN plum.account.lots IS 'The wallet: the lots not yet consumed, in FIFO order (may hold lots expired since the last write until the sweep). Large wallets are TOASTed with lz4, several times cheaper to rewrite than pglz.';
COMMENT ON COLUMN plum.account.next_expiry IS 'Earliest expiry among the stored lots: when the sweep next has work for this wallet.';

CREATE TABLE plum.journal (
	entry_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL,
	at			timestamptz NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('create', 'give', 'redeem', 'expire', 'restore',
						'code_issue', 'code_redeem', 'code_cancel', 'code_expire',
						'link_create', 'link_redeem', 'link_cancel', 'reserve', 'unreserve')),
	amount		numeric NOT NULL CHECK (amount >= 0),
	admin_id	bigint,
	recipient	plum.recipient,
	lot_id		bigint,
	redemption_id bigint,
	reference	text,
	note		text,
	idempotency_key text,
	lots		plum.wallet COMPRESSION lz4,
	campaign_id	bigint,
	item_id		bigint,
	code		plum.code,
	token		text,
	balance_after numeric
);
CREATE INDEX journal_redemption ON plum.journal (redemption_id) WHERE redemption_id IS NOT NULL;
COMMENT ON TABLE plum.journal IS 'The append-only ledger: one row per movement of value. UPDATE, DELETE and TRUNCATE are refused. Read it through plum.ledger.';
COMMENT ON COLUMN plum.journal.entry_id IS 'Entry id; a grant''s entry id is its lot id, a redemption''s is its redemption id.';
COMMENT ON COLUMN plum.journal.company_id IS 'The company.';
COMMENT ON COLUMN plum.journal.at IS 'When (plum clock).';
COMMENT ON COLUMN plum.journal.kind IS 'create, give, redeem, expire, restore (points); code_* and link_* (codes and links); reserve, unreserve (pool value held for a scheduled points grant, and given back at its release or cancellation).';
COMMENT ON COLUMN plum.journal.amount IS 'The value moved (never negative; the kind gives the direction).';
COMMENT ON COLUMN plum.journal.admin_id IS 'The admin whose pool was used (create, give).';
COMMENT ON COLUMN plum.journal.recipient IS 'The recipient whose wallet changed (give, redeem, expire, restore).';
COMMENT ON COLUMN plum.journal.lot_id IS 'The lot created by a grant.';
COMMENT ON COLUMN plum.journal.redemption_id IS 'The redemption a restore (or the expiry of restored points) belongs to.';
COMMENT ON COLUMN plum.journal.reference IS 'The caller''s reference, e.g. an order id.';
COMMENT ON COLUMN plum.journal.note IS 'A free note given with a grant.';
COMMENT ON COLUMN plum.journal.idempotency_key IS 'The idempotency key of the call, if any.';
COMMENT ON COLUMN plum.journal.lots IS 'The lot portions involved: taken by a redemption, restored by a reversal, or expired.';
COMMENT ON COLUMN plum.journal.campaign_id IS 'The campaign of a code or link movement.';
COMMENT ON COLUMN plum.journal.item_id IS 'The catalog item a redemption was for, if named.';
COMMENT ON COLUMN plum.journal.code IS 'The code of a code movement (code_redeem, code_cancel, code_expire).';
COMMENT ON COLUMN plum.journal.token IS 'The link of a link movement (link_create, link_redeem, link_cancel).';
COMMENT ON COLUMN plum.journal.balance_after IS 'The code''s balance after this movement (code_redeem).';
CREATE INDEX journal_code ON plum.journal (code) WHERE code IS NOT NULL;

-- The ledger is append-only, for everyone.
CREATE FUNCTION plum.journal_append_only() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum.raise('PU009', 'the ledger is append-only',
		format('%s on plum.journal is not permitted.', TG_OP),
		'Record a correcting movement with plum''s functions instead (e.g. plum.reverse_redemption()).');
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION plum.journal_append_only() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE on the ledger (PU009).';
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON plum.journal
	FOR EACH ROW EXECUTE FUNCTION plum.journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON plum.journal
	FOR EACH STATEMENT EXECUTE FUNCTION plum.journal_append_only();

CREATE TABLE plum.idempotency (
	company_id	bigint NOT NULL,
	key			text NOT NULL,
	operation	text NOT NULL,
	arguments	text NOT NULL,
	result_entry bigint NOT NULL,
	at			timestamptz NOT NULL,
	PRIMARY KEY (company_id, key)
);
COMMENT ON TABLE plum.idempotency IS 'Idempotency keys (per company): the first call''s operation, arguments and result entry. A retry with the same arguments returns that result; other arguments raise PU006.';
COMMENT ON COLUMN plum.idempotency.company_id IS 'The company the key belongs to.';
COMMENT ON COLUMN plum.idempotency.key IS 'The caller''s idempotency key.';
COMMENT ON COLUMN plum.idempotency.operation IS 'The function first called with the key.';
COMMENT ON COLUMN plum.idempotency.arguments IS 'The first call''s arguments, normalised.';
COMMENT ON COLUMN plum.idempotency.result_entry IS 'The ledger entry that is the first call''s result.';
COMMENT ON COLUMN plum.idempotency.at IS 'When the key was first used (plum clock).';

-- Claim an idempotency key for entry_id. NULL: this call owns the key and goes on.
-- Otherwise the first call's result entry (same operation and arguments) or PU006.
-- A concurrent first call with the key makes this wait for its outcome.
CREATE FUNCTION plum.claim_key(company_id bigint, key text, operation text, arguments text, entry_id bigint)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_first plum.idempotency;
BEGIN
	IF length(key) = 0 OR length(key) > 200 THEN
		PERFORM plum.raise('22023', 'invalid idempotency key',
			format('The key is %s characters long; it must have 1 to 200.', length(key)));
	END IF;
	INSERT INTO plum.idempotency AS i (company_id, key, operation, arguments, result_entry, at)
		VALUES (claim_key.company_id, claim_key.key, claim_key.operation, claim_key.arguments, claim_key.entry_id, plum.now())
		ON CONFLICT ON CONSTRAINT idempotency_pkey DO NOTHING;
	IF FOUND THEN
		RETURN NULL;
	END IF;
	SELECT * INTO STRICT v_first FROM plum.idempotency i
		WHERE i.company_id = claim_key.company_id AND i.key = claim_key.key;
	IF v_first.operation <> claim_key.operation OR v_first.arguments <> claim_key.arguments THEN
		PERFORM plum.raise('PU006', 'idempotency key reused with other arguments',
			format('The key "%s" was first used for %s(%s); this call is %s(%s).', key,
				v_first.operation, v_first.arguments, operation, arguments),
			'Use a new key for a new operation.');
	END IF;
	RETURN v_first.result_entry;
END
$$;
COMMENT ON FUNCTION plum.claim_key(bigint, text, text, text, bigint) IS
	'Internal: claim an idempotency key; NULL when this call owns it, else the first call''s result entry, or PU006 for other arguments.';

-- When a grant made at at expires: in UTC, so the session's TimeZone never changes it.
CREATE FUNCTION plum.expiry_of(at timestamptz, validity interval) RETURNS timestamptz
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN ((at AT TIME ZONE 'UTC') + validity) AT TIME ZONE 'UTC';
COMMENT ON FUNCTION plum.expiry_of(timestamptz, interval) IS
	'Internal: the expiry of a grant issued at a given instant, computed in UTC.';

-- Lock a recipient's account (if any) and record the expiry of lots expired by at.
CREATE FUNCTION plum.settle_account(company_id bigint, recipient plum.recipient, at timestamptz)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_lots plum.wallet;
	v_next timestamptz;
	v_gone plum.wallet;
BEGIN
	SELECT a.lots, a.next_expiry INTO v_lots, v_next FROM plum.account a
		WHERE a.company_id = settle_account.company_id AND a.recipient = settle_account.recipient
		FOR UPDATE;
	IF FOUND AND v_next <= at THEN
		v_gone := plum.wallet_expired(v_lots, at);
		UPDATE plum.account a SET lots = plum.wallet_live(v_lots, at)
			WHERE a.company_id = settle_account.company_id AND a.recipient = settle_account.recipient;
		INSERT INTO plum.journal (company_id, at, kind, amount, recipient, lots)
			VALUES (settle_account.company_id, settle_account.at, 'expire', plum.wallet_total(v_gone),
				settle_account.recipient, v_gone);
	END IF;
END
$$;
COMMENT ON FUNCTION plum.settle_account(bigint, plum.recipient, timestamptz) IS
	'Internal: lock a recipient''s wallet and record (as breakage) the lots that have expired by the given instant.';

CREATE FUNCTION plum.give_points(admin_id bigint, recipient plum.recipient, amount numeric,
		note text DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company bigint;
	v_scale smallint;
	v_validity interval;
	v_max numeric;
	v_now timestamptz := plum.now();
	v_entry bigint;
	v_prior bigint;
	v_pool numeric;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(recipient, 'recipient');
	SELECT a.company_id, c.scale, c.points_validity, c.max_grant INTO v_company, v_scale, v_validity, v_max
		FROM plum.admin a JOIN plum.company c USING (company_id) WHERE a.admin_id = give_points.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', give_points.admin_id));
	END IF;
	amount := plum.valid_amount(amount, v_scale);
	IF amount > v_max THEN
		PERFORM plum.raise('PU008', 'amount exceeds the largest grant',
			format('The amount is %s; the largest grant of company %s is %s.', amount, v_company, round(v_max, v_scale)),
			'Split the grant, or raise the company''s largest grant.');
	END IF;
	v_entry := nextval('plum.journal_entry_id_seq');
	IF idempotency_key IS NOT NULL THEN
		v_prior := plum.claim_key(v_company, idempotency_key, 'give_points',
			format('%s, %s, %s, %s', give_points.admin_id, recipient, amount, coalesce(quote_literal(note), 'NULL')), v_entry);
		IF v_prior IS NOT NULL THEN
			RETURN v_prior;
		END IF;
	END IF;
	UPDATE plum.admin a SET pool = a.pool - amount
		WHERE a.admin_id = give_points.admin_id AND a.pool >= amount RETURNING a.pool INTO v_pool;
	IF NOT FOUND THEN
		SELECT a.pool INTO v_pool FROM plum.admin a WHERE a.admin_id = give_points.admin_id;
		PERFORM plum.raise('PU001', 'insufficient pool',
			format('Admin %s''s pool is %s, requested %s.', give_points.admin_id, round(v_pool, v_scale), amount),
			'Create points into the pool with plum.create_points() first.');
	END IF;
	PERFORM plum.settle_account(v_company, recipient, v_now);
	INSERT INTO plum.account AS a (company_id, recipient, lots)
		VALUES (v_company, recipient,
			plum.wallet_add(plum.wallet_empty(v_scale), v_entry, v_now, plum.expiry_of(v_now, v_validity), amount, v_now))
		ON CONFLICT ON CONSTRAINT account_pkey DO UPDATE
		SET lots = plum.wallet_add(plum.wallet_live(a.lots, v_now), v_entry, v_now, plum.expiry_of(v_now, v_validity), amount, v_now);
	INSERT INTO plum.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, lot_id, note, idempotency_key)
		VALUES (v_entry, v_company, v_now, 'give', amount, give_points.admin_id, recipient, v_entry, note, idempotency_key);
	RETURN v_entry;
END
$$;
COMMENT ON FUNCTION plum.give_points(bigint, plum.recipient, numeric, text, text) IS
	'Give points from the admin''s pool to a recipient: a new lot that expires after the company''s points validity. Returns the lot id. Idempotent with a key.';

CREATE FUNCTION plum.give_points_bulk(admin_id bigint, recipients plum.recipient[], amounts numeric[], note text DEFAULT NULL)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company bigint;
	v_scale smallint;
	v_validity interval;
	v_max numeric;
	v_now timestamptz := plum.now();
	v_expiry timestamptz;
	v_n integer;
	v_bad bigint;
	v_total numeric;
	v_pool numeric;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(recipients, 'recipients');
	PERFORM plum.not_null(amounts, 'amounts');
	SELECT a.company_id, c.scale, c.points_validity, c.max_grant INTO v_company, v_scale, v_validity, v_max
		FROM plum.admin a JOIN plum.company c USING (company_id) WHERE a.admin_id = give_points_bulk.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', give_points_bulk.admin_id));
	END IF;
	IF array_ndims(recipients) > 1 OR array_ndims(amounts) > 1 THEN
		PERFORM plum.raise('22023', 'recipients and amounts must be one-dimensional arrays');
	END IF;
	v_n := cardinality(recipients);
	IF v_n <> cardinality(amounts) THEN
		PERFORM plum.raise('22023', 'recipients and amounts differ in length',
			format('There are %s recipients and %s amounts.', v_n, cardinality(amounts)));
	END IF;
	IF v_n = 0 THEN
		RETURN 0;
	END IF;
	SELECT min(i) INTO v_bad FROM unnest(recipients) WITH ORDINALITY AS u(r, i) WHERE r IS NULL;
	IF v_bad IS NOT NULL THEN
		PERFORM plum.raise('22004', format('recipient #%s must not be null', v_bad));
	END IF;
	-- the first amount that is not a valid grant: let valid_amount() say why
	SELECT min(i) INTO v_bad FROM unnest(amounts) WITH ORDINALITY AS u(a, i)
		WHERE a IS NULL OR NOT (a > 0 AND a < 10::numeric ^ (18 - v_scale) AND a = round(a, v_scale));
	IF v_bad IS NOT NULL THEN
		PERFORM plum.valid_amount(amounts[v_bad], v_scale, format('amount #%s', v_bad));
	END IF;
	SELECT min(i) INTO v_bad FROM unnest(amounts) WITH ORDINALITY AS u(a, i) WHERE a > v_max;
	IF v_bad IS NOT NULL THEN
		PERFORM plum.raise('PU008', 'amount exceeds the largest grant',
			format('Amount #%s is %s; the largest grant of company %s is %s.', v_bad,
				round(amounts[v_bad], v_scale), v_company, round(v_max, v_scale)),
			'Split the grant, or raise the company''s largest grant.');
	END IF;
	SELECT sum(a) INTO v_total FROM unnest(amounts) AS a;
	UPDATE plum.admin a SET pool = a.pool - v_total
		WHERE a.admin_id = give_points_bulk.admin_id AND a.pool >= v_total RETURNING a.pool INTO v_pool;
	IF NOT FOUND THEN
		SELECT a.pool INTO v_pool FROM plum.admin a WHERE a.admin_id = give_points_bulk.admin_id;
		PERFORM plum.raise('PU001', 'insufficient pool',
			format('Admin %s''s pool is %s, requested %s in %s grants.', give_points_bulk.admin_id,
				round(v_pool, v_scale), round(v_total, v_scale), v_n),
			'Create points into the pool with plum.create_points() first.');
	END IF;
	v_expiry := plum.expiry_of(v_now, v_validity);

	-- lock every existing wallet of these recipients in one pass, in recipient order: the one
	-- canonical order, so two bulk grants with overlapping recipients never deadlock
	PERFORM 1 FROM plum.account a JOIN (SELECT DISTINCT r FROM unnest(recipients) AS r) t ON a.recipient = t.r
		WHERE a.company_id = v_company ORDER BY a.recipient FOR UPDATE OF a;

	-- record the expiry of lots that these recipients' wallets hold past their expiry
	WITH targets AS (SELECT DISTINCT r FROM unnest(recipients) AS r),
	due AS (
		SELECT a.recipient, a.lots FROM plum.account a JOIN targets t ON a.recipient = t.r
		WHERE a.company_id = v_company AND a.next_expiry <= v_now),
	upd AS (
		UPDATE plum.account a SET lots = plum.wallet_live(due.lots, v_now) FROM due
		WHERE a.company_id = v_company AND a.recipient = due.recipient
		RETURNING a.recipient, plum.wallet_expired(due.lots, v_now) AS gone)
	INSERT INTO plum.journal (company_id, at, kind, amount, recipient, lots)
		SELECT v_company, v_now, 'expire', plum.wallet_total(upd.gone), upd.recipient, upd.gone FROM upd;

	-- one ledger entry per grant; one lot per recipient (grants of one call share their expiry, so they merge)
	WITH g AS MATERIALIZED (
		SELECT u.r, round(u.a, v_scale) AS a, nextval('plum.journal_entry_id_seq') AS e
		FROM unnest(recipients, amounts) AS u(r, a)),
	j AS (
		INSERT INTO plum.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, lot_id, note)
		SELECT g.e, v_company, v_now, 'give', g.a, give_points_bulk.admin_id, g.r, g.e, note FROM g),
	per AS (SELECT g.r, min(g.e) AS e, sum(g.a) AS a FROM g GROUP BY g.r)
	INSERT INTO plum.account AS acc (company_id, recipient, lots)
		SELECT v_company, per.r, plum.wallet_add(plum.wallet_empty(v_scale), per.e, v_now, v_expiry, per.a, v_now)
		FROM per ORDER BY per.r
		ON CONFLICT ON CONSTRAINT account_pkey DO UPDATE
		SET lots = (SELECT plum.wallet_add(plum.wallet_live(acc.lots, v_now), l.lot_id, l.issued_at, l.expires_at, l.amount, v_now)
					FROM plum.wallet_lots(EXCLUDED.lots) AS l);
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION plum.give_points_bulk(bigint, plum.recipient[], numeric[], text) IS
	'Give many grants at once from the admin''s pool (recipients[i] gets amounts[i]); all or nothing. Returns the number of grants made.';

CREATE FUNCTION plum.redeem_points(company_id bigint, recipient plum.recipient, amount numeric,
		reference text DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS 'MODULE_PATHNAME', 'plum_redeem_points';
COMMENT ON FUNCTION plum.redeem_points(bigint, plum.recipient, numeric, text, text) IS
	'Redeem points from a recipient''s wallet, oldest lots first, never expired ones; all or nothing (PU001 when short). Returns the redemption id. Idempotent with a key.';

CREATE FUNCTION plum.points_balance(company_id bigint, recipient plum.recipient) RETURNS numeric
	LANGUAGE C STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS 'MODULE_PATHNAME', 'plum_points_balance';
COMMENT ON FUNCTION plum.points_balance(bigint, plum.recipient) IS
	'A recipient''s live points balance at plum''s clock (0 without a wallet); expired lots never count.';

CREATE FUNCTION plum.reverse_redemption(redemption_id bigint, amount numeric DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_red plum.journal;
	v_scale smallint;
	v_now timestamptz := plum.now();
	v_entry bigint;
	v_prior bigint;
	v_done numeric;
	v_left numeric;
	v_lots plum.wallet;
	v_res record;
	v_gone plum.wallet;
BEGIN
	PERFORM plum.not_null(redemption_id, 'redemption_id');
	SELECT * INTO v_red FROM plum.journal j WHERE j.entry_id = reverse_redemption.redemption_id AND j.kind = 'redeem';
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown redemption', format('There is no points redemption %s.', redemption_id));
	END IF;
	SELECT c.scale INTO v_scale FROM plum.company c WHERE c.company_id = v_red.company_id;
	IF amount IS NOT NULL THEN
		amount := plum.valid_amount(amount, v_scale);
	END IF;
	v_entry := nextval('plum.journal_entry_id_seq');
	IF idempotency_key IS NOT NULL THEN
		v_prior := plum.claim_key(v_red.company_id, idempotency_key, 'reverse_redemption',
			format('%s, %s', redemption_id, coalesce(amount::text, 'NULL')), v_entry);
		IF v_prior IS NOT NULL THEN
			RETURN (SELECT round(j.amount, v_scale) FROM plum.journal j WHERE j.entry_id = v_prior);
		END IF;
	END IF;
	-- the wallet's row lock serialises reversals (and redemptions) of this recipient
	PERFORM plum.settle_account(v_red.company_id, v_red.recipient, v_now);
	SELECT a.lots INTO STRICT v_lots FROM plum.account a
		WHERE a.company_id = v_red.company_id AND a.recipient = v_red.recipient;
	SELECT coalesce(sum(j.amount), 0) INTO v_done FROM plum.journal j
		WHERE j.redemption_id = reverse_redemption.redemption_id AND j.kind = 'restore';
	v_left := v_red.amount - v_done;
	IF amount IS NULL THEN
		amount := v_left;
	END IF;
	IF v_left <= 0 OR amount > v_left THEN
		PERFORM plum.raise('PU008', 'amount exceeds what is left to reverse',
			format('Redemption %s took %s; %s was reversed already, %s is left; requested %s.', redemption_id,
				round(v_red.amount, v_scale), round(v_done, v_scale), round(v_left, v_scale), round(amount, v_scale)));
	END IF;
	SELECT * INTO v_res FROM plum.wallet_restore(v_lots, v_red.lots, v_done, amount, v_now);
	UPDATE plum.account a SET lots = v_res.wallet
		WHERE a.company_id = v_red.company_id AND a.recipient = v_red.recipient;
	INSERT INTO plum.journal (entry_id, company_id, at, kind, amount, recipient, redemption_id, idempotency_key, lots)
		VALUES (v_entry, v_red.company_id, v_now, 'restore', amount, v_red.recipient, redemption_id, idempotency_key, v_res.restored);
	v_gone := v_res.expired;
	IF plum.wallet_total(v_gone) > 0 THEN
		-- points restored to lots that have expired since come back as already expired (breakage)
		INSERT INTO plum.journal (company_id, at, kind, amount, recipient, redemption_id, lots)
			VALUES (v_red.company_id, v_now, 'expire', plum.wallet_total(v_gone), v_red.recipient, redemption_id, v_gone);
	END IF;
	RETURN round(amount, v_scale);
END
$$;
COMMENT ON FUNCTION plum.reverse_redemption(bigint, numeric, text) IS
	'Reverse all (amount NULL) or part of a points redemption: the points go back to the lots they came from, latest expiry first, keeping their expiry (already-expired lots get them back as breakage). Never more than was redeemed (PU008). Returns the amount restored.';

CREATE FUNCTION plum.expire_points() RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_total numeric;
BEGIN
	-- wallets locked by a redemption are skipped: that redemption drops and records their expired lots
	WITH due AS (
		SELECT a.company_id, a.recipient, a.lots FROM plum.account a
		WHERE a.next_expiry <= v_now
		FOR UPDATE SKIP LOCKED),
	upd AS (
		UPDATE plum.account a SET lots = plum.wallet_live(due.lots, v_now) FROM due
		WHERE a.company_id = due.company_id AND a.recipient = due.recipient
		RETURNING a.company_id, a.recipient, plum.wallet_expired(due.lots, v_now) AS gone),
	j AS (
		INSERT INTO plum.journal (company_id, at, kind, amount, recipient, lots)
		SELECT upd.company_id, v_now, 'expire', plum.wallet_total(upd.gone), upd.recipient, upd.gone FROM upd
		RETURNING amount)
	SELECT coalesce(sum(j.amount), 0) INTO v_total FROM j;
	RETURN v_total;
END
$$;
COMMENT ON FUNCTION plum.expire_points() IS
	'The expiry sweep: records lots expired by plum''s clock as breakage in the ledger and drops them from wallets. Idempotent, safe beside redemptions (skips wallets they hold). Returns the amount expired now. Run it from pg_cron.';
-- Views for DBAs and BI tools: stable names and columns (SPEC, "Views").

CREATE VIEW plum.admins AS
	SELECT a.admin_id, a.company_id, a.email, a.role,
		round(a.threshold, c.scale) AS threshold,
		round(a.created_total, c.scale) AS created,
		round(a.pool, c.scale) AS pool,
		round(a.threshold - a.created_total, c.scale) AS headroom,
		c.base_currency AS currency,
		a.created AS created_at
	FROM plum.admin a JOIN plum.company c USING (company_id);
COMMENT ON VIEW plum.admins IS 'Admins with their threshold, the value they created so far, and their undistributed pool.';
COMMENT ON COLUMN plum.admins.admin_id IS 'Admin id.';
COMMENT ON COLUMN plum.admins.company_id IS 'Company id.';
COMMENT ON COLUMN plum.admins.email IS 'The admin''s email address.';
COMMENT ON COLUMN plum.admins.role IS 'super_admin or admin.';
COMMENT ON COLUMN plum.admins.threshold IS 'The most value the admin may ever create.';
COMMENT ON COLUMN plum.admins.created IS 'Value the admin has created so far (counts against the threshold).';
COMMENT ON COLUMN plum.admins.pool IS 'Undistributed value (never expires).';
COMMENT ON COLUMN plum.admins.headroom IS 'threshold - created: what the admin may still create.';
COMMENT ON COLUMN plum.admins.currency IS 'The company''s base currency.';
COMMENT ON COLUMN plum.admins.created_at IS 'When the admin was added.';

CREATE VIEW plum.wallets AS
	SELECT a.company_id, a.recipient,
		plum.wallet_balance(a.lots, plum.now()) AS balance,
		plum.wallet_next_expiry(a.lots, plum.now()) AS next_expiry,
		c.base_currency AS currency,
		plum.recipient_kind(a.recipient) AS recipient_kind
	FROM plum.account a JOIN plum.company c USING (company_id);
COMMENT ON VIEW plum.wallets IS 'Points wallets: live balance and next expiry as of plum''s clock (expired lots never count, swept or not).';
COMMENT ON COLUMN plum.wallets.company_id IS 'Company id.';
COMMENT ON COLUMN plum.wallets.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON COLUMN plum.wallets.balance IS 'Live balance now.';
COMMENT ON COLUMN plum.wallets.next_expiry IS 'When the next live lot expires (NULL when none).';
COMMENT ON COLUMN plum.wallets.currency IS 'The company''s base currency (1 point = 1 unit).';
COMMENT ON COLUMN plum.wallets.recipient_kind IS 'email or phone.';

CREATE VIEW plum.point_lots AS
	SELECT a.company_id, a.recipient, l.lot_id, l.issued_at, l.expires_at, l.amount, l.remaining
	FROM plum.account a, LATERAL plum.wallet_lots(a.lots) AS l
	WHERE l.expires_at > plum.now();
COMMENT ON VIEW plum.point_lots IS 'Live points lots (not expired at plum''s clock), in FIFO order within each wallet.';
COMMENT ON COLUMN plum.point_lots.company_id IS 'Company id.';
COMMENT ON COLUMN plum.point_lots.recipient IS 'The recipient.';
COMMENT ON COLUMN plum.point_lots.lot_id IS 'Lot id (the ledger entry of the grant; lots with one expiry instant are merged under the smallest id).';
COMMENT ON COLUMN plum.point_lots.issued_at IS 'When the lot was issued.';
COMMENT ON COLUMN plum.point_lots.expires_at IS 'When the lot stops counting.';
COMMENT ON COLUMN plum.point_lots.amount IS 'The lot''s original amount.';
COMMENT ON COLUMN plum.point_lots.remaining IS 'What is left of it.';

CREATE VIEW plum.ledger AS
	SELECT j.entry_id, j.company_id, j.at, j.kind, round(j.amount, c.scale) AS amount, j.admin_id, j.recipient,
		j.lot_id, j.redemption_id, j.reference, j.note, j.idempotency_key,
		c.base_currency AS currency, j.lots, j.campaign_id, j.item_id, j.code, j.token,
		round(j.balance_after, c.scale) AS balance_after
	FROM plum.journal j JOIN plum.company c USING (company_id);
COMMENT ON VIEW plum.ledger IS 'The append-only ledger: every movement of value, one row each.';
COMMENT ON COLUMN plum.ledger.entry_id IS 'Entry id (a grant''s is its lot id; a redemption''s is its redemption id).';
COMMENT ON COLUMN plum.ledger.company_id IS 'Company id.';
COMMENT ON COLUMN plum.ledger.at IS 'When (plum clock).';
COMMENT ON COLUMN plum.ledger.kind IS 'create, give, redeem, expire, restore; code_issue, code_redeem, code_cancel, code_expire; link_create, link_redeem, link_cancel; reserve, unreserve (scheduled points grants).';
COMMENT ON COLUMN plum.ledger.amount IS 'The value moved.';
COMMENT ON COLUMN plum.ledger.admin_id IS 'The admin whose pool was used.';
COMMENT ON COLUMN plum.ledger.recipient IS 'The recipient whose wallet changed.';
COMMENT ON COLUMN plum.ledger.lot_id IS 'The lot a grant created.';
COMMENT ON COLUMN plum.ledger.redemption_id IS 'The redemption a restore belongs to.';
COMMENT ON COLUMN plum.ledger.reference IS 'The caller''s reference (e.g. order id).';
COMMENT ON COLUMN plum.ledger.note IS 'Note given with a grant.';
COMMENT ON COLUMN plum.ledger.idempotency_key IS 'Idempotency key of the call.';
COMMENT ON COLUMN plum.ledger.currency IS 'The company''s base currency.';
COMMENT ON COLUMN plum.ledger.campaign_id IS 'The campaign of a code or link movement.';
COMMENT ON COLUMN plum.ledger.item_id IS 'The catalog item a redemption was for.';
COMMENT ON COLUMN plum.ledger.code IS 'The code of a code movement.';
COMMENT ON COLUMN plum.ledger.token IS 'The link of a link movement.';
COMMENT ON COLUMN plum.ledger.balance_after IS 'A code''s balance after the movement.';
COMMENT ON COLUMN plum.ledger.lots IS 'Lot portions taken, restored or expired (a plum.wallet; cast to text for JSON).';
-- verify_points(): replay the points ledger against wallets and redemptions (plum.verify() in 80_verify.sql unions every area).

CREATE FUNCTION plum.verify_points(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH co AS (
		SELECT c.company_id, c.scale FROM plum.company c
		WHERE verify_points.company_id IS NULL OR c.company_id = verify_points.company_id),
	-- per wallet: what the ledger says it holds (given - redeemed - expired + restored)
	flows AS (
		SELECT j.company_id, j.recipient,
			sum(CASE j.kind WHEN 'give' THEN j.amount WHEN 'restore' THEN j.amount
				WHEN 'redeem' THEN -j.amount WHEN 'expire' THEN -j.amount END) AS held
		FROM plum.journal j JOIN co USING (company_id)
		WHERE j.kind IN ('give', 'redeem', 'expire', 'restore')
		GROUP BY j.company_id, j.recipient),
	wal AS (
		SELECT coalesce(a.company_id, f.company_id) AS company_id, coalesce(a.recipient, f.recipient) AS recipient,
			coalesce(plum.wallet_total(a.lots), 0) AS stored, coalesce(f.held, 0) AS held
		FROM (SELECT a.* FROM plum.account a JOIN co USING (company_id)) a
		FULL JOIN flows f ON f.company_id = a.company_id AND f.recipient = a.recipient),
	red AS (
		SELECT r.company_id, r.entry_id, r.amount,
			coalesce(plum.wallet_total(r.lots), -1) AS taken,
			coalesce((SELECT sum(x.amount) FROM plum.journal x WHERE x.redemption_id = r.entry_id AND x.kind = 'restore'), 0) AS restored
		FROM plum.journal r JOIN co USING (company_id) WHERE r.kind = 'redeem'),
	totals AS (
		SELECT co.company_id, co.scale,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'give'), 0) AS given,
			coalesce((SELECT sum(plum.wallet_total(a.lots)) FROM plum.account a WHERE a.company_id = co.company_id), 0) AS held,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'redeem'), 0) AS redeemed,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'expire'), 0) AS expired,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'restore'), 0) AS restored
		FROM co)
	SELECT wal.company_id, 'wallet', format('%s: wallet holds %s, ledger says %s', wal.recipient, wal.stored, wal.held)
		FROM wal WHERE wal.stored <> wal.held
	UNION ALL
	SELECT red.company_id, 'redemption lots', format('redemption %s: amount %s, lots taken %s', red.entry_id, red.amount, red.taken)
		FROM red WHERE red.amount <> red.taken
	UNION ALL
	SELECT red.company_id, 'over-reversed', format('redemption %s: redeemed %s, restored %s', red.entry_id, red.amount, red.restored)
		FROM red WHERE red.restored > red.amount
	UNION ALL
	SELECT t.company_id, 'given = live + redeemed + expired - restored',
			format('given %s; held %s, redeemed %s, expired %s, restored %s', t.given, t.held, t.redeemed, t.expired, t.restored)
		FROM totals t WHERE t.given <> t.held + t.redeemed + t.expired - t.restored
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify_points(bigint) IS
	'The points part of plum.verify(): wallets against the ledger, redemptions against their lots, given = live + redeemed + expired - restored.';
-- Campaigns and curated catalogs: what codes and links are spent on.

CREATE TABLE plum.campaign (
	campaign_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum.company,
	admin_id	bigint NOT NULL REFERENCES plum.admin,
	name		text NOT NULL CHECK (name <> ''),
	mode		text NOT NULL CHECK (mode IN ('points', 'codes', 'links')),
	expires_at	timestamptz,
	created		timestamptz NOT NULL
);
COMMENT ON TABLE plum.campaign IS 'An admin''s use of one reward mode, with an optional expiry and a curated catalog. Written by plum.create_campaign().';
COMMENT ON COLUMN plum.campaign.campaign_id IS 'Campaign id.';
COMMENT ON COLUMN plum.campaign.company_id IS 'The company.';
COMMENT ON COLUMN plum.campaign.admin_id IS 'The admin who created the campaign.';
COMMENT ON COLUMN plum.campaign.name IS 'Campaign name.';
COMMENT ON COLUMN plum.campaign.mode IS 'points, codes or links.';
COMMENT ON COLUMN plum.campaign.expires_at IS 'When the campaign''s codes and links stop being redeemable (NULL: never).';
COMMENT ON COLUMN plum.campaign.created IS 'When the campaign was created (plum clock).';

CREATE TABLE plum.item (
	item_id		bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum.company,
	kind		text NOT NULL CHECK (kind IN ('gift_card', 'experience', 'merchandise', 'travel', 'charity', 'discount')),
	brand		text NOT NULL CHECK (brand <> ''),
	name		text NOT NULL CHECK (name <> ''),
	category	text NOT NULL CHECK (category <> ''),
	price		numeric CHECK (price > 0),
	min_value	numeric CHECK (min_value > 0),
	max_value	numeric,
	vendor		text,
	active		boolean NOT NULL DEFAULT true,
	created		timestamptz NOT NULL,
	CHECK ((price IS NOT NULL AND min_value IS NULL AND max_value IS NULL)
		OR (price IS NULL AND min_value IS NOT NULL AND max_value IS NOT NULL AND min_value <= max_value))
);
CREATE INDEX item_company ON plum.item (company_id);
COMMENT ON TABLE plum.item IS 'Catalog items a company offers: gift cards, experiences, merchandise, travel, charity, discounts; a fixed price or a value range, in the company''s currency.';
COMMENT ON COLUMN plum.item.item_id IS 'Item id.';
COMMENT ON COLUMN plum.item.company_id IS 'The company offering the item.';
COMMENT ON COLUMN plum.item.kind IS 'gift_card, experience, merchandise, travel, charity or discount.';
COMMENT ON COLUMN plum.item.brand IS 'Brand.';
COMMENT ON COLUMN plum.item.name IS 'Item name.';
COMMENT ON COLUMN plum.item.category IS 'Category.';
COMMENT ON COLUMN plum.item.price IS 'Fixed price (NULL for a flexible value range).';
COMMENT ON COLUMN plum.item.min_value IS 'Smallest value of a flexible item.';
COMMENT ON COLUMN plum.item.max_value IS 'Largest value of a flexible item.';
COMMENT ON COLUMN plum.item.vendor IS 'Vendor that fulfils the item.';
COMMENT ON COLUMN plum.item.active IS 'Whether the item is offered (inactive items are in no catalog).';
COMMENT ON COLUMN plum.item.created IS 'When the item was added (plum clock).';

CREATE TABLE plum.curation (
	rule_id		bigserial PRIMARY KEY,
	campaign_id	bigint NOT NULL REFERENCES plum.campaign,
	include		boolean NOT NULL,
	item_id		bigint REFERENCES plum.item,
	brand		text,
	category	text,
	CHECK (num_nonnulls(item_id, brand, category) = 1)
);
CREATE UNIQUE INDEX curation_rule ON plum.curation (campaign_id, include, coalesce(item_id, 0), lower(coalesce(brand, '')), lower(coalesce(category, '')));
COMMENT ON TABLE plum.curation IS 'Curation rules of a campaign''s catalog: include rules restrict it to what they name, exclude rules remove items. Matched by item, brand or category (brand and category case-insensitively).';
COMMENT ON COLUMN plum.curation.rule_id IS 'Rule id.';
COMMENT ON COLUMN plum.curation.campaign_id IS 'The campaign.';
COMMENT ON COLUMN plum.curation.include IS 'true: include rule; false: exclude rule.';
COMMENT ON COLUMN plum.curation.item_id IS 'The item the rule names, or NULL.';
COMMENT ON COLUMN plum.curation.brand IS 'The brand the rule names, or NULL.';
COMMENT ON COLUMN plum.curation.category IS 'The category the rule names, or NULL.';

CREATE TYPE plum.catalog_item AS (
	item_id		bigint,
	company_id	bigint,
	kind		text,
	brand		text,
	name		text,
	category	text,
	price		numeric,
	min_value	numeric,
	max_value	numeric,
	vendor		text,
	currency	text
);
COMMENT ON TYPE plum.catalog_item IS 'An item of a campaign''s curated catalog, as returned by plum.campaign_catalog().';

CREATE FUNCTION plum.create_campaign(admin_id bigint, name text, mode text, expires_at timestamptz DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin plum.admin;
	v_id bigint;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(name, 'name');
	PERFORM plum.not_null(mode, 'mode');
	SELECT * INTO v_admin FROM plum.admin a WHERE a.admin_id = create_campaign.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', create_campaign.admin_id));
	END IF;
	IF btrim(name) = '' THEN
		PERFORM plum.raise('22023', 'campaign name must not be empty');
	END IF;
	IF mode NOT IN ('points', 'codes', 'links') THEN
		PERFORM plum.raise('22023', format('invalid campaign mode "%s"', mode), NULL, 'The mode is points, codes or links.');
	END IF;
	IF expires_at IS NOT NULL AND (NOT isfinite(expires_at) OR expires_at <= plum.now()) THEN
		PERFORM plum.raise('22023', 'campaign expiry must be a future instant',
			format('The expiry is %s; now is %s.', expires_at, plum.now()));
	END IF;
	INSERT INTO plum.campaign (company_id, admin_id, name, mode, expires_at, created)
		VALUES (v_admin.company_id, create_campaign.admin_id, btrim(create_campaign.name), create_campaign.mode,
			create_campaign.expires_at, plum.now())
		RETURNING campaign_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.create_campaign(bigint, text, text, timestamptz) IS
	'Create a campaign of the admin''s company in one reward mode (points, codes or links) with an optional expiry; returns its id.';

CREATE FUNCTION plum.add_item(company_id bigint, kind text, brand text, name text, category text,
		price numeric DEFAULT NULL, min_value numeric DEFAULT NULL, max_value numeric DEFAULT NULL, vendor text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_scale smallint;
	v_id bigint;
BEGIN
	PERFORM plum.not_null(company_id, 'company_id');
	PERFORM plum.not_null(kind, 'kind');
	PERFORM plum.not_null(brand, 'brand');
	PERFORM plum.not_null(name, 'name');
	PERFORM plum.not_null(category, 'category');
	SELECT c.scale INTO v_scale FROM plum.company c WHERE c.company_id = add_item.company_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown company', format('There is no company %s.', add_item.company_id));
	END IF;
	IF kind NOT IN ('gift_card', 'experience', 'merchandise', 'travel', 'charity', 'discount') THEN
		PERFORM plum.raise('22023', format('invalid item kind "%s"', kind), NULL,
			'The kind is gift_card, experience, merchandise, travel, charity or discount.');
	END IF;
	IF btrim(brand) = '' OR btrim(name) = '' OR btrim(category) = '' THEN
		PERFORM plum.raise('22023', 'item brand, name and category must not be empty');
	END IF;
	IF price IS NOT NULL THEN
		IF min_value IS NOT NULL OR max_value IS NOT NULL THEN
			PERFORM plum.raise('22023', 'an item has a fixed price or a value range, not both',
				format('The price is %s, the range %s to %s.', price, min_value, max_value));
		END IF;
		price := plum.valid_amount(price, v_scale, 'price');
	ELSIF min_value IS NULL OR max_value IS NULL THEN
		PERFORM plum.raise('22023', 'an item needs a fixed price or a value range',
			NULL, 'Give price, or both min_value and max_value.');
	ELSE
		min_value := plum.valid_amount(min_value, v_scale, 'min_value');
		max_value := plum.valid_amount(max_value, v_scale, 'max_value');
		IF min_value > max_value THEN
			PERFORM plum.raise('PU008', 'invalid value range',
				format('The range is %s to %s; the minimum is above the maximum.', min_value, max_value));
		END IF;
	END IF;
	INSERT INTO plum.item (company_id, kind, brand, name, category, price, min_value, max_value, vendor, created)
		VALUES (add_item.company_id, add_item.kind, btrim(add_item.brand), btrim(add_item.name), btrim(add_item.category),
			add_item.price, add_item.min_value, add_item.max_value, nullif(btrim(add_item.vendor), ''), plum.now())
		RETURNING item_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.add_item(bigint, text, text, text, text, numeric, numeric, numeric, text) IS
	'Add a catalog item to a company: kind, brand, name, category, a fixed price or a value range (min_value..max_value), vendor. Returns its id.';

CREATE FUNCTION plum.set_item_active(item_id bigint, active boolean) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum.not_null(item_id, 'item_id');
	PERFORM plum.not_null(active, 'active');
	UPDATE plum.item i SET active = set_item_active.active WHERE i.item_id = set_item_active.item_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown item', format('There is no item %s.', set_item_active.item_id));
	END IF;
END
$$;
COMMENT ON FUNCTION plum.set_item_active(bigint, boolean) IS
	'Offer (true) or withdraw (false) an item: inactive items are in no campaign''s catalog.';

CREATE FUNCTION plum.curate(campaign_id bigint, include boolean, item_id bigint DEFAULT NULL,
		brand text DEFAULT NULL, category text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company bigint;
	v_item_company bigint;
BEGIN
	PERFORM plum.not_null(campaign_id, 'campaign_id');
	PERFORM plum.not_null(include, 'include');
	SELECT c.company_id INTO v_company FROM plum.campaign c WHERE c.campaign_id = curate.campaign_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown campaign', format('There is no campaign %s.', curate.campaign_id));
	END IF;
	IF num_nonnulls(item_id, brand, category) <> 1 THEN
		PERFORM plum.raise('22023', 'a curation rule names exactly one of item, brand or category',
			format('It names %s of them.', num_nonnulls(item_id, brand, category)));
	END IF;
	IF item_id IS NOT NULL THEN
		SELECT i.company_id INTO v_item_company FROM plum.item i WHERE i.item_id = curate.item_id;
		IF NOT FOUND THEN
			PERFORM plum.raise('PU005', 'unknown item', format('There is no item %s.', curate.item_id));
		END IF;
		IF v_item_company <> v_company THEN
			PERFORM plum.raise('PU009', 'item belongs to another company',
				format('Item %s is company %s''s; campaign %s is company %s''s.', curate.item_id, v_item_company,
					curate.campaign_id, v_company));
		END IF;
	ELSIF btrim(coalesce(brand, category)) = '' THEN
		PERFORM plum.raise('22023', 'a curation rule''s brand or category must not be empty');
	END IF;
	INSERT INTO plum.curation (campaign_id, include, item_id, brand, category)
		VALUES (curate.campaign_id, curate.include, curate.item_id, btrim(curate.brand), btrim(curate.category))
		ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION plum.curate(bigint, boolean, bigint, text, text) IS
	'Add a curation rule to a campaign''s catalog: include (true) or exclude (false) one item, a brand or a category. Adding a rule twice changes nothing.';

-- Whether an item is in a campaign's curated catalog (internal; used by codes and links).
-- PL/pgSQL rather than SQL: its plan is prepared once per session, where a SQL function with
-- subqueries would be planned on every call. Called only from functions that pin search_path.
CREATE FUNCTION plum.in_catalog(campaign_id bigint, item_id bigint) RETURNS boolean
	LANGUAGE plpgsql STABLE
	AS $$
BEGIN
	RETURN EXISTS (
		SELECT 1 FROM plum.campaign c JOIN plum.item i ON i.company_id OPERATOR(pg_catalog.=) c.company_id
		WHERE c.campaign_id OPERATOR(pg_catalog.=) in_catalog.campaign_id
		AND i.item_id OPERATOR(pg_catalog.=) in_catalog.item_id AND i.active
		AND (NOT EXISTS (SELECT 1 FROM plum.curation r WHERE r.campaign_id OPERATOR(pg_catalog.=) c.campaign_id AND r.include)
			OR EXISTS (SELECT 1 FROM plum.curation r WHERE r.campaign_id OPERATOR(pg_catalog.=) c.campaign_id AND r.include
				AND (r.item_id OPERATOR(pg_catalog.=) i.item_id
					OR pg_catalog.lower(r.brand) OPERATOR(pg_catalog.=) pg_catalog.lower(i.brand)
					OR pg_catalog.lower(r.category) OPERATOR(pg_catalog.=) pg_catalog.lower(i.category))))
		AND NOT EXISTS (SELECT 1 FROM plum.curation r WHERE r.campaign_id OPERATOR(pg_catalog.=) c.campaign_id AND NOT r.include
				AND (r.item_id OPERATOR(pg_catalog.=) i.item_id
					OR pg_catalog.lower(r.brand) OPERATOR(pg_catalog.=) pg_catalog.lower(i.brand)
					OR pg_catalog.lower(r.category) OPERATOR(pg_catalog.=) pg_catalog.lower(i.category))));
END
$$;
COMMENT ON FUNCTION plum.in_catalog(bigint, bigint) IS
	'Whether an item is in a campaign''s curated catalog: active, of the campaign''s company, matched by an include rule if there are any, by no exclude rule.';

-- Whether an item can be had for exactly this value (internal; redeem_link in C checks the same rule in its own plan).
CREATE FUNCTION plum.item_accepts(item_id bigint, value numeric) RETURNS boolean
	LANGUAGE plpgsql STABLE
	AS $$
BEGIN
	RETURN COALESCE((SELECT CASE WHEN i.price IS NOT NULL THEN i.price OPERATOR(pg_catalog.=) item_accepts.value
			ELSE item_accepts.value OPERATOR(pg_catalog.>=) i.min_value AND item_accepts.value OPERATOR(pg_catalog.<=) i.max_value END
		FROM plum.item i WHERE i.item_id OPERATOR(pg_catalog.=) item_accepts.item_id), false);
END
$$;
COMMENT ON FUNCTION plum.item_accepts(bigint, numeric) IS
	'Whether an item can be had for exactly this value: its fixed price, or a value within its range.';

CREATE FUNCTION plum.campaign_catalog(campaign_id bigint) RETURNS SETOF plum.catalog_item
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum.not_null(campaign_id, 'campaign_id');
	PERFORM 1 FROM plum.campaign c WHERE c.campaign_id = campaign_catalog.campaign_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown campaign', format('There is no campaign %s.', campaign_catalog.campaign_id));
	END IF;
	RETURN QUERY
		SELECT i.item_id, i.company_id, i.kind, i.brand, i.name, i.category,
			round(i.price, co.scale), round(i.min_value, co.scale), round(i.max_value, co.scale), i.vendor, co.base_currency
		FROM plum.campaign c
		JOIN plum.item i ON i.company_id = c.company_id
		JOIN plum.company co ON co.company_id = c.company_id
		WHERE c.campaign_id = campaign_catalog.campaign_id AND plum.in_catalog(c.campaign_id, i.item_id)
		ORDER BY i.item_id;
END
$$;
COMMENT ON FUNCTION plum.campaign_catalog(bigint) IS
	'A campaign''s curated catalog: every active item of its company, restricted by include rules (if any) and without excluded items.';

-- The campaign an admin issues or links from, after every check (internal; used by codes and links).
CREATE FUNCTION plum.check_campaign(admin_id bigint, campaign_id bigint, mode text) RETURNS plum.campaign
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin plum.admin;
	v_campaign plum.campaign;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(campaign_id, 'campaign_id');
	SELECT * INTO v_admin FROM plum.admin a WHERE a.admin_id = check_campaign.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', check_campaign.admin_id));
	END IF;
	SELECT * INTO v_campaign FROM plum.campaign c WHERE c.campaign_id = check_campaign.campaign_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown campaign', format('There is no campaign %s.', check_campaign.campaign_id));
	END IF;
	IF v_campaign.company_id <> v_admin.company_id THEN
		PERFORM plum.raise('PU009', 'campaign belongs to another company',
			format('Campaign %s is company %s''s; admin %s is company %s''s.', check_campaign.campaign_id,
				v_campaign.company_id, check_campaign.admin_id, v_admin.company_id));
	END IF;
	IF v_campaign.mode <> check_campaign.mode THEN
		PERFORM plum.raise('PU009', 'wrong campaign mode',
			format('Campaign %s is a %s campaign, not a %s campaign.', check_campaign.campaign_id, v_campaign.mode, check_campaign.mode));
	END IF;
	IF v_campaign.expires_at <= plum.now() THEN
		PERFORM plum.raise('PU002', 'campaign expired',
			format('Campaign %s expired at %s.', check_campaign.campaign_id, v_campaign.expires_at));
	END IF;
	RETURN v_campaign;
END
$$;
COMMENT ON FUNCTION plum.check_campaign(bigint, bigint, text) IS
	'Internal: the campaign, after refusing an unknown admin or campaign (PU005), another company''s campaign or a wrong mode (PU009), an expired campaign (PU002).';

CREATE VIEW plum.campaigns AS
	SELECT c.campaign_id, c.company_id, c.admin_id, c.name, c.mode, c.expires_at, c.created,
		CASE WHEN c.expires_at <= plum.now() THEN 'expired' ELSE 'active' END AS state,
		(SELECT count(*) FROM plum.curation r WHERE r.campaign_id = c.campaign_id) AS curation_rules
	FROM plum.campaign c;
COMMENT ON VIEW plum.campaigns IS 'Campaigns with their mode, expiry and state as of plum''s clock.';
COMMENT ON COLUMN plum.campaigns.campaign_id IS 'Campaign id.';
COMMENT ON COLUMN plum.campaigns.company_id IS 'Company id.';
COMMENT ON COLUMN plum.campaigns.admin_id IS 'The admin who created it.';
COMMENT ON COLUMN plum.campaigns.name IS 'Campaign name.';
COMMENT ON COLUMN plum.campaigns.mode IS 'points, codes or links.';
COMMENT ON COLUMN plum.campaigns.expires_at IS 'Expiry (NULL: never).';
COMMENT ON COLUMN plum.campaigns.created IS 'When it was created.';
COMMENT ON COLUMN plum.campaigns.state IS 'active or expired.';
COMMENT ON COLUMN plum.campaigns.curation_rules IS 'Number of curation rules on its catalog.';

CREATE VIEW plum.items AS
	SELECT i.item_id, i.company_id, i.kind, i.brand, i.name, i.category,
		round(i.price, co.scale) AS price, round(i.min_value, co.scale) AS min_value, round(i.max_value, co.scale) AS max_value,
		i.vendor, i.active, co.base_currency AS currency, i.created
	FROM plum.item i JOIN plum.company co USING (company_id);
COMMENT ON VIEW plum.items IS 'Catalog items of every company.';
COMMENT ON COLUMN plum.items.item_id IS 'Item id.';
COMMENT ON COLUMN plum.items.company_id IS 'Company id.';
COMMENT ON COLUMN plum.items.kind IS 'gift_card, experience, merchandise, travel, charity or discount.';
COMMENT ON COLUMN plum.items.brand IS 'Brand.';
COMMENT ON COLUMN plum.items.name IS 'Item name.';
COMMENT ON COLUMN plum.items.category IS 'Category.';
COMMENT ON COLUMN plum.items.price IS 'Fixed price, or NULL for a value range.';
COMMENT ON COLUMN plum.items.min_value IS 'Smallest value of a flexible item.';
COMMENT ON COLUMN plum.items.max_value IS 'Largest value of a flexible item.';
COMMENT ON COLUMN plum.items.vendor IS 'Vendor.';
COMMENT ON COLUMN plum.items.active IS 'Whether it is offered.';
COMMENT ON COLUMN plum.items.currency IS 'The company''s currency the prices are in.';
COMMENT ON COLUMN plum.items.created IS 'When it was added.';

REVOKE EXECUTE ON FUNCTION
	plum.create_campaign(bigint, text, text, timestamptz),
	plum.add_item(bigint, text, text, text, text, numeric, numeric, numeric, text),
	plum.set_item_active(bigint, boolean),
	plum.curate(bigint, boolean, bigint, text, text),
	plum.campaign_catalog(bigint),
	plum.in_catalog(bigint, bigint),
	plum.item_accepts(bigint, numeric),
	plum.check_campaign(bigint, bigint, text)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.create_campaign(bigint, text, text, timestamptz),
	plum.add_item(bigint, text, text, text, text, numeric, numeric, numeric, text),
	plum.set_item_active(bigint, boolean),
	plum.curate(bigint, boolean, bigint, text, text)
	TO plum_admin;
GRANT EXECUTE ON FUNCTION plum.campaign_catalog(bigint) TO plum_app;
GRANT SELECT ON plum.campaigns, plum.items TO plum_reader;
SELECT pg_catalog.pg_extension_config_dump('plum.campaign', '');
SELECT pg_catalog.pg_extension_config_dump('plum.campaign_campaign_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum.item', '');
SELECT pg_catalog.pg_extension_config_dump('plum.item_item_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum.curation', '');
SELECT pg_catalog.pg_extension_config_dump('plum.curation_rule_id_seq', '');
-- Codes: bearer gift codes in fixed denominations with partial balances (SPEC, "Codes").
-- Issuance draws from the issuing admin's pool; redemption drains several codes in the order
-- given; undistributed codes can be cancelled back to the pool at any time; expired distributed
-- codes are swept as breakage.

CREATE TABLE plum.issued_code (
	code		plum.code NOT NULL,
	company_id	bigint NOT NULL,
	campaign_id	bigint NOT NULL,
	admin_id	bigint NOT NULL,
	issued_at	timestamptz NOT NULL,
	expires_at	timestamptz,
	distributed_at timestamptz,
	cancelled_at timestamptz,
	expired_at	timestamptz,
	denomination numeric NOT NULL CHECK (denomination > 0),
	balance		numeric NOT NULL,
	CONSTRAINT issued_code_pkey PRIMARY KEY (code),
	CONSTRAINT issued_code_balance CHECK (balance >= 0 AND balance <= denomination),
	CONSTRAINT issued_code_cancelled_empty CHECK (cancelled_at IS NULL OR balance = 0)
) WITH (fillfactor = 80);
COMMENT ON TABLE plum.issued_code IS 'Every code issued, with its balance (updated in place). Written only by plum''s code functions (no foreign keys, so that issuing 1,000,000 codes stays one plain INSERT); read plum.codes.';
COMMENT ON COLUMN plum.issued_code.code IS 'The code (60 random bits).';
COMMENT ON COLUMN plum.issued_code.company_id IS 'The company of the campaign the code was issued for.';
COMMENT ON COLUMN plum.issued_code.campaign_id IS 'The campaign (mode codes) the code was issued for.';
COMMENT ON COLUMN plum.issued_code.admin_id IS 'The admin who issued the code, from whose pool its value came and to whose pool a cancellation returns it.';
COMMENT ON COLUMN plum.issued_code.issued_at IS 'When the code was issued (plum clock).';
COMMENT ON COLUMN plum.issued_code.expires_at IS 'When the code stops being redeemable: the campaign''s expiry at issue (NULL: never).';
COMMENT ON COLUMN plum.issued_code.distributed_at IS 'When the code was first marked distributed or used (NULL: undistributed, so still cancellable).';
COMMENT ON COLUMN plum.issued_code.cancelled_at IS 'When the code was cancelled and its value returned to the issuer''s pool.';
COMMENT ON COLUMN plum.issued_code.expired_at IS 'When plum.expire_codes() recorded the remaining balance of this expired code as breakage.';
COMMENT ON COLUMN plum.issued_code.denomination IS 'The value the code was issued for (one of the company''s code denominations).';
COMMENT ON COLUMN plum.issued_code.balance IS 'What is left to spend (0 once used up, cancelled or swept after expiry).';

-- Insert drawn codes, skipping those taken already (or drawn twice); returns the codes inserted.
-- issue_codes() falls back on this after a collision (about 1 in 10^12 per code).
CREATE FUNCTION plum.insert_codes(company_id bigint, campaign_id bigint, admin_id bigint, denomination numeric,
		issued_at timestamptz, expires_at timestamptz, codes plum.code[])
	RETURNS plum.code[]
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_free plum.code[];
BEGIN
	WITH ins AS (
		INSERT INTO plum.issued_code AS ic (code, company_id, campaign_id, admin_id, issued_at, expires_at, denomination, balance)
			SELECT c, insert_codes.company_id, insert_codes.campaign_id, insert_codes.admin_id, insert_codes.issued_at,
				insert_codes.expires_at, insert_codes.denomination, insert_codes.denomination
			FROM unnest(codes) AS c
		ON CONFLICT ON CONSTRAINT issued_code_pkey DO NOTHING
		RETURNING ic.code)
	SELECT array_agg(ins.code) INTO v_free FROM ins;
	RETURN coalesce(v_free, '{}');
END
$$;
COMMENT ON FUNCTION plum.insert_codes(bigint, bigint, bigint, numeric, timestamptz, timestamptz, plum.code[]) IS
	'Internal: insert drawn codes of one issue, skipping any already taken or drawn twice; returns the codes inserted.';

CREATE FUNCTION plum.issue_codes(admin_id bigint, campaign_id bigint, denomination numeric, count integer)
	RETURNS SETOF plum.code
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	ROWS 1000
	AS $$
DECLARE
	v_campaign plum.campaign;
	v_scale smallint;
	v_denoms numeric[];
	v_now timestamptz := plum.now();
	v_total numeric;
	v_pool numeric;
	v_codes plum.code[];
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(campaign_id, 'campaign_id');
	PERFORM plum.not_null(denomination, 'denomination');
	PERFORM plum.not_null(count, 'count');
	v_campaign := plum.check_campaign(issue_codes.admin_id, issue_codes.campaign_id, 'codes');
	SELECT c.scale, c.code_denominations INTO STRICT v_scale, v_denoms
		FROM plum.company c WHERE c.company_id = v_campaign.company_id;
	denomination := plum.valid_amount(denomination, v_scale, 'denomination');
	IF NOT denomination = ANY (v_denoms) THEN
		PERFORM plum.raise('PU008', 'not an allowed code denomination',
			format('Company %s issues codes of %s; %s is not one of them.', v_campaign.company_id,
				(SELECT string_agg(round(d, v_scale)::text, ', ' ORDER BY d) FROM unnest(v_denoms) AS d), denomination),
			'Use one of the company''s code denominations.');
	END IF;
	IF count < 1 OR count > 1000000 THEN
		PERFORM plum.raise('PU008', 'invalid number of codes',
			format('Asked for %s codes; one call issues 1 to 1000000.', count));
	END IF;
	v_total := denomination * count;
	UPDATE plum.admin a SET pool = a.pool - v_total
		WHERE a.admin_id = issue_codes.admin_id AND a.pool >= v_total RETURNING a.pool INTO v_pool;
	IF NOT FOUND THEN
		SELECT a.pool INTO v_pool FROM plum.admin a WHERE a.admin_id = issue_codes.admin_id;
		PERFORM plum.raise('PU001', 'insufficient pool',
			format('Admin %s''s pool is %s, requested %s for %s codes of %s.', issue_codes.admin_id,
				round(v_pool, v_scale), round(v_total, v_scale), count, denomination),
			'Create points into the pool with plum.create_points() first.');
	END IF;
	v_codes := ARRAY(SELECT plum.code_random(count));
	BEGIN
		-- the fast path: one plain INSERT (no speculative insertion per row)
		INSERT INTO plum.issued_code (code, company_id, campaign_id, admin_id, issued_at, expires_at, denomination, balance)
			SELECT c, v_campaign.company_id, issue_codes.campaign_id, issue_codes.admin_id, v_now, v_campaign.expires_at,
				denomination, denomination
			FROM unnest(v_codes) AS c;
	EXCEPTION WHEN unique_violation THEN
		-- a drawn code is taken (or drawn twice): keep the free ones, draw the shortfall again until all are issued
		v_codes := plum.insert_codes(v_campaign.company_id, issue_codes.campaign_id, issue_codes.admin_id, denomination,
			v_now, v_campaign.expires_at, v_codes);
		WHILE cardinality(v_codes) < count LOOP
			v_codes := v_codes || plum.insert_codes(v_campaign.company_id, issue_codes.campaign_id, issue_codes.admin_id,
				denomination, v_now, v_campaign.expires_at, ARRAY(SELECT plum.code_random(count - cardinality(v_codes))));
		END LOOP;
	END;
	INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, campaign_id, note)
		VALUES (v_campaign.company_id, v_now, 'code_issue', v_total, issue_codes.admin_id, issue_codes.campaign_id,
			format('%s codes of %s', count, denomination));
	RETURN QUERY SELECT unnest(v_codes);
END
$$;
COMMENT ON FUNCTION plum.issue_codes(bigint, bigint, numeric, integer) IS
	'Issue count (1 to 1,000,000) new codes of one of the company''s denominations for a codes campaign, drawing count x denomination from the admin''s pool (PU001 when short). Returns the codes.';

CREATE FUNCTION plum.code_balance(code plum.code) RETURNS numeric
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_balance numeric;
BEGIN
	PERFORM plum.not_null(code, 'code');
	SELECT round(ic.balance, c.scale) INTO v_balance
		FROM plum.issued_code ic JOIN plum.company c USING (company_id) WHERE ic.code = code_balance.code;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown code', format('There is no code %s.', code));
	END IF;
	RETURN v_balance;
END
$$;
COMMENT ON FUNCTION plum.code_balance(plum.code) IS
	'The balance left on a code, in the company''s currency decimals (also of an expired or cancelled code: plum.codes shows its state).';

-- Lock the given codes in code order (the one canonical order, so calls never deadlock) and
-- return them in the order given.  Refuses a NULL or empty list (22004, 22023), a NULL code
-- (22004), a code given twice (22023) and an unknown code (PU005).
CREATE FUNCTION plum.lock_codes(codes plum.code[], marking boolean DEFAULT false)
	RETURNS plum.issued_code[]
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_rows plum.issued_code[];
	v_n integer := cardinality(codes);
	v_bad record;
BEGIN
	IF codes IS NULL THEN
		PERFORM plum.not_null(codes, 'codes');
	END IF;
	IF v_n = 0 THEN
		IF marking THEN
			RETURN '{}';
		END IF;
		PERFORM plum.raise('22023', 'no codes given', NULL, 'Give at least one code.');
	END IF;
	IF array_position(codes, NULL) IS NOT NULL THEN
		PERFORM plum.raise('22004', format('code #%s must not be null', array_position(codes, NULL)));
	END IF;
	SELECT array_agg(s.x ORDER BY array_position(codes, (s.x).code)) INTO v_rows
		FROM (SELECT x FROM plum.issued_code x WHERE x.code = ANY (codes) ORDER BY x.code FOR UPDATE) AS s;
	IF marking THEN
		v_n := (SELECT count(DISTINCT u.c) FROM unnest(codes) AS u(c));
	END IF;
	IF coalesce(cardinality(v_rows), 0) < v_n THEN
		SELECT u.c, min(u.i) AS first, (array_agg(u.i ORDER BY u.i))[2] AS second INTO v_bad
			FROM unnest(codes) WITH ORDINALITY AS u(c, i) GROUP BY u.c HAVING count(*) > 1 AND NOT marking ORDER BY 2 LIMIT 1;
		IF FOUND THEN
			PERFORM plum.raise('22023', 'duplicate code',
				format('Code %s is given twice (#%s and #%s).', v_bad.c, v_bad.first, v_bad.second),
				'Give each code once.');
		END IF;
		SELECT u.c, u.i INTO v_bad FROM unnest(codes) WITH ORDINALITY AS u(c, i)
			WHERE NOT EXISTS (SELECT 1 FROM plum.issued_code x WHERE x.code = u.c) ORDER BY u.i LIMIT 1;
		PERFORM plum.raise('PU005', 'unknown code', format('Code #%s (%s) does not exist.', v_bad.i, v_bad.c),
			'Check the code for typing mistakes.');
	END IF;
	RETURN v_rows;
END
$$;
COMMENT ON FUNCTION plum.lock_codes(plum.code[], boolean) IS
	'Internal: lock codes FOR UPDATE in code order and return their rows in the order given; refuses NULLs (22004), an empty list or a code given twice (22023; both allowed when marking), unknown codes (PU005).';

-- The codes hot path, in C (src/codes.c): one statement locks the codes in code order (never a
-- deadlock) and reads them, the checks run in the order given, one statement writes the drained
-- codes and their ledger rows.
CREATE FUNCTION plum.redeem_codes(codes plum.code[], amount numeric, item_id bigint DEFAULT NULL,
		reference text DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS TABLE(code plum.code, applied numeric, remaining numeric)
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	ROWS 2
	AS 'MODULE_PATHNAME', 'plum_redeem_codes';
COMMENT ON FUNCTION plum.redeem_codes(plum.code[], numeric, bigint, text, text) IS
	'Redeem an amount from several codes of one company, in the order given, each drained before the next and only as far as needed; all or nothing (PU001 when they hold too little together). Returns each code used with the amount applied and its balance left. Idempotent with a key.';

CREATE FUNCTION plum.mark_codes_distributed(codes plum.code[]) RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_rows plum.issued_code[];
	v_now timestamptz := plum.now();
	v_n integer;
	i integer;
BEGIN
	IF codes IS NULL THEN
		PERFORM plum.not_null(codes, 'codes');
	END IF;
	-- a code listed twice is marked once
	v_rows := plum.lock_codes(codes, marking => true);
	FOR i IN 1 .. cardinality(v_rows) LOOP
		IF v_rows[i].cancelled_at IS NOT NULL THEN
			PERFORM plum.raise('PU003', 'code cancelled',
				format('Code %s was cancelled at %s.', v_rows[i].code, v_rows[i].cancelled_at));
		END IF;
		IF v_rows[i].distributed_at IS NULL AND v_rows[i].expires_at <= v_now THEN
			PERFORM plum.raise('PU002', 'code expired',
				format('Code %s expired at %s before it was distributed.', v_rows[i].code, v_rows[i].expires_at),
				'Cancel it with plum.cancel_codes() to return its value to the pool.');
		END IF;
	END LOOP;
	UPDATE plum.issued_code ic SET distributed_at = v_now
		WHERE ic.code = ANY (codes) AND ic.distributed_at IS NULL;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION plum.mark_codes_distributed(plum.code[]) IS
	'Mark codes as distributed (handed out): they can no longer be cancelled. Returns how many were not marked yet. Refuses unknown (PU005), cancelled (PU003) and undistributed expired codes (PU002).';

CREATE FUNCTION plum.cancel_codes(admin_id bigint, codes plum.code[]) RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin plum.admin;
	v_rows plum.issued_code[];
	v_row plum.issued_code;
	v_scale smallint;
	v_now timestamptz := plum.now();
	v_total numeric := 0;
	v_issuer record;
	i integer;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(codes, 'codes');
	SELECT * INTO v_admin FROM plum.admin a WHERE a.admin_id = cancel_codes.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', cancel_codes.admin_id));
	END IF;
	v_rows := plum.lock_codes(codes);
	FOR i IN 1 .. cardinality(v_rows) LOOP
		v_row := v_rows[i];
		IF v_row.company_id <> v_admin.company_id THEN
			PERFORM plum.raise('PU009', 'code belongs to another company',
				format('Code #%s (%s) is company %s''s; admin %s is company %s''s.', i, v_row.code, v_row.company_id,
					cancel_codes.admin_id, v_admin.company_id));
		END IF;
		IF v_row.admin_id <> cancel_codes.admin_id AND v_admin.role <> 'super_admin' THEN
			PERFORM plum.raise('PU009', 'only the issuing admin or a super admin may cancel a code',
				format('Code #%s (%s) was issued by admin %s; admin %s is an %s.', i, v_row.code, v_row.admin_id,
					cancel_codes.admin_id, v_admin.role),
				'Ask the issuing admin or a super admin of the company.');
		END IF;
		IF v_row.cancelled_at IS NOT NULL THEN
			PERFORM plum.raise('PU003', 'code already cancelled',
				format('Code #%s (%s) was cancelled at %s.', i, v_row.code, v_row.cancelled_at));
		END IF;
		IF v_row.distributed_at IS NOT NULL OR v_row.balance <> v_row.denomination THEN
			PERFORM plum.raise('PU009', 'code already distributed',
				format('Code #%s (%s) was distributed at %s; only undistributed codes can be cancelled.', i, v_row.code,
					v_row.distributed_at));
		END IF;
		v_total := v_total + v_row.denomination;
	END LOOP;
	SELECT c.scale INTO STRICT v_scale FROM plum.company c WHERE c.company_id = v_admin.company_id;
	UPDATE plum.issued_code ic SET balance = 0, cancelled_at = v_now WHERE ic.code = ANY (codes);
	-- the value goes back to each code's issuer; pools locked in admin order
	FOR v_issuer IN
		SELECT r.admin_id, sum(r.denomination) AS value FROM unnest(v_rows) AS r GROUP BY r.admin_id ORDER BY r.admin_id
	LOOP
		UPDATE plum.admin a SET pool = a.pool + v_issuer.value WHERE a.admin_id = v_issuer.admin_id;
	END LOOP;
	INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, campaign_id, code, balance_after, note)
		SELECT v_admin.company_id, v_now, 'code_cancel', r.denomination, r.admin_id, r.campaign_id, r.code, 0,
			CASE WHEN r.admin_id <> cancel_codes.admin_id THEN format('cancelled by admin %s', cancel_codes.admin_id) END
		FROM unnest(v_rows) WITH ORDINALITY AS r
		ORDER BY r.ordinality;
	RETURN round(v_total, v_scale);
END
$$;
COMMENT ON FUNCTION plum.cancel_codes(bigint, plum.code[]) IS
	'Cancel undistributed, unused codes (also after their expiry: undistributed codes never expire for the admin); their whole value goes back to the issuing admin''s pool. By the issuer or a super admin of the company. Returns the value returned.';

CREATE FUNCTION plum.expire_codes() RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_total numeric;
BEGIN
	-- undistributed codes are left alone (still cancellable); codes locked by a redemption are skipped
	WITH due AS (
		SELECT ic.code, ic.balance FROM plum.issued_code ic
		WHERE ic.expires_at <= v_now AND ic.distributed_at IS NOT NULL AND ic.balance > 0 AND ic.cancelled_at IS NULL
		ORDER BY ic.code
		FOR UPDATE SKIP LOCKED),
	upd AS (
		UPDATE plum.issued_code ic SET balance = 0, expired_at = v_now FROM due
		WHERE ic.code = due.code
		RETURNING ic.code, ic.company_id, ic.campaign_id, due.balance AS gone),
	j AS (
		INSERT INTO plum.journal (company_id, at, kind, amount, campaign_id, code, balance_after)
		SELECT upd.company_id, v_now, 'code_expire', upd.gone, upd.campaign_id, upd.code, 0 FROM upd
		RETURNING amount)
	SELECT coalesce(sum(j.amount), 0) INTO v_total FROM j;
	RETURN v_total;
END
$$;
COMMENT ON FUNCTION plum.expire_codes() IS
	'The codes expiry sweep (an addition to the SPEC): records the remaining balance of distributed codes past their expiry as breakage (code_expire) and sets it to 0. Undistributed codes stay cancellable. Idempotent, safe beside redemptions (skips codes they hold). Returns the amount expired now. Run it from pg_cron.';

CREATE VIEW plum.codes AS
	SELECT ic.code, ic.company_id, ic.campaign_id,
		round(ic.denomination, c.scale) AS denomination,
		round(ic.balance, c.scale) AS balance,
		CASE WHEN ic.cancelled_at IS NOT NULL THEN 'cancelled'
			WHEN ic.expired_at IS NOT NULL OR (ic.balance > 0 AND ic.expires_at <= plum.now()) THEN 'expired'
			WHEN ic.balance = 0 THEN 'redeemed'
			WHEN ic.distributed_at IS NULL THEN 'issued'
			ELSE 'distributed' END AS state,
		ic.expires_at, ic.admin_id, ic.issued_at, ic.distributed_at, ic.cancelled_at,
		c.base_currency AS currency
	FROM plum.issued_code ic JOIN plum.company c USING (company_id);
COMMENT ON VIEW plum.codes IS 'Gift codes with their balance and state as of plum''s clock.';
COMMENT ON COLUMN plum.codes.code IS 'The code.';
COMMENT ON COLUMN plum.codes.company_id IS 'Company id.';
COMMENT ON COLUMN plum.codes.campaign_id IS 'The campaign it was issued for.';
COMMENT ON COLUMN plum.codes.denomination IS 'The value it was issued for.';
COMMENT ON COLUMN plum.codes.balance IS 'What is left to spend.';
COMMENT ON COLUMN plum.codes.state IS 'issued (not yet distributed), distributed, redeemed (balance 0), cancelled, or expired (past its expiry with a balance, or swept).';
COMMENT ON COLUMN plum.codes.expires_at IS 'When it stops being redeemable (NULL: never).';
COMMENT ON COLUMN plum.codes.admin_id IS 'The admin who issued it.';
COMMENT ON COLUMN plum.codes.issued_at IS 'When it was issued.';
COMMENT ON COLUMN plum.codes.distributed_at IS 'When it was first marked distributed or used (NULL: undistributed).';
COMMENT ON COLUMN plum.codes.cancelled_at IS 'When it was cancelled (NULL: not cancelled).';
COMMENT ON COLUMN plum.codes.currency IS 'The company''s base currency.';

-- verify_codes(): replay the codes ledger against code balances (plum.verify() unions every area).
CREATE FUNCTION plum.verify_codes(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH co AS (
		SELECT c.company_id FROM plum.company c
		WHERE verify_codes.company_id IS NULL OR c.company_id = verify_codes.company_id),
	flows AS (
		SELECT j.company_id, j.code,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_redeem'), 0) AS redeemed,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_expire'), 0) AS expired,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_cancel'), 0) AS cancelled
		FROM plum.journal j JOIN co USING (company_id)
		WHERE j.kind IN ('code_redeem', 'code_expire', 'code_cancel')
		GROUP BY j.company_id, j.code),
	per AS (
		SELECT coalesce(ic.company_id, f.company_id) AS company_id, coalesce(ic.code, f.code) AS code,
			ic.denomination, ic.balance,
			coalesce(f.redeemed, 0) AS redeemed, coalesce(f.expired, 0) AS expired, coalesce(f.cancelled, 0) AS cancelled
		FROM (SELECT x.* FROM plum.issued_code x JOIN co USING (company_id)) AS ic
		FULL JOIN flows f ON f.code = ic.code AND f.company_id = ic.company_id),
	issued AS (
		SELECT co.company_id,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'code_issue'), 0) AS ledger,
			coalesce((SELECT sum(x.denomination) FROM plum.issued_code x WHERE x.company_id = co.company_id), 0) AS codes
		FROM co)
	SELECT per.company_id, 'code balance',
			format('code %s: balance %s, ledger says %s (denomination %s - redeemed %s - expired %s - cancelled %s)',
				per.code, per.balance, per.denomination - per.redeemed - per.expired - per.cancelled,
				per.denomination, per.redeemed, per.expired, per.cancelled)
		FROM per WHERE per.denomination IS NOT NULL AND per.balance <> per.denomination - per.redeemed - per.expired - per.cancelled
	UNION ALL
	SELECT per.company_id, 'code unknown', format('code %s: the ledger has movements of a code that was not issued', per.code)
		FROM per WHERE per.denomination IS NULL
	UNION ALL
	SELECT issued.company_id, 'codes issued',
			format('codes issued: ledger says %s, the codes'' denominations add up to %s', issued.ledger, issued.codes)
		FROM issued WHERE issued.ledger <> issued.codes
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify_codes(bigint) IS
	'The codes part of plum.verify(): every code''s balance = denomination - redeemed - expired - cancelled per the ledger, and code_issue entries = the denominations issued, per company.';

REVOKE EXECUTE ON FUNCTION
	plum.insert_codes(bigint, bigint, bigint, numeric, timestamptz, timestamptz, plum.code[]),
	plum.issue_codes(bigint, bigint, numeric, integer),
	plum.code_balance(plum.code),
	plum.lock_codes(plum.code[], boolean),
	plum.redeem_codes(plum.code[], numeric, bigint, text, text),
	plum.mark_codes_distributed(plum.code[]),
	plum.cancel_codes(bigint, plum.code[]),
	plum.expire_codes(),
	plum.verify_codes(bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.issue_codes(bigint, bigint, numeric, integer),
	plum.mark_codes_distributed(plum.code[]),
	plum.cancel_codes(bigint, plum.code[]),
	plum.expire_codes()
	TO plum_admin;
GRANT EXECUTE ON FUNCTION
	plum.code_balance(plum.code),
	plum.redeem_codes(plum.code[], numeric, bigint, text, text)
	TO plum_app;
GRANT SELECT ON plum.codes TO plum_reader;
SELECT pg_catalog.pg_extension_config_dump('plum.issued_code', '');
-- Links: one-click reward links, redeemed whole for one catalog item and billed only then.
--
-- A link is a row of plum.link keyed by its token (192 bits from the CSPRNG, src/links.c).
-- Creating a link takes nothing from any pool and bills nothing; redeeming it writes the
-- billing record (the link_redeem ledger row) in the same transaction. The link row is the
-- serialisation point: redemption and cancellation change it with one conditional UPDATE
-- (WHERE state = 'active'), so of two concurrent claims exactly one wins.

CREATE FUNCTION plum.link_token() RETURNS text
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_link_token';
COMMENT ON FUNCTION plum.link_token() IS
	'Internal: a new link token, 192 bits from pg_strong_random() as 32 characters of unpadded base64url (A-Z a-z 0-9 - _).';

CREATE TABLE plum.link (
	token		text PRIMARY KEY CHECK (token ~ '^[A-Za-z0-9_-]{32}$'),
	company_id	bigint NOT NULL REFERENCES plum.company,
	campaign_id	bigint NOT NULL REFERENCES plum.campaign,
	admin_id	bigint NOT NULL REFERENCES plum.admin,
	value		numeric NOT NULL CHECK (value > 0),
	recipient	plum.recipient,
	state		text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'redeemed', 'cancelled')),
	created		timestamptz NOT NULL,
	redeemed_at	timestamptz,
	cancelled_at timestamptz,
	item_id		bigint,
	reference	text,
	billing_id	bigint,
	CHECK ((state = 'redeemed') = (redeemed_at IS NOT NULL AND item_id IS NOT NULL AND billing_id IS NOT NULL)),
	CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
) WITH (fillfactor = 80);
COMMENT ON TABLE plum.link IS 'Reward links: a token worth a value, redeemed whole, once, for one item of its campaign''s catalog. Written only by plum.create_link(), plum.redeem_link() and plum.cancel_link(); read plum.links.';
COMMENT ON COLUMN plum.link.token IS 'The link''s token: 32 base64url characters (192 random bits), unique.';
COMMENT ON COLUMN plum.link.company_id IS 'The company billed when the link is redeemed.';
COMMENT ON COLUMN plum.link.campaign_id IS 'The links campaign: its catalog and expiry apply.';
COMMENT ON COLUMN plum.link.admin_id IS 'The admin who created the link.';
COMMENT ON COLUMN plum.link.value IS 'What the link is worth, exact to the company''s currency.';
COMMENT ON COLUMN plum.link.recipient IS 'The recipient the link is addressed to (NULL: not addressed).';
COMMENT ON COLUMN plum.link.state IS 'active, redeemed or cancelled (an active link past its campaign''s expiry shows as expired in plum.links).';
COMMENT ON COLUMN plum.link.created IS 'When the link was created (plum clock).';
COMMENT ON COLUMN plum.link.redeemed_at IS 'When the link was redeemed (plum clock).';
COMMENT ON COLUMN plum.link.cancelled_at IS 'When the link was cancelled (plum clock).';
COMMENT ON COLUMN plum.link.item_id IS 'The item the link was redeemed for (checked against plum.item at redemption).';
COMMENT ON COLUMN plum.link.reference IS 'The caller''s reference given at redemption, e.g. an order id.';
COMMENT ON COLUMN plum.link.billing_id IS 'The billing record of the redemption: the entry id of its link_redeem ledger row.';

CREATE FUNCTION plum.create_link(admin_id bigint, campaign_id bigint, value numeric, recipient plum.recipient DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_campaign plum.campaign;
	v_scale smallint;
	v_now timestamptz := plum.now();
	v_token text;
BEGIN
	v_campaign := plum.check_campaign(admin_id, campaign_id, 'links');
	SELECT c.scale INTO STRICT v_scale FROM plum.company c WHERE c.company_id = v_campaign.company_id;
	value := plum.valid_amount(value, v_scale, 'value');
	-- a token collision is a 2^-192 event: draw again rather than fail
	LOOP
		v_token := plum.link_token();
		INSERT INTO plum.link AS l (token, company_id, campaign_id, admin_id, value, recipient, created)
			VALUES (v_token, v_campaign.company_id, create_link.campaign_id, create_link.admin_id,
				create_link.value, create_link.recipient, v_now)
			ON CONFLICT ON CONSTRAINT link_pkey DO NOTHING;
		EXIT WHEN FOUND;
	END LOOP;
	INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, campaign_id, token)
		VALUES (v_campaign.company_id, v_now, 'link_create', create_link.value, create_link.admin_id,
			create_link.recipient, create_link.campaign_id, v_token);
	RETURN v_token;
END
$$;
COMMENT ON FUNCTION plum.create_link(bigint, bigint, numeric, plum.recipient) IS
	'Create a reward link worth value in a links campaign, optionally addressed to a recipient; returns its token (32 URL-safe characters). Nothing is billed and no pool is drawn: the company is billed only when the link is redeemed.';

-- Raise PU003 for a link that is no longer active (internal helper of cancel_link; redeem_link, in C, says the same).
CREATE FUNCTION plum.link_not_active(state text, redeemed_at timestamptz, cancelled_at timestamptz) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	IF state = 'redeemed' THEN
		PERFORM plum.raise('PU003', 'link already redeemed', format('The link was redeemed at %s.', redeemed_at),
			'A link is redeemed once, for its whole value.');
	END IF;
	PERFORM plum.raise('PU003', 'link cancelled', format('The link was cancelled at %s.', cancelled_at));
END
$$;
COMMENT ON FUNCTION plum.link_not_active(text, timestamptz, timestamptz) IS
	'Internal: refuse a link that was redeemed or cancelled (PU003), saying which and when.';

-- In C (src/links.c): one read of the link with everything its checks need, then one
-- statement that claims it (UPDATE ... WHERE state = 'active') and writes the billing row.
-- The checks, their order and their errors are those of plum.link_not_active() above and of
-- plum.in_catalog() and plum.item_accepts() (sql/70_catalog.sql), whose rules it repeats.
CREATE FUNCTION plum.redeem_link(token text, item_id bigint, reference text DEFAULT NULL) RETURNS bigint
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS 'MODULE_PATHNAME', 'plum_redeem_link';
COMMENT ON FUNCTION plum.redeem_link(text, bigint, text) IS
	'Redeem a link whole, once, for one item of its campaign''s catalog whose value is exactly the link''s (PU007 otherwise); refuses an unknown (PU005), redeemed or cancelled (PU003) or expired (PU002) link. Bills the company in the same transaction and returns the billing id.';

CREATE FUNCTION plum.cancel_link(admin_id bigint, token text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin_company bigint;
	v_link record;
	v_now timestamptz := plum.now();
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.not_null(token, 'token');
	SELECT a.company_id INTO v_admin_company FROM plum.admin a WHERE a.admin_id = cancel_link.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', cancel_link.admin_id));
	END IF;
	SELECT l.company_id, l.state, l.redeemed_at, l.cancelled_at INTO v_link
		FROM plum.link l WHERE l.token = cancel_link.token;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown link', 'No link has this token.',
			'Check that the whole link was copied.');
	END IF;
	IF v_link.company_id <> v_admin_company THEN
		PERFORM plum.raise('PU009', 'link belongs to another company',
			format('The link is company %s''s; admin %s is company %s''s.', v_link.company_id,
				cancel_link.admin_id, v_admin_company));
	END IF;
	IF v_link.state <> 'active' THEN
		PERFORM plum.link_not_active(v_link.state, v_link.redeemed_at, v_link.cancelled_at);
	END IF;
	WITH withdrawn AS (
		UPDATE plum.link l SET state = 'cancelled', cancelled_at = v_now
			WHERE l.token = cancel_link.token AND l.state = 'active'
			RETURNING l.company_id, l.campaign_id, l.value, l.recipient)
	INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, campaign_id, token)
		SELECT withdrawn.company_id, v_now, 'link_cancel', withdrawn.value, cancel_link.admin_id, withdrawn.recipient,
			withdrawn.campaign_id, cancel_link.token
		FROM withdrawn;
	IF NOT FOUND THEN
		-- another transaction redeemed or cancelled the link since we read it
		SELECT l.state, l.redeemed_at, l.cancelled_at INTO v_link FROM plum.link l WHERE l.token = cancel_link.token;
		PERFORM plum.link_not_active(v_link.state, v_link.redeemed_at, v_link.cancelled_at);
	END IF;
END
$$;
COMMENT ON FUNCTION plum.cancel_link(bigint, text) IS
	'Withdraw an unredeemed link (an admin of the link''s company, PU009 otherwise); a redeemed or cancelled link is refused (PU003). Nothing was billed, so nothing is returned to any pool.';

CREATE VIEW plum.links AS
	SELECT l.token, l.company_id, l.campaign_id, round(l.value, c.scale) AS value, l.recipient,
		CASE WHEN l.state = 'active' AND k.expires_at <= plum.now() THEN 'expired' ELSE l.state END AS state,
		l.redeemed_at, l.created, l.cancelled_at, k.expires_at, l.item_id, l.reference, l.billing_id, l.admin_id,
		c.base_currency AS currency
	FROM plum.link l
	JOIN plum.campaign k ON k.campaign_id = l.campaign_id
	JOIN plum.company c ON c.company_id = l.company_id;
COMMENT ON VIEW plum.links IS 'Reward links with their state as of plum''s clock (an active link past its campaign''s expiry is expired).';
COMMENT ON COLUMN plum.links.token IS 'The link''s token (a bearer secret: whoever has it can redeem the link).';
COMMENT ON COLUMN plum.links.company_id IS 'Company id (billed when the link is redeemed).';
COMMENT ON COLUMN plum.links.campaign_id IS 'The links campaign.';
COMMENT ON COLUMN plum.links.value IS 'What the link is worth.';
COMMENT ON COLUMN plum.links.recipient IS 'The recipient it is addressed to, or NULL.';
COMMENT ON COLUMN plum.links.state IS 'active, redeemed, cancelled, or expired (active past its campaign''s expiry).';
COMMENT ON COLUMN plum.links.redeemed_at IS 'When it was redeemed.';
COMMENT ON COLUMN plum.links.created IS 'When it was created.';
COMMENT ON COLUMN plum.links.cancelled_at IS 'When it was cancelled.';
COMMENT ON COLUMN plum.links.expires_at IS 'When its campaign expires (NULL: never).';
COMMENT ON COLUMN plum.links.item_id IS 'The item it was redeemed for.';
COMMENT ON COLUMN plum.links.reference IS 'The caller''s reference given at redemption.';
COMMENT ON COLUMN plum.links.billing_id IS 'The billing id of its redemption (plum.billing).';
COMMENT ON COLUMN plum.links.admin_id IS 'The admin who created it.';
COMMENT ON COLUMN plum.links.currency IS 'The company''s base currency.';

CREATE VIEW plum.billing AS
	SELECT j.company_id, j.at, 'link_redemption'::text AS kind, round(j.amount, c.scale) AS amount, j.reference,
		j.entry_id AS billing_id, j.token, j.campaign_id, j.item_id, c.base_currency AS currency
	FROM plum.journal j JOIN plum.company c ON c.company_id = j.company_id
	WHERE j.kind = 'link_redeem';
COMMENT ON VIEW plum.billing IS 'What each company is billed: one row per redeemed link, written in the redemption''s transaction (the link_redeem ledger rows).';
COMMENT ON COLUMN plum.billing.company_id IS 'The company billed.';
COMMENT ON COLUMN plum.billing.at IS 'When (plum clock at the redemption).';
COMMENT ON COLUMN plum.billing.kind IS 'link_redemption.';
COMMENT ON COLUMN plum.billing.amount IS 'The amount billed: the link''s whole value.';
COMMENT ON COLUMN plum.billing.reference IS 'The caller''s reference given at redemption.';
COMMENT ON COLUMN plum.billing.billing_id IS 'Billing id: what plum.redeem_link() returned (the ledger entry id).';
COMMENT ON COLUMN plum.billing.token IS 'The link redeemed.';
COMMENT ON COLUMN plum.billing.campaign_id IS 'The link''s campaign.';
COMMENT ON COLUMN plum.billing.item_id IS 'The item the link was redeemed for.';
COMMENT ON COLUMN plum.billing.currency IS 'The company''s base currency.';

-- verify_links(): replay the links ledger against the links (plum.verify() in 80_verify.sql unions every area).
CREATE FUNCTION plum.verify_links(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH co AS (
		SELECT c.company_id FROM plum.company c
		WHERE verify_links.company_id IS NULL OR c.company_id = verify_links.company_id),
	lk AS (
		SELECT l.* FROM plum.link l JOIN co USING (company_id)),
	-- per token: its create, redeem and cancel movements
	mv AS (
		SELECT j.company_id, j.token,
			count(*) FILTER (WHERE j.kind = 'link_create') AS creates,
			sum(j.amount) FILTER (WHERE j.kind = 'link_create') AS created,
			count(*) FILTER (WHERE j.kind = 'link_redeem') AS redeems,
			sum(j.amount) FILTER (WHERE j.kind = 'link_redeem') AS redeemed,
			min(j.entry_id) FILTER (WHERE j.kind = 'link_redeem') AS billing_id,
			count(*) FILTER (WHERE j.kind = 'link_cancel') AS cancels,
			sum(j.amount) FILTER (WHERE j.kind = 'link_cancel') AS cancelled
		FROM plum.journal j JOIN co USING (company_id)
		WHERE j.kind IN ('link_create', 'link_redeem', 'link_cancel')
		GROUP BY j.company_id, j.token),
	per AS (
		SELECT coalesce(lk.company_id, mv.company_id) AS company_id, coalesce(lk.token, mv.token) AS token,
			lk.state, lk.value, lk.billing_id AS link_billing, (lk.token IS NOT NULL) AS known,
			coalesce(mv.creates, 0) AS creates, mv.created, coalesce(mv.redeems, 0) AS redeems, mv.redeemed,
			mv.billing_id, coalesce(mv.cancels, 0) AS cancels, mv.cancelled
		FROM lk FULL JOIN mv ON mv.token = lk.token),
	totals AS (
		SELECT co.company_id,
			coalesce((SELECT sum(j.amount) FROM plum.journal j WHERE j.company_id = co.company_id AND j.kind = 'link_redeem'), 0) AS billed,
			coalesce((SELECT sum(l.value) FROM plum.link l WHERE l.company_id = co.company_id AND l.state = 'redeemed'), 0) AS redeemed
		FROM co)
	SELECT per.company_id, 'link movements', format('ledger rows for link %s, which does not exist', per.token)
		FROM per WHERE NOT per.known
	UNION ALL
	SELECT per.company_id, 'link created',
			format('link %s: value %s; %s link_create rows of %s', per.token, per.value, per.creates, coalesce(per.created, 0))
		FROM per WHERE per.known AND (per.creates <> 1 OR per.created <> per.value)
	UNION ALL
	SELECT per.company_id, 'link redeemed',
			format('link %s is %s: value %s, billing id %s; %s link_redeem rows of %s (entry %s), %s link_cancel rows',
				per.token, per.state, per.value, coalesce(per.link_billing::text, 'none'), per.redeems,
				coalesce(per.redeemed, 0), coalesce(per.billing_id::text, 'none'), per.cancels)
		FROM per WHERE per.known AND per.state = 'redeemed'
			AND (per.redeems <> 1 OR per.redeemed <> per.value OR per.billing_id IS DISTINCT FROM per.link_billing OR per.cancels <> 0)
	UNION ALL
	SELECT per.company_id, 'link cancelled',
			format('link %s is %s: value %s; %s link_cancel rows of %s, %s link_redeem rows',
				per.token, per.state, per.value, per.cancels, coalesce(per.cancelled, 0), per.redeems)
		FROM per WHERE per.known AND per.state = 'cancelled'
			AND (per.cancels <> 1 OR per.cancelled <> per.value OR per.redeems <> 0)
	UNION ALL
	SELECT per.company_id, 'link active',
			format('link %s is active; %s link_redeem rows, %s link_cancel rows', per.token, per.redeems, per.cancels)
		FROM per WHERE per.known AND per.state = 'active' AND (per.redeems <> 0 OR per.cancels <> 0)
	UNION ALL
	SELECT t.company_id, 'billing = redeemed links',
			format('billed %s; redeemed links are worth %s', t.billed, t.redeemed)
		FROM totals t WHERE t.billed <> t.redeemed
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify_links(bigint) IS
	'The links part of plum.verify(): each link has one link_create row of its value; a redeemed link one link_redeem row (its billing id) and no link_cancel; a cancelled link one link_cancel and no link_redeem; an active link neither; billing = the value of the redeemed links.';

REVOKE EXECUTE ON FUNCTION
	plum.link_token(),
	plum.create_link(bigint, bigint, numeric, plum.recipient),
	plum.link_not_active(text, timestamptz, timestamptz),
	plum.redeem_link(text, bigint, text),
	plum.cancel_link(bigint, text),
	plum.verify_links(bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.redeem_link(text, bigint, text) TO plum_app;
GRANT EXECUTE ON FUNCTION
	plum.create_link(bigint, bigint, numeric, plum.recipient),
	plum.cancel_link(bigint, text)
	TO plum_admin;
GRANT SELECT ON plum.links, plum.billing TO plum_reader;
SELECT pg_catalog.pg_extension_config_dump('plum.link', '');
-- QR codes (SPEC, "Distribution"): plum.qr_svg(text) draws the QR code of a code or link as an SVG
-- document, for qr deliveries. C on libqrencode (src/qr.c).

CREATE FUNCTION plum.qr_svg(data text) RETURNS text
	AS 'MODULE_PATHNAME', 'plum_qr_svg'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum.qr_svg(text) IS
	'The QR code of the text''s UTF-8 bytes as a standalone SVG 1.1 document: byte mode (with the UTF-8 ECI unless the text is all ASCII), error correction level M, the smallest version that fits, one viewBox unit and 4 px per module, a 4-module quiet zone. Empty text is 22023; more than 2331 bytes (2330 unless all ASCII) is 54000.';

REVOKE EXECUTE ON FUNCTION plum.qr_svg(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plum.qr_svg(text) TO plum_app;
-- Distribution (SPEC, "Distribution"): a transactional outbox of deliveries that the application's
-- senders drain. A delivery carries one reward (a points grant, codes or a link) on one channel to
-- a destination, with a message rendered from a template, now or at send_at.
--
-- Life of a delivery (plum.delivery.state):
--   scheduled --release_deliveries()--> queued --claim_deliveries()--> claimed --report sent--> sent --delivered--> delivered
--   claimed --report failed--> queued again after a backoff (1, 2, 4, 8 minutes), failed after 5 attempts
--   claimed/sent --report bounced--> bounced (final);  scheduled/queued --cancel_delivery()--> cancelled
-- A claimed delivery whose lease ran out is claimable again (the first sender's late report is refused).
--
-- Scheduled points grants reserve their value from the admin's pool when scheduled: one 'reserve'
-- ledger row (admin_id, amount, reference 'delivery:<id>'); at release an 'unreserve' row puts it
-- back and plum.give_points() takes it again with its 'give' row, so the lot and its validity start
-- then; a cancellation (or a release that fails) writes the 'unreserve' row alone.
-- verify_pools(): pool = created - given - codes issued + codes cancelled - (reserve - unreserve).

CREATE TABLE plum.delivery (
	delivery_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL,
	admin_id	bigint,
	kind		text NOT NULL CHECK (kind IN ('reward', 'reminder')),
	channel		text NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp', 'qr', 'on_screen', 'api')),
	destination	text NOT NULL CHECK (destination <> ''),
	reward		text CHECK (reward IN ('points', 'codes', 'link')),
	recipient	plum.recipient,
	amount		numeric CHECK (amount > 0),
	codes		plum.code[],
	token		text,
	lot_id		bigint,
	template	text NOT NULL,
	vars		jsonb NOT NULL,
	message		text,
	qr_svg		text,
	state		text NOT NULL CHECK (state IN ('scheduled', 'queued', 'claimed', 'sent', 'delivered', 'failed', 'bounced', 'cancelled')),
	send_at		timestamptz NOT NULL,
	created		timestamptz NOT NULL,
	released_at	timestamptz,
	next_attempt_at timestamptz,
	attempts	integer NOT NULL DEFAULT 0,
	claimed_by	text,
	lease_until	timestamptz,
	last_error	text,
	sent_at		timestamptz,
	delivered_at timestamptz,
	failed_at	timestamptz,
	cancelled_at timestamptz,
	CONSTRAINT delivery_reward CHECK ((kind = 'reward') = (reward IS NOT NULL)),
	CONSTRAINT delivery_points CHECK (reward IS DISTINCT FROM 'points' OR (amount IS NOT NULL AND recipient IS NOT NULL)),
	CONSTRAINT delivery_codes CHECK (reward IS DISTINCT FROM 'codes' OR cardinality(codes) > 0),
	CONSTRAINT delivery_link CHECK (reward IS DISTINCT FROM 'link' OR token IS NOT NULL),
	CONSTRAINT delivery_claimed CHECK (state <> 'claimed' OR (claimed_by IS NOT NULL AND lease_until IS NOT NULL)),
	CONSTRAINT delivery_due CHECK (state NOT IN ('queued', 'claimed') OR next_attempt_at IS NOT NULL)
);
-- what senders claim: queued deliveries due, and claimed ones whose lease (next_attempt_at) ran out
CREATE INDEX delivery_claimable ON plum.delivery (channel, next_attempt_at, delivery_id) WHERE state IN ('queued', 'claimed');
CREATE INDEX delivery_scheduled ON plum.delivery (send_at, delivery_id) WHERE state = 'scheduled';
CREATE INDEX delivery_failed ON plum.delivery (company_id, failed_at) WHERE state IN ('failed', 'bounced');
-- one reminder per recipient and lot, ever
CREATE UNIQUE INDEX delivery_reminder ON plum.delivery (company_id, recipient, lot_id) WHERE kind = 'reminder';
COMMENT ON TABLE plum.delivery IS 'The outbox: one row per message to send (a reward delivery or an expiry reminder). Written only by plum''s distribution functions, which check the company and admin (no foreign keys, so that a bulk distribution stays one plain INSERT); senders use plum.claim_deliveries() and plum.report_delivery(); read plum.deliveries.';
COMMENT ON COLUMN plum.delivery.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.delivery.company_id IS 'The company.';
COMMENT ON COLUMN plum.delivery.admin_id IS 'The admin who distributed the reward (NULL for reminders).';
COMMENT ON COLUMN plum.delivery.kind IS 'reward (plum.distribute) or reminder (plum.queue_expiry_reminders).';
COMMENT ON COLUMN plum.delivery.channel IS 'email, sms, whatsapp, qr, on_screen or api.';
COMMENT ON COLUMN plum.delivery.destination IS 'Where to send: a normalised email address (email), an E.164 phone (sms, whatsapp), else the application''s id (session, user, screen).';
COMMENT ON COLUMN plum.delivery.reward IS 'points, codes or link (NULL for reminders).';
COMMENT ON COLUMN plum.delivery.recipient IS 'The recipient of a points grant, or of a reminder.';
COMMENT ON COLUMN plum.delivery.amount IS 'The points granted (reserved from the pool while scheduled), or the points a reminder is about.';
COMMENT ON COLUMN plum.delivery.codes IS 'The codes delivered.';
COMMENT ON COLUMN plum.delivery.token IS 'The link token delivered.';
COMMENT ON COLUMN plum.delivery.lot_id IS 'The points lot: the ledger entry of the grant (set when it is made), or the lot a reminder is about.';
COMMENT ON COLUMN plum.delivery.template IS 'The message template ({{field}} placeholders).';
COMMENT ON COLUMN plum.delivery.vars IS 'The caller''s template variables (a JSON object); vars->>''link_base'' prefixes the link token.';
COMMENT ON COLUMN plum.delivery.message IS 'The rendered message (at queue time for immediate deliveries, at release for scheduled ones).';
COMMENT ON COLUMN plum.delivery.qr_svg IS 'For the qr channel: the SVG of the link or code (plum.qr_svg).';
COMMENT ON COLUMN plum.delivery.state IS 'scheduled, queued, claimed (held by a sender under a lease), sent, delivered, failed (after the last attempt, or the release failed), bounced, cancelled.';
COMMENT ON COLUMN plum.delivery.send_at IS 'When the delivery is (or was) to be sent.';
COMMENT ON COLUMN plum.delivery.created IS 'When the delivery was queued or scheduled (plum clock).';
COMMENT ON COLUMN plum.delivery.released_at IS 'When it entered the queue (at creation for immediate deliveries).';
COMMENT ON COLUMN plum.delivery.next_attempt_at IS 'Queued: when it may be claimed (after a backoff on retries). Claimed: when the lease ends.';
COMMENT ON COLUMN plum.delivery.attempts IS 'How many times senders have claimed it.';
COMMENT ON COLUMN plum.delivery.claimed_by IS 'The sender that holds (or last held) it.';
COMMENT ON COLUMN plum.delivery.lease_until IS 'When the current claim ends; after that another sender may claim it.';
COMMENT ON COLUMN plum.delivery.last_error IS 'The last error reported (failed, bounced) or met at release.';
COMMENT ON COLUMN plum.delivery.sent_at IS 'When a sender reported it sent.';
COMMENT ON COLUMN plum.delivery.delivered_at IS 'When a sender reported it delivered.';
COMMENT ON COLUMN plum.delivery.failed_at IS 'When it failed for good or bounced.';
COMMENT ON COLUMN plum.delivery.cancelled_at IS 'When it was cancelled.';

-- The channels, checked with a clear error (22023).
CREATE FUNCTION plum.check_channel(channel text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum.not_null(channel, 'channel');
	IF channel NOT IN ('email', 'sms', 'whatsapp', 'qr', 'on_screen', 'api') THEN
		PERFORM plum.raise('22023', format('unknown channel "%s"', channel), NULL,
			'The channels are email, sms, whatsapp, qr, on_screen and api.');
	END IF;
	RETURN channel;
END
$$;
COMMENT ON FUNCTION plum.check_channel(text) IS
	'Internal: the channel, or 22004 when NULL and 22023 when it is not email, sms, whatsapp, qr, on_screen or api.';

-- A destination that fits its channel, normalised (22023 otherwise).
CREATE FUNCTION plum.check_destination(channel text, destination text, what text DEFAULT 'destination') RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_r plum.recipient;
	v_want text := CASE WHEN channel = 'email' THEN 'email' WHEN channel IN ('sms', 'whatsapp') THEN 'phone' END;
BEGIN
	IF destination IS NULL THEN
		PERFORM plum.raise('22004', format('%s must not be null', what));
	END IF;
	IF v_want IS NULL THEN
		IF btrim(destination) = '' THEN
			PERFORM plum.raise('22023', format('%s must not be empty', what), NULL,
				format('A %s destination is the application''s id for the recipient (a session, user or screen id).', channel));
		END IF;
		RETURN destination;
	END IF;
	BEGIN
		v_r := destination::plum.recipient;
	EXCEPTION WHEN invalid_text_representation THEN
		v_r := NULL;
	END;
	IF v_r IS NULL OR plum.recipient_kind(v_r) <> v_want THEN
		PERFORM plum.raise('22023', format('%s does not fit channel %s', what, channel),
			format('"%s" is not %s.', destination, CASE v_want WHEN 'email' THEN 'an email address' ELSE 'a mobile phone number' END),
			CASE v_want WHEN 'email' THEN 'An email delivery goes to an email address.'
				ELSE 'SMS and WhatsApp deliveries go to a phone number in international form, e.g. +14155550100.' END);
	END IF;
	RETURN v_r::text;
END
$$;
COMMENT ON FUNCTION plum.check_destination(text, text, text) IS
	'Internal: the destination normalised for its channel (email: an email address; sms, whatsapp: an E.164 phone; others: any non-empty text), else 22023.';

-- A timestamp in messages: UTC, minutes, whatever the session's TimeZone and DateStyle.
-- message_time() and message_fields() have no SET clause so that they inline into the bulk
-- queries that call them once per delivery (a SET costs more than the function); they are not
-- SECURITY DEFINER and call only pg_catalog and plum, schema-qualified.
CREATE FUNCTION plum.message_time(at timestamptz) RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN pg_catalog.to_char(pg_catalog.timezone('UTC', at), 'YYYY-MM-DD HH24:MI') || ' UTC';
COMMENT ON FUNCTION plum.message_time(timestamptz) IS
	'Internal: a timestamp as messages show it (YYYY-MM-DD HH24:MI UTC).';

-- The template fields of one delivery: the caller's vars, then plum's own fields over them.
-- A field that does not apply to this delivery is a JSON null (rendering it is refused).
CREATE FUNCTION plum.message_fields(company plum.company, amount numeric, code text, link text,
		expires_at timestamptz, never_expires boolean, vars jsonb)
	RETURNS jsonb
	LANGUAGE sql STABLE
	RETURN vars || pg_catalog.jsonb_build_object(
		'name', vars -> 'name',
		'amount', pg_catalog.round(amount, (company).scale)::text || ' ' || (company).base_currency,
		'code', code,
		'link', COALESCE(vars ->> 'link_base', '') || link,
		'expires_at', CASE WHEN never_expires THEN 'never' ELSE plum.message_time(expires_at) END,
		'currency', (company).base_currency,
		'company', (company).name);
COMMENT ON FUNCTION plum.message_fields(plum.company, numeric, text, text, timestamptz, boolean, jsonb) IS
	'Internal: the template fields of a delivery as a JSON object (name, amount with currency, code, link with vars->>''link_base'', expires_at in UTC, currency, company, and every key of vars).';

-- Render a template: {{field}} (spaces allowed inside the braces) is replaced by the field's value,
-- scanning left to right so values are never expanded again. 22023 for an unknown field or one
-- that has no value for this delivery.
CREATE FUNCTION plum.render_message(template text, fields jsonb, what text DEFAULT 'delivery') RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_out text := '';
	v_rest text := template;
	v_open integer;
	v_close integer;
	v_name text;
	v_value text;
BEGIN
	LOOP
		v_open := strpos(v_rest, '{{');
		EXIT WHEN v_open = 0;
		v_close := strpos(substr(v_rest, v_open + 2), '}}');
		EXIT WHEN v_close = 0;
		v_name := btrim(substr(v_rest, v_open + 2, v_close - 1));
		IF NOT fields ? v_name THEN
			PERFORM plum.raise('22023', format('unknown template field "{{%s}}"', v_name),
				'The fields are {{name}}, {{amount}}, {{code}}, {{link}}, {{expires_at}}, {{currency}}, {{company}} and the keys of vars.',
				format('Add "%s" to vars, or correct the template.', v_name));
		END IF;
		v_value := fields ->> v_name;
		IF v_value IS NULL THEN
			PERFORM plum.raise('22023', format('template field "{{%s}}" has no value', v_name),
				CASE WHEN v_name = 'name' THEN 'vars has no "name".' ELSE format('A %s has no %s.', what, v_name) END,
				CASE WHEN v_name = 'name' THEN 'Give the name in vars, e.g. vars => ''{"name": "Alice"}''.' END);
		END IF;
		v_out := v_out || left(v_rest, v_open - 1) || v_value;
		v_rest := substr(v_rest, v_open + v_close + 3);
	END LOOP;
	RETURN v_out || v_rest;
END
$$;
COMMENT ON FUNCTION plum.render_message(text, jsonb, text) IS
	'Internal: render a template''s {{field}} placeholders from a JSON object of fields; 22023 for an unknown field or one without a value.';

-- What a delivery carries, made real at send time (queue time or release): a scheduled points grant
-- gives its reservation back and is granted now (plum.give_points: validity starts now); codes are
-- marked distributed; the message is rendered and, on the qr channel, the QR is drawn.
-- Returns the row as queued; the caller inserts or updates it.
CREATE FUNCTION plum.send_time(d plum.delivery) RETURNS plum.delivery
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_company plum.company;
	v_expires timestamptz;
	v_never boolean := false;
	v_amount numeric;
	v_code text;
	v_link record;
	v_qr text;
BEGIN
	SELECT * INTO STRICT v_company FROM plum.company c WHERE c.company_id = d.company_id;
	-- what the message says, before anything changes
	IF d.reward = 'points' THEN
		v_amount := d.amount;
		v_expires := plum.expiry_of(v_now, v_company.points_validity);
	ELSIF d.reward = 'codes' THEN
		PERFORM plum.check_codes_deliverable(d.company_id, d.codes);
		SELECT sum(ic.denomination), min(ic.expires_at), bool_and(ic.expires_at IS NULL)
			INTO v_amount, v_expires, v_never
			FROM plum.issued_code ic WHERE ic.code = ANY (d.codes);
		v_code := array_to_string(d.codes, ', ');
		v_qr := v_code;
	ELSIF d.reward = 'link' THEN
		v_link := plum.check_token_deliverable(d.company_id, d.token);
		v_amount := v_link.value;
		v_expires := v_link.expires_at;
		v_never := v_link.expires_at IS NULL;
		v_qr := coalesce(d.vars ->> 'link_base', '') || d.token;
	ELSE
		-- a reminder: the lot it is about
		v_amount := d.amount;
		SELECT l.expires_at INTO v_expires FROM plum.point_lots l
			WHERE l.company_id = d.company_id AND l.recipient = d.recipient AND l.lot_id = d.lot_id;
	END IF;
	d.message := plum.render_message(d.template,
		plum.message_fields(v_company, v_amount, v_code, CASE WHEN d.reward = 'link' THEN d.token END,
			v_expires, v_never, d.vars),
		coalesce(d.reward || ' delivery', 'reminder'));
	IF d.channel = 'qr' THEN
		d.qr_svg := plum.qr_svg(v_qr);
	END IF;
	-- then the reward itself
	IF d.reward = 'points' THEN
		IF d.state = 'scheduled' THEN
			UPDATE plum.admin a SET pool = a.pool + d.amount WHERE a.admin_id = d.admin_id;
			INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
				VALUES (d.company_id, v_now, 'unreserve', d.amount, d.admin_id, d.recipient, 'delivery:' || d.delivery_id);
		END IF;
		d.lot_id := plum.give_points(d.admin_id, d.recipient, d.amount, 'delivery:' || d.delivery_id);
	ELSIF d.reward = 'codes' THEN
		PERFORM plum.mark_codes_distributed(d.codes);
	END IF;
	d.state := 'queued';
	d.released_at := v_now;
	d.next_attempt_at := v_now;
	RETURN d;
END
$$;
COMMENT ON FUNCTION plum.send_time(plum.delivery) IS
	'Internal: make a delivery''s reward real now (grant scheduled points from their reservation, mark codes distributed), render its message and QR; returns the row as queued.';

-- Codes that may be delivered for a company: known (PU005), the company's (PU009), not cancelled
-- (PU003), not expired (PU002), none given twice (22023).
CREATE FUNCTION plum.check_codes_deliverable(company_id bigint, codes plum.code[]) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_bad record;
	v_now timestamptz := plum.now();
BEGIN
	IF cardinality(codes) = 0 THEN
		PERFORM plum.raise('22023', 'no codes given', NULL, 'Give at least one code.');
	END IF;
	IF array_position(codes, NULL) IS NOT NULL THEN
		PERFORM plum.raise('22004', format('code #%s must not be null', array_position(codes, NULL)));
	END IF;
	SELECT u.c, u.i, ic.company_id, ic.cancelled_at, ic.expires_at,
			count(*) OVER (PARTITION BY u.c) AS times
		INTO v_bad
		FROM unnest(codes) WITH ORDINALITY AS u(c, i) LEFT JOIN plum.issued_code ic ON ic.code = u.c
		ORDER BY (ic.code IS NULL) DESC, (ic.company_id <> check_codes_deliverable.company_id) DESC,
			(ic.cancelled_at IS NOT NULL) DESC, coalesce(ic.expires_at <= v_now, false) DESC, 6 DESC, u.i
		LIMIT 1;
	IF v_bad.company_id IS NULL THEN
		PERFORM plum.raise('PU005', 'unknown code', format('Code #%s (%s) does not exist.', v_bad.i, v_bad.c),
			'Check the code for typing mistakes.');
	ELSIF v_bad.company_id <> check_codes_deliverable.company_id THEN
		PERFORM plum.raise('PU009', 'code belongs to another company',
			format('Code #%s (%s) is of company %s, not %s.', v_bad.i, v_bad.c, v_bad.company_id, company_id));
	ELSIF v_bad.cancelled_at IS NOT NULL THEN
		PERFORM plum.raise('PU003', 'code cancelled', format('Code #%s (%s) was cancelled at %s.', v_bad.i, v_bad.c, v_bad.cancelled_at));
	ELSIF v_bad.expires_at <= v_now THEN
		PERFORM plum.raise('PU002', 'code expired', format('Code #%s (%s) expired at %s.', v_bad.i, v_bad.c, v_bad.expires_at));
	ELSIF v_bad.times > 1 THEN
		PERFORM plum.raise('22023', 'duplicate code', format('Code %s is given %s times.', v_bad.c, v_bad.times),
			'Give each code once.');
	END IF;
END
$$;
COMMENT ON FUNCTION plum.check_codes_deliverable(bigint, plum.code[]) IS
	'Internal: refuse codes that cannot be delivered for a company: none or NULL (22023, 22004), unknown (PU005), another company''s (PU009), cancelled (PU003), expired (PU002), given twice (22023).';

-- A link that may be delivered for a company: known (PU005), the company's (PU009), active (PU003),
-- campaign not expired (PU002). Returns its value and expiry.
CREATE FUNCTION plum.check_token_deliverable(company_id bigint, token text, OUT value numeric, OUT expires_at timestamptz)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_link record;
BEGIN
	SELECT l.company_id, l.state, l.value, k.expires_at INTO v_link
		FROM plum.link l JOIN plum.campaign k USING (campaign_id) WHERE l.token = check_token_deliverable.token;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown link', 'No link has this token.', 'Create the link with plum.create_link() first.');
	END IF;
	IF v_link.company_id <> check_token_deliverable.company_id THEN
		PERFORM plum.raise('PU009', 'link belongs to another company',
			format('The link is of company %s, not %s.', v_link.company_id, company_id));
	END IF;
	IF v_link.state <> 'active' THEN
		PERFORM plum.raise('PU003', format('link %s', v_link.state), 'Only an active link can be delivered.');
	END IF;
	IF v_link.expires_at <= plum.now() THEN
		PERFORM plum.raise('PU002', 'link expired', format('The link''s campaign expired at %s.', v_link.expires_at));
	END IF;
	value := v_link.value;
	expires_at := v_link.expires_at;
END
$$;
COMMENT ON FUNCTION plum.check_token_deliverable(bigint, text) IS
	'Internal: refuse a link that cannot be delivered for a company: unknown (PU005), another company''s (PU009), redeemed or cancelled (PU003), expired (PU002); returns its value and expiry.';

CREATE FUNCTION plum.distribute(admin_id bigint, channel text, destination text, template text,
		points numeric DEFAULT NULL, recipient plum.recipient DEFAULT NULL, codes plum.code[] DEFAULT NULL,
		link text DEFAULT NULL, send_at timestamptz DEFAULT NULL, vars jsonb DEFAULT '{}')
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_company plum.company;
	v_d plum.delivery;
	v_pool numeric;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.check_channel(channel);
	PERFORM plum.not_null(template, 'template');
	PERFORM plum.not_null(vars, 'vars');
	SELECT c.* INTO v_company FROM plum.admin a JOIN plum.company c USING (company_id) WHERE a.admin_id = distribute.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', distribute.admin_id));
	END IF;
	v_d.destination := plum.check_destination(channel, destination);
	IF num_nonnulls(points, codes, link) <> 1 THEN
		PERFORM plum.raise('22023', 'a delivery carries exactly one reward',
			format('%s of points, codes and link are given.', num_nonnulls(points, codes, link)),
			'Give points (with a recipient), codes, or a link.');
	END IF;
	IF recipient IS NOT NULL AND points IS NULL THEN
		PERFORM plum.raise('22023', 'a recipient goes with points only',
			'Codes and links are bearer rewards; the destination says where they go.');
	END IF;
	IF jsonb_typeof(vars) <> 'object' THEN
		PERFORM plum.raise('22023', 'vars must be a JSON object', format('vars is a JSON %s.', jsonb_typeof(vars)),
			'Give the template variables as {"name": "Alice", ...}.');
	END IF;
	IF send_at < v_now THEN
		PERFORM plum.raise('22023', 'send_at is in the past', format('send_at is %s; it is now %s.', send_at, v_now),
			'Leave send_at NULL to send now.');
	END IF;
	v_d.company_id := v_company.company_id;
	v_d.admin_id := distribute.admin_id;
	v_d.kind := 'reward';
	v_d.channel := channel;
	v_d.template := template;
	v_d.vars := vars;
	v_d.created := v_now;
	v_d.attempts := 0;
	v_d.send_at := coalesce(send_at, v_now);
	v_d.state := CASE WHEN send_at > v_now THEN 'scheduled' ELSE 'queued' END;

	IF points IS NOT NULL THEN
		IF channel = 'qr' THEN
			PERFORM plum.raise('22023', 'a qr delivery carries a link or a code', 'A points grant has nothing to encode.',
				'Deliver points on another channel.');
		END IF;
		v_d.reward := 'points';
		v_d.amount := plum.valid_amount(points, v_company.scale);
		IF v_d.amount > v_company.max_grant THEN
			PERFORM plum.raise('PU008', 'amount exceeds the largest grant',
				format('The amount is %s; the largest grant of company %s is %s.', v_d.amount, v_company.company_id,
					round(v_company.max_grant, v_company.scale)),
				'Split the grant, or raise the company''s largest grant.');
		END IF;
		IF recipient IS NULL AND channel IN ('email', 'sms', 'whatsapp') THEN
			recipient := v_d.destination::plum.recipient;
		END IF;
		IF recipient IS NULL THEN
			PERFORM plum.raise('22004', 'recipient must not be null',
				format('A destination on channel %s is not a recipient.', channel), 'Give the recipient of the points.');
		END IF;
		v_d.recipient := recipient;
	ELSIF codes IS NOT NULL THEN
		v_d.reward := 'codes';
		PERFORM plum.check_codes_deliverable(v_company.company_id, codes);
		IF channel = 'qr' AND cardinality(codes) <> 1 THEN
			PERFORM plum.raise('22023', 'a qr delivery carries one code', format('%s codes are given.', cardinality(codes)),
				'Use plum.distribute_bulk() for one QR per code.');
		END IF;
		v_d.codes := codes;
	ELSE
		v_d.reward := 'link';
		PERFORM plum.check_token_deliverable(v_company.company_id, link);
		v_d.token := link;
	END IF;

	v_d.delivery_id := nextval('plum.delivery_delivery_id_seq');
	IF v_d.state = 'queued' THEN
		v_d := plum.send_time(v_d);
	ELSE
		-- check the template now with the fields it will have at release
		PERFORM plum.render_message(template,
			plum.message_fields(v_company, coalesce(v_d.amount, 1), CASE WHEN codes IS NOT NULL THEN '' END,
				CASE WHEN link IS NOT NULL THEN '' END, v_d.send_at, false, vars),
			v_d.reward || ' delivery');
		IF v_d.reward = 'points' THEN
			UPDATE plum.admin a SET pool = a.pool - v_d.amount
				WHERE a.admin_id = distribute.admin_id AND a.pool >= v_d.amount;
			IF NOT FOUND THEN
				SELECT a.pool INTO v_pool FROM plum.admin a WHERE a.admin_id = distribute.admin_id;
				PERFORM plum.raise('PU001', 'insufficient pool',
					format('Admin %s''s pool is %s, requested %s.', distribute.admin_id, round(v_pool, v_company.scale), v_d.amount),
					'Create points into the pool with plum.create_points() first.');
			END IF;
			INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
				VALUES (v_company.company_id, v_now, 'reserve', v_d.amount, distribute.admin_id, v_d.recipient,
					'delivery:' || v_d.delivery_id);
		END IF;
	END IF;
	INSERT INTO plum.delivery SELECT v_d.*;
	IF v_d.state = 'queued' THEN
		PERFORM pg_notify('plum_' || channel, v_d.delivery_id::text);
	END IF;
	RETURN v_d.delivery_id;
END
$$;
COMMENT ON FUNCTION plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb) IS
	'Queue the delivery of one reward (points to a recipient, codes, or a link) on a channel to a destination that fits it, with a message rendered from a template; now (send_at NULL) or at send_at. A scheduled points grant reserves its value from the pool until release. Returns the delivery id.';

CREATE FUNCTION plum.distribute_bulk(admin_id bigint, channel text, destinations text[], template text,
		points numeric[] DEFAULT NULL, recipients plum.recipient[] DEFAULT NULL, codes plum.code[] DEFAULT NULL,
		links text[] DEFAULT NULL, send_at timestamptz DEFAULT NULL, vars jsonb DEFAULT '{}',
		vars_each jsonb[] DEFAULT NULL)
	RETURNS bigint[]
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_company plum.company;
	v_n integer;
	v_dest text[];
	v_bad bigint;
	v_reward text;
	v_state text;
	v_total numeric;
	v_pool numeric;
	v_floor bigint;
	v_expiry timestamptz;
	v_ids bigint[];
	v_link record;
BEGIN
	PERFORM plum.not_null(admin_id, 'admin_id');
	PERFORM plum.check_channel(channel);
	PERFORM plum.not_null(destinations, 'destinations');
	PERFORM plum.not_null(template, 'template');
	PERFORM plum.not_null(vars, 'vars');
	SELECT c.* INTO v_company FROM plum.admin a JOIN plum.company c USING (company_id) WHERE a.admin_id = distribute_bulk.admin_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown admin', format('There is no admin %s.', distribute_bulk.admin_id));
	END IF;
	v_n := cardinality(destinations);
	IF num_nonnulls(points, codes, links) <> 1 THEN
		PERFORM plum.raise('22023', 'a delivery carries exactly one reward',
			format('%s of points, codes and links are given.', num_nonnulls(points, codes, links)),
			'Give points (with recipients), codes (one per destination), or links (one per destination).');
	END IF;
	IF recipients IS NOT NULL AND points IS NULL THEN
		PERFORM plum.raise('22023', 'recipients go with points only');
	END IF;
	IF cardinality(coalesce(points::text[], codes::text[], links)) <> v_n
			OR (recipients IS NOT NULL AND cardinality(recipients) <> v_n)
			OR (vars_each IS NOT NULL AND cardinality(vars_each) <> v_n) THEN
		PERFORM plum.raise('22023', 'arrays differ in length',
			format('There are %s destinations, %s rewards, %s recipients and %s vars_each.', v_n,
				cardinality(coalesce(points::text[], codes::text[], links)), coalesce(cardinality(recipients)::text, 'no'),
				coalesce(cardinality(vars_each)::text, 'no')),
			'Give one reward (and recipient, and vars_each entry) per destination.');
	END IF;
	IF jsonb_typeof(vars) <> 'object' THEN
		PERFORM plum.raise('22023', 'vars must be a JSON object', format('vars is a JSON %s.', jsonb_typeof(vars)));
	END IF;
	SELECT min(u.i) INTO v_bad FROM unnest(vars_each) WITH ORDINALITY AS u(v, i) WHERE jsonb_typeof(u.v) IS DISTINCT FROM 'object' AND u.v IS NOT NULL;
	IF v_bad IS NOT NULL THEN
		PERFORM plum.raise('22023', format('vars_each #%s must be a JSON object', v_bad));
	END IF;
	IF send_at < v_now THEN
		PERFORM plum.raise('22023', 'send_at is in the past', format('send_at is %s; it is now %s.', send_at, v_now),
			'Leave send_at NULL to send now.');
	END IF;
	IF v_n = 0 THEN
		RETURN '{}';
	END IF;
	SELECT min(u.i) INTO v_bad FROM unnest(destinations) WITH ORDINALITY AS u(d, i) WHERE u.d IS NULL;
	IF v_bad IS NOT NULL THEN
		PERFORM plum.raise('22004', format('destination #%s must not be null', v_bad));
	END IF;
	-- destinations: set-based; on a bad one, find it and say which
	BEGIN
		IF channel = 'email' THEN
			SELECT array_agg(d::plum.recipient::text ORDER BY i) INTO v_dest FROM unnest(destinations) WITH ORDINALITY AS u(d, i);
			SELECT min(i) INTO v_bad FROM unnest(v_dest) WITH ORDINALITY AS u(d, i) WHERE plum.recipient_kind(d::plum.recipient) <> 'email';
		ELSIF channel IN ('sms', 'whatsapp') THEN
			SELECT array_agg(d::plum.recipient::text ORDER BY i) INTO v_dest FROM unnest(destinations) WITH ORDINALITY AS u(d, i);
			SELECT min(i) INTO v_bad FROM unnest(v_dest) WITH ORDINALITY AS u(d, i) WHERE plum.recipient_kind(d::plum.recipient) <> 'phone';
		ELSE
			v_dest := destinations;
			SELECT min(i) INTO v_bad FROM unnest(v_dest) WITH ORDINALITY AS u(d, i) WHERE btrim(d) = '';
		END IF;
	EXCEPTION WHEN invalid_text_representation THEN
		v_bad := 0;
	END;
	IF v_bad IS NOT NULL THEN
		FOR i IN 1 .. v_n LOOP
			PERFORM plum.check_destination(channel, destinations[i], format('destination #%s', i));
		END LOOP;
	END IF;
	v_state := CASE WHEN send_at > v_now THEN 'scheduled' ELSE 'queued' END;

	IF points IS NOT NULL THEN
		v_reward := 'points';
		IF channel = 'qr' THEN
			PERFORM plum.raise('22023', 'a qr delivery carries a link or a code', 'A points grant has nothing to encode.');
		END IF;
		IF recipients IS NULL THEN
			IF channel NOT IN ('email', 'sms', 'whatsapp') THEN
				PERFORM plum.raise('22004', 'recipients must not be null',
					format('Destinations on channel %s are not recipients.', channel), 'Give the recipients of the points.');
			END IF;
			recipients := v_dest::plum.recipient[];
		END IF;
		SELECT min(u.i) INTO v_bad FROM unnest(recipients) WITH ORDINALITY AS u(r, i) WHERE u.r IS NULL;
		IF v_bad IS NOT NULL THEN
			PERFORM plum.raise('22004', format('recipient #%s must not be null', v_bad));
		END IF;
		SELECT min(u.i) INTO v_bad FROM unnest(points) WITH ORDINALITY AS u(a, i)
			WHERE a IS NULL OR NOT (a > 0 AND a < 10::numeric ^ (18 - v_company.scale) AND a = round(a, v_company.scale));
		IF v_bad IS NOT NULL THEN
			PERFORM plum.valid_amount(points[v_bad], v_company.scale, format('amount #%s', v_bad));
		END IF;
		SELECT min(u.i) INTO v_bad FROM unnest(points) WITH ORDINALITY AS u(a, i) WHERE a > v_company.max_grant;
		IF v_bad IS NOT NULL THEN
			PERFORM plum.raise('PU008', 'amount exceeds the largest grant',
				format('Amount #%s is %s; the largest grant of company %s is %s.', v_bad,
					round(points[v_bad], v_company.scale), v_company.company_id, round(v_company.max_grant, v_company.scale)),
				'Split the grant, or raise the company''s largest grant.');
		END IF;
		points := (SELECT array_agg(round(a, v_company.scale) ORDER BY i) FROM unnest(points) WITH ORDINALITY AS u(a, i));
		v_total := (SELECT sum(a) FROM unnest(points) AS a);
	ELSIF codes IS NOT NULL THEN
		v_reward := 'codes';
		PERFORM plum.check_codes_deliverable(v_company.company_id, codes);
	ELSE
		v_reward := 'link';
		SELECT min(u.i) INTO v_bad FROM unnest(links) WITH ORDINALITY AS u(t, i) WHERE u.t IS NULL;
		IF v_bad IS NOT NULL THEN
			PERFORM plum.raise('22004', format('link #%s must not be null', v_bad));
		END IF;
		SELECT u.t, u.i, count(*) OVER (PARTITION BY u.t) AS times, l.token IS NOT NULL AS known, l.company_id, l.state,
				k.expires_at
			INTO v_link
			FROM unnest(links) WITH ORDINALITY AS u(t, i)
			LEFT JOIN plum.link l ON l.token = u.t LEFT JOIN plum.campaign k ON k.campaign_id = l.campaign_id
			ORDER BY (l.token IS NULL) DESC, (l.company_id <> v_company.company_id) DESC, (l.state <> 'active') DESC,
				coalesce(k.expires_at <= v_now, false) DESC, 3 DESC, u.i
			LIMIT 1;
		IF NOT v_link.known OR v_link.company_id <> v_company.company_id OR v_link.state <> 'active'
				OR v_link.expires_at <= v_now THEN
			BEGIN
				PERFORM plum.check_token_deliverable(v_company.company_id, v_link.t);
			EXCEPTION WHEN OTHERS THEN
				DECLARE
					v_state5 text;
					v_msg text;
					v_detail text;
				BEGIN
					GET STACKED DIAGNOSTICS v_state5 = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
					PERFORM plum.raise(v_state5, format('link #%s: %s', v_link.i, v_msg), v_detail);
				END;
			END;
		ELSIF v_link.times > 1 THEN
			PERFORM plum.raise('22023', 'duplicate link', format('Link #%s is given %s times.', v_link.i, v_link.times),
				'Give each link once.');
		END IF;
	END IF;

	-- check the template once with the fields this delivery will have
	PERFORM plum.render_message(template,
		plum.message_fields(v_company, 1, CASE WHEN v_reward = 'codes' THEN '' END, CASE WHEN v_reward = 'link' THEN '' END,
			coalesce(send_at, v_now), false, vars || coalesce(vars_each[1], '{}')),
		v_reward || ' delivery');

	IF v_reward = 'points' AND v_state = 'queued' THEN
		-- lock the pool first, so the grants' ledger entries (after v_floor) are this call's only
		PERFORM 1 FROM plum.admin a WHERE a.admin_id = distribute_bulk.admin_id FOR UPDATE;
		v_floor := nextval('plum.journal_entry_id_seq');
		PERFORM plum.give_points_bulk(admin_id, recipients, points, 'distribution');
	ELSIF v_reward = 'points' THEN
		UPDATE plum.admin a SET pool = a.pool - v_total
			WHERE a.admin_id = distribute_bulk.admin_id AND a.pool >= v_total;
		IF NOT FOUND THEN
			SELECT a.pool INTO v_pool FROM plum.admin a WHERE a.admin_id = distribute_bulk.admin_id;
			PERFORM plum.raise('PU001', 'insufficient pool',
				format('Admin %s''s pool is %s, requested %s in %s grants.', distribute_bulk.admin_id,
					round(v_pool, v_company.scale), round(v_total, v_company.scale), v_n),
				'Create points into the pool with plum.create_points() first.');
		END IF;
	ELSIF v_reward = 'codes' AND v_state = 'queued' THEN
		PERFORM plum.mark_codes_distributed(codes);
	END IF;
	v_expiry := plum.expiry_of(v_now, v_company.points_validity);

	-- (unnest, not subscripts: a subscript of a variable-width array walks it from the start)
	WITH src AS MATERIALIZED (
		SELECT u.i, nextval('plum.delivery_delivery_id_seq') AS id, u.dest, u.amount, u.recipient, u.code, u.token,
			vars || coalesce(u.ve, '{}') AS v
		FROM unnest(v_dest, points, recipients, codes, links, vars_each)
			WITH ORDINALITY AS u(dest, amount, recipient, code, token, ve, i)),
	lots AS (
		SELECT j.entry_id, row_number() OVER (ORDER BY j.entry_id) AS i FROM plum.journal j
		WHERE v_floor IS NOT NULL AND j.entry_id > v_floor AND j.kind = 'give' AND j.admin_id = distribute_bulk.admin_id),
	info AS (
		SELECT src.*, lots.entry_id AS lot_id,
			CASE v_reward WHEN 'points' THEN src.amount WHEN 'codes' THEN ic.denomination ELSE l.value END AS val,
			CASE v_reward WHEN 'points' THEN v_expiry WHEN 'codes' THEN ic.expires_at ELSE k.expires_at END AS exp,
			CASE v_reward WHEN 'codes' THEN src.code::text WHEN 'link' THEN coalesce(src.v ->> 'link_base', '') || src.token END AS qr
		FROM src LEFT JOIN lots USING (i)
			LEFT JOIN plum.issued_code ic ON ic.code = src.code
			LEFT JOIN plum.link l ON l.token = src.token LEFT JOIN plum.campaign k ON k.campaign_id = l.campaign_id),
	ins AS (
		INSERT INTO plum.delivery (delivery_id, company_id, admin_id, kind, channel, destination, reward, recipient, amount,
				codes, token, lot_id, template, vars, message, qr_svg, state, send_at, created, released_at, next_attempt_at)
		SELECT info.id, v_company.company_id, distribute_bulk.admin_id, 'reward', channel, info.dest, v_reward, info.recipient,
			info.amount, CASE WHEN info.code IS NOT NULL THEN ARRAY[info.code] END, info.token, info.lot_id, template, info.v,
			CASE WHEN v_state = 'queued' THEN plum.render_message(template,
				plum.message_fields(v_company, info.val, info.code::text, info.token, info.exp,
					v_reward <> 'points' AND info.exp IS NULL, info.v),
				v_reward || ' delivery') END,
			CASE WHEN v_state = 'queued' AND channel = 'qr' THEN plum.qr_svg(info.qr) END,
			v_state, coalesce(send_at, v_now), v_now,
			CASE WHEN v_state = 'queued' THEN v_now END, CASE WHEN v_state = 'queued' THEN v_now END
		FROM info ORDER BY info.i
		RETURNING delivery_id, recipient, amount),
	res AS (
		INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
		SELECT v_company.company_id, v_now, 'reserve', ins.amount, distribute_bulk.admin_id, ins.recipient,
			'delivery:' || ins.delivery_id
		FROM ins WHERE v_reward = 'points' AND v_state = 'scheduled')
	SELECT array_agg(ins.delivery_id ORDER BY ins.delivery_id) INTO v_ids FROM ins;
	IF v_state = 'queued' THEN
		PERFORM pg_notify('plum_' || channel, v_n::text);
	END IF;
	RETURN v_ids;
END
$$;
COMMENT ON FUNCTION plum.distribute_bulk(bigint, text, text[], text, numeric[], plum.recipient[], plum.code[], text[], timestamptz, jsonb, jsonb[]) IS
	'Queue many deliveries in one call, all or nothing: destinations[i] gets points[i] (to recipients[i], by default the destination), codes[i] or links[i], with vars merged with vars_each[i]; now or at send_at. Returns the delivery ids in destination order.';

CREATE FUNCTION plum.release_deliveries() RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_d plum.delivery;
	v_n integer := 0;
	v_error text;
	v_channels text[] := '{}';
BEGIN
	-- overlapping runs skip each other's rows; a row a cancellation holds is skipped (and released next time)
	FOR v_d IN SELECT d.* FROM plum.delivery d WHERE d.state = 'scheduled' AND d.send_at <= v_now
			ORDER BY d.send_at, d.delivery_id FOR UPDATE SKIP LOCKED LOOP
		BEGIN
			v_d := plum.send_time(v_d);
			UPDATE plum.delivery d SET lot_id = v_d.lot_id, message = v_d.message, qr_svg = v_d.qr_svg, state = 'queued',
					released_at = v_now, next_attempt_at = v_now
				WHERE d.delivery_id = v_d.delivery_id;
			v_n := v_n + 1;
			IF NOT v_d.channel = ANY (v_channels) THEN
				v_channels := v_channels || v_d.channel;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			-- nothing of this delivery happened; it fails visibly and its reservation goes back to the pool
			GET STACKED DIAGNOSTICS v_error = MESSAGE_TEXT;
			UPDATE plum.delivery d SET state = 'failed', failed_at = v_now, last_error = 'release: ' || v_error
				WHERE d.delivery_id = v_d.delivery_id;
			IF v_d.reward = 'points' THEN
				UPDATE plum.admin a SET pool = a.pool + v_d.amount WHERE a.admin_id = v_d.admin_id;
				INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
					VALUES (v_d.company_id, v_now, 'unreserve', v_d.amount, v_d.admin_id, v_d.recipient,
						'delivery:' || v_d.delivery_id);
			END IF;
		END;
	END LOOP;
	-- deliveries whose senders died on every attempt stop here, visibly
	UPDATE plum.delivery d SET state = 'failed', failed_at = v_now,
			last_error = coalesce(d.last_error || '; ', '') || format('lease of %s expired on attempt %s', d.claimed_by, d.attempts)
		WHERE d.state = 'claimed' AND d.next_attempt_at <= v_now AND d.attempts >= plum.max_attempts();
	PERFORM pg_notify('plum_' || c, 'release') FROM unnest(v_channels) AS c;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION plum.release_deliveries() IS
	'Move scheduled deliveries that are due (send_at <= plum.now()) to the queue: scheduled points are granted now from their reservation, codes marked distributed, messages rendered; NOTIFY plum_<channel>. A delivery whose release fails is marked failed (reservation returned). Also fails claimed deliveries whose last lease ran out. Returns how many were queued. Run it from pg_cron every minute.';

CREATE FUNCTION plum.max_attempts() RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN 5;
COMMENT ON FUNCTION plum.max_attempts() IS
	'Internal: how many times a delivery is claimed before a failure is final (5).';

CREATE FUNCTION plum.claim_deliveries(channel text, sender text, batch_size integer, lease interval DEFAULT '5 minutes')
	RETURNS SETOF plum.delivery
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
BEGIN
	PERFORM plum.check_channel(channel);
	PERFORM plum.not_null(sender, 'sender');
	PERFORM plum.not_null(batch_size, 'batch_size');
	PERFORM plum.not_null(lease, 'lease');
	IF btrim(sender) = '' THEN
		PERFORM plum.raise('22023', 'sender must not be empty', NULL, 'Name the sender, e.g. host and process id.');
	END IF;
	IF batch_size <= 0 OR batch_size > 10000 THEN
		PERFORM plum.raise('22023', 'batch size out of range', format('The batch size is %s; it must be 1 to 10000.', batch_size));
	END IF;
	IF lease <= interval '0' OR NOT isfinite(lease) THEN
		PERFORM plum.raise('22023', 'lease must be positive', format('The lease is %s.', lease));
	END IF;
	RETURN QUERY
	WITH c AS (
		SELECT d.delivery_id FROM plum.delivery d
		WHERE d.channel = claim_deliveries.channel AND d.state IN ('queued', 'claimed') AND d.next_attempt_at <= v_now
			AND d.attempts < plum.max_attempts()
		ORDER BY d.next_attempt_at, d.delivery_id
		LIMIT batch_size
		FOR UPDATE SKIP LOCKED)
	UPDATE plum.delivery d SET state = 'claimed', claimed_by = sender, lease_until = v_now + lease,
			next_attempt_at = v_now + lease, attempts = d.attempts + 1
		FROM c WHERE d.delivery_id = c.delivery_id
		RETURNING d.*;
END
$$;
COMMENT ON FUNCTION plum.claim_deliveries(text, text, integer, interval) IS
	'A sender claims up to batch_size due deliveries of a channel, oldest first (FOR UPDATE SKIP LOCKED: never one handed to two senders), under a lease; a delivery whose lease ran out is claimable again. Returns the claimed rows (message, destination, qr_svg, ...).';

CREATE FUNCTION plum.report_deliveries(delivery_ids bigint[], sender text, outcome text, error text DEFAULT NULL)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_bad record;
	v_n integer;
	v_done bigint[];
BEGIN
	PERFORM plum.not_null(delivery_ids, 'delivery_ids');
	PERFORM plum.not_null(sender, 'sender');
	PERFORM plum.not_null(outcome, 'outcome');
	IF outcome NOT IN ('sent', 'delivered', 'failed', 'bounced') THEN
		PERFORM plum.raise('22023', format('unknown outcome "%s"', outcome), NULL, 'The outcomes are sent, delivered, failed and bounced.');
	END IF;
	IF array_position(delivery_ids, NULL) IS NOT NULL THEN
		PERFORM plum.raise('22004', format('delivery id #%s must not be null', array_position(delivery_ids, NULL)));
	END IF;
	IF cardinality(delivery_ids) = 0 THEN
		RETURN 0;
	END IF;
	-- the happy path is one UPDATE of the deliveries this sender holds; if any was not updated, the
	-- error below undoes the others (all or nothing) and says why the first one was refused
	WITH upd AS (
		UPDATE plum.delivery d SET
				state = CASE
					WHEN outcome = 'failed' AND d.attempts < plum.max_attempts() THEN 'queued'
					ELSE outcome END,
				next_attempt_at = CASE WHEN outcome = 'failed' AND d.attempts < plum.max_attempts()
					THEN v_now + least(interval '1 minute' * (2 ^ (d.attempts - 1)), interval '1 hour') END,
				lease_until = NULL,
				sent_at = CASE WHEN outcome IN ('sent', 'delivered') THEN coalesce(d.sent_at, v_now) ELSE d.sent_at END,
				delivered_at = CASE WHEN outcome = 'delivered' THEN v_now END,
				failed_at = CASE WHEN outcome = 'bounced' OR (outcome = 'failed' AND d.attempts >= plum.max_attempts()) THEN v_now END,
				last_error = CASE WHEN outcome IN ('failed', 'bounced') THEN coalesce(error, outcome) ELSE d.last_error END
			WHERE d.delivery_id = ANY (delivery_ids) AND d.claimed_by = sender
				AND (d.state = 'claimed' OR (d.state = 'sent' AND outcome IN ('delivered', 'bounced')))
			RETURNING d.delivery_id)
	SELECT count(*), array_agg(upd.delivery_id) INTO v_n, v_done FROM upd;
	IF v_n = (SELECT count(DISTINCT u.id) FROM unnest(delivery_ids) AS u(id)) THEN
		RETURN v_n;
	END IF;
	SELECT w.id, h.delivery_id IS NOT NULL AS known, h.state, h.claimed_by, h.lease_until INTO v_bad
		FROM unnest(delivery_ids) AS w(id) LEFT JOIN plum.delivery h ON h.delivery_id = w.id
		WHERE w.id <> ALL (coalesce(v_done, '{}'))
		ORDER BY (h.delivery_id IS NULL) DESC, w.id LIMIT 1;
	IF NOT v_bad.known THEN
		PERFORM plum.raise('PU005', 'unknown delivery', format('There is no delivery %s.', v_bad.id));
	ELSIF v_bad.state = 'claimed' THEN
		PERFORM plum.raise('PU009', 'delivery not held by this sender',
			format('Delivery %s is held by %s until %s, not by %s.', v_bad.id, v_bad.claimed_by, v_bad.lease_until, sender),
			'Its lease ran out and another sender claimed it: do not report it.');
	ELSIF v_bad.claimed_by IS DISTINCT FROM sender THEN
		PERFORM plum.raise('PU009', 'delivery not held by this sender',
			format('Delivery %s is %s%s, not held by %s.', v_bad.id, v_bad.state,
				coalesce(' (last held by ' || v_bad.claimed_by || ')', ''), sender),
			'Report only deliveries this sender claimed.');
	ELSE
		PERFORM plum.raise('PU009', format('delivery already %s', v_bad.state),
			format('Delivery %s is %s; %s cannot follow.', v_bad.id, v_bad.state, outcome),
			'After sent, only delivered or bounced can be reported.');
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION plum.report_deliveries(bigint[], text, text, text) IS
	'A sender reports the outcome of deliveries it holds (sent, delivered, failed, bounced); all or nothing: PU005 for an unknown delivery, PU009 for one it does not hold (another sender''s, or reclaimed after its lease ran out). failed retries after 1, 2, 4, 8 minutes, then stays failed; bounced is final. Returns how many were reported.';

CREATE FUNCTION plum.report_delivery(delivery_id bigint, sender text, outcome text, error text DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_state text;
BEGIN
	PERFORM plum.not_null(delivery_id, 'delivery_id');
	PERFORM plum.report_deliveries(ARRAY[delivery_id], sender, outcome, error);
	SELECT d.state INTO v_state FROM plum.delivery d WHERE d.delivery_id = report_delivery.delivery_id;
	RETURN v_state;
END
$$;
COMMENT ON FUNCTION plum.report_delivery(bigint, text, text, text) IS
	'A sender reports the outcome of one delivery it holds: sent, delivered, failed (retried with backoff up to 5 attempts) or bounced (final). PU005 unknown, PU009 not held by this sender. Returns the delivery''s new state (queued when a failure will be retried).';

CREATE FUNCTION plum.cancel_delivery(delivery_id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_d plum.delivery;
	v_now timestamptz := plum.now();
BEGIN
	PERFORM plum.not_null(delivery_id, 'delivery_id');
	SELECT d.* INTO v_d FROM plum.delivery d WHERE d.delivery_id = cancel_delivery.delivery_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown delivery', format('There is no delivery %s.', delivery_id));
	END IF;
	IF v_d.state NOT IN ('scheduled', 'queued') THEN
		PERFORM plum.raise('PU003', format('delivery already %s', v_d.state),
			format('Delivery %s is %s%s.', delivery_id, v_d.state,
				CASE WHEN v_d.state = 'claimed' THEN format(' by %s until %s', v_d.claimed_by, v_d.lease_until) ELSE '' END),
			'Only a scheduled or queued delivery can be cancelled.');
	END IF;
	IF v_d.state = 'scheduled' AND v_d.reward = 'points' THEN
		UPDATE plum.admin a SET pool = a.pool + v_d.amount WHERE a.admin_id = v_d.admin_id;
		INSERT INTO plum.journal (company_id, at, kind, amount, admin_id, recipient, reference)
			VALUES (v_d.company_id, v_now, 'unreserve', v_d.amount, v_d.admin_id, v_d.recipient, 'delivery:' || delivery_id);
	END IF;
	UPDATE plum.delivery d SET state = 'cancelled', cancelled_at = v_now, next_attempt_at = NULL
		WHERE d.delivery_id = cancel_delivery.delivery_id;
END
$$;
COMMENT ON FUNCTION plum.cancel_delivery(bigint) IS
	'Cancel a scheduled or queued delivery (PU003 once claimed, sent or final; PU005 unknown). A scheduled points grant''s reservation returns to the pool; a queued delivery''s reward was made already and stays (only the message is cancelled).';

CREATE FUNCTION plum.queue_expiry_reminders(company_id bigint, within interval, channel text, template text,
		vars jsonb DEFAULT '{}')
	RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
#variable_conflict use_column
DECLARE
	v_now timestamptz := plum.now();
	v_company plum.company;
	v_kind text;
	v_n integer;
BEGIN
	PERFORM plum.not_null(queue_expiry_reminders.company_id, 'company_id');
	PERFORM plum.not_null(within, 'within');
	PERFORM plum.check_channel(channel);
	PERFORM plum.not_null(template, 'template');
	PERFORM plum.not_null(vars, 'vars');
	SELECT * INTO v_company FROM plum.company c WHERE c.company_id = queue_expiry_reminders.company_id;
	IF NOT FOUND THEN
		PERFORM plum.raise('PU005', 'unknown company', format('There is no company %s.', queue_expiry_reminders.company_id));
	END IF;
	IF within <= interval '0' OR NOT isfinite(within) THEN
		PERFORM plum.raise('22023', 'window must be positive', format('The window is %s.', within));
	END IF;
	IF channel = 'qr' THEN
		PERFORM plum.raise('22023', 'a qr delivery carries a link or a code', 'A reminder has nothing to encode.');
	END IF;
	IF jsonb_typeof(vars) <> 'object' THEN
		PERFORM plum.raise('22023', 'vars must be a JSON object', format('vars is a JSON %s.', jsonb_typeof(vars)));
	END IF;
	PERFORM plum.render_message(template, plum.message_fields(v_company, 1, NULL, NULL, v_now, false, vars), 'reminder');
	-- email reaches email recipients, sms and whatsapp phones; on_screen and api reach every recipient
	v_kind := CASE WHEN channel = 'email' THEN 'email' WHEN channel IN ('sms', 'whatsapp') THEN 'phone' END;
	WITH ins AS (
		INSERT INTO plum.delivery (company_id, kind, channel, destination, recipient, amount, lot_id, template, vars,
				message, state, send_at, created, released_at, next_attempt_at)
		SELECT l.company_id, 'reminder', channel, l.recipient::text, l.recipient, l.remaining, l.lot_id, template, vars,
			plum.render_message(template, plum.message_fields(v_company, l.remaining, NULL, NULL, l.expires_at, false, vars), 'reminder'),
			'queued', v_now, v_now, v_now, v_now
		FROM plum.point_lots l
		WHERE l.company_id = queue_expiry_reminders.company_id AND l.expires_at <= v_now + within AND l.remaining > 0
			AND (v_kind IS NULL OR plum.recipient_kind(l.recipient) = v_kind)
		ORDER BY l.expires_at, l.recipient, l.lot_id
		ON CONFLICT (company_id, recipient, lot_id) WHERE kind = 'reminder' DO NOTHING
		RETURNING 1)
	SELECT count(*) INTO v_n FROM ins;
	IF v_n > 0 THEN
		PERFORM pg_notify('plum_' || channel, v_n::text);
	END IF;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION plum.queue_expiry_reminders(bigint, interval, text, text, jsonb) IS
	'Queue one reminder per recipient and live points lot of a company expiring within the window (never twice for a lot, whatever the channel); email goes to email recipients, sms and whatsapp to phones. Template fields: amount (what is left of the lot), expires_at, currency, company, name and vars. Returns how many were queued.';

CREATE VIEW plum.deliveries AS
	SELECT d.delivery_id, d.company_id, d.admin_id, d.kind, d.channel, d.destination, d.reward, d.recipient,
		round(d.amount, c.scale) AS amount, d.codes, d.token, d.lot_id, d.state, d.send_at, d.created, d.released_at,
		d.attempts, d.next_attempt_at, d.claimed_by, d.lease_until, d.sent_at, d.delivered_at, d.failed_at,
		d.cancelled_at, d.last_error, d.message, d.qr_svg IS NOT NULL AS has_qr, c.base_currency AS currency
	FROM plum.delivery d JOIN plum.company c USING (company_id);
COMMENT ON VIEW plum.deliveries IS 'Every delivery (reward or reminder) with its state.';
COMMENT ON COLUMN plum.deliveries.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.deliveries.company_id IS 'Company id.';
COMMENT ON COLUMN plum.deliveries.admin_id IS 'The admin who distributed it (NULL for reminders).';
COMMENT ON COLUMN plum.deliveries.kind IS 'reward or reminder.';
COMMENT ON COLUMN plum.deliveries.channel IS 'email, sms, whatsapp, qr, on_screen or api.';
COMMENT ON COLUMN plum.deliveries.destination IS 'Where it goes.';
COMMENT ON COLUMN plum.deliveries.reward IS 'points, codes or link (NULL for reminders).';
COMMENT ON COLUMN plum.deliveries.recipient IS 'The recipient of the points (or of the reminder).';
COMMENT ON COLUMN plum.deliveries.amount IS 'Points granted (or reminded of).';
COMMENT ON COLUMN plum.deliveries.codes IS 'Codes delivered.';
COMMENT ON COLUMN plum.deliveries.token IS 'Link token delivered.';
COMMENT ON COLUMN plum.deliveries.lot_id IS 'The points lot (grant entry) made, or reminded of.';
COMMENT ON COLUMN plum.deliveries.state IS 'scheduled, queued, claimed, sent, delivered, failed, bounced or cancelled.';
COMMENT ON COLUMN plum.deliveries.send_at IS 'When it is (or was) to be sent.';
COMMENT ON COLUMN plum.deliveries.created IS 'When it was queued or scheduled.';
COMMENT ON COLUMN plum.deliveries.released_at IS 'When it entered the queue.';
COMMENT ON COLUMN plum.deliveries.attempts IS 'How many times senders claimed it.';
COMMENT ON COLUMN plum.deliveries.next_attempt_at IS 'Queued: when it may be claimed; claimed: when the lease ends.';
COMMENT ON COLUMN plum.deliveries.claimed_by IS 'The sender that holds or last held it.';
COMMENT ON COLUMN plum.deliveries.lease_until IS 'When the current claim ends.';
COMMENT ON COLUMN plum.deliveries.sent_at IS 'When it was reported sent.';
COMMENT ON COLUMN plum.deliveries.delivered_at IS 'When it was reported delivered.';
COMMENT ON COLUMN plum.deliveries.failed_at IS 'When it failed for good or bounced.';
COMMENT ON COLUMN plum.deliveries.cancelled_at IS 'When it was cancelled.';
COMMENT ON COLUMN plum.deliveries.last_error IS 'The last error reported or met at release.';
COMMENT ON COLUMN plum.deliveries.message IS 'The rendered message (NULL while scheduled).';
COMMENT ON COLUMN plum.deliveries.has_qr IS 'Whether it carries a QR code (qr channel; the SVG is in plum.delivery.qr_svg, returned by claim_deliveries).';
COMMENT ON COLUMN plum.deliveries.currency IS 'The company''s base currency.';

CREATE VIEW plum.delivery_queue AS
	SELECT d.company_id, d.channel, d.state, count(*) AS deliveries,
		count(*) FILTER (WHERE d.state IN ('queued', 'claimed') AND d.next_attempt_at <= plum.now()) AS claimable,
		min(d.created) AS oldest, min(CASE WHEN d.state = 'scheduled' THEN d.send_at ELSE d.next_attempt_at END) AS next_at
	FROM plum.delivery d
	GROUP BY d.company_id, d.channel, d.state;
COMMENT ON VIEW plum.delivery_queue IS 'Queue depth: deliveries per company, channel and state.';
COMMENT ON COLUMN plum.delivery_queue.company_id IS 'Company id.';
COMMENT ON COLUMN plum.delivery_queue.channel IS 'The channel.';
COMMENT ON COLUMN plum.delivery_queue.state IS 'The state.';
COMMENT ON COLUMN plum.delivery_queue.deliveries IS 'How many deliveries are in this state.';
COMMENT ON COLUMN plum.delivery_queue.claimable IS 'How many a sender could claim now (queued and due, or claimed with the lease run out).';
COMMENT ON COLUMN plum.delivery_queue.oldest IS 'When the oldest of them was created.';
COMMENT ON COLUMN plum.delivery_queue.next_at IS 'The earliest send_at (scheduled), next attempt (queued) or lease end (claimed).';

CREATE VIEW plum.delivery_failures AS
	SELECT d.delivery_id, d.company_id, d.channel, d.destination, d.kind, d.reward, d.state, d.attempts, d.last_error,
		d.failed_at, CASE WHEN d.state = 'queued' THEN d.next_attempt_at END AS retry_at, d.claimed_by
	FROM plum.delivery d
	WHERE d.state IN ('failed', 'bounced') OR (d.state IN ('queued', 'claimed') AND d.last_error IS NOT NULL);
COMMENT ON VIEW plum.delivery_failures IS 'Deliveries that failed for good or bounced, and those being retried after a failure, with their last error.';
COMMENT ON COLUMN plum.delivery_failures.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.delivery_failures.company_id IS 'Company id.';
COMMENT ON COLUMN plum.delivery_failures.channel IS 'The channel.';
COMMENT ON COLUMN plum.delivery_failures.destination IS 'Where it was to go.';
COMMENT ON COLUMN plum.delivery_failures.kind IS 'reward or reminder.';
COMMENT ON COLUMN plum.delivery_failures.reward IS 'points, codes or link.';
COMMENT ON COLUMN plum.delivery_failures.state IS 'failed or bounced (final), or queued/claimed (being retried).';
COMMENT ON COLUMN plum.delivery_failures.attempts IS 'How many times it was claimed.';
COMMENT ON COLUMN plum.delivery_failures.last_error IS 'The last error reported by a sender or met at release.';
COMMENT ON COLUMN plum.delivery_failures.failed_at IS 'When it failed for good or bounced (NULL while retried).';
COMMENT ON COLUMN plum.delivery_failures.retry_at IS 'When it may be claimed again (queued for a retry).';
COMMENT ON COLUMN plum.delivery_failures.claimed_by IS 'The sender that last held it.';

CREATE VIEW plum.scheduled_deliveries AS
	SELECT d.delivery_id, d.company_id, d.admin_id, d.channel, d.destination, d.reward, d.recipient,
		round(d.amount, c.scale) AS reserved, d.codes, d.token, d.send_at, d.created, c.base_currency AS currency
	FROM plum.delivery d JOIN plum.company c USING (company_id)
	WHERE d.state = 'scheduled';
COMMENT ON VIEW plum.scheduled_deliveries IS 'Deliveries waiting for their send_at (released by plum.release_deliveries()).';
COMMENT ON COLUMN plum.scheduled_deliveries.delivery_id IS 'Delivery id.';
COMMENT ON COLUMN plum.scheduled_deliveries.company_id IS 'Company id.';
COMMENT ON COLUMN plum.scheduled_deliveries.admin_id IS 'The admin who scheduled it.';
COMMENT ON COLUMN plum.scheduled_deliveries.channel IS 'The channel.';
COMMENT ON COLUMN plum.scheduled_deliveries.destination IS 'Where it will go.';
COMMENT ON COLUMN plum.scheduled_deliveries.reward IS 'points, codes or link.';
COMMENT ON COLUMN plum.scheduled_deliveries.recipient IS 'The recipient of scheduled points.';
COMMENT ON COLUMN plum.scheduled_deliveries.reserved IS 'Points reserved from the admin''s pool until release (NULL for codes and links).';
COMMENT ON COLUMN plum.scheduled_deliveries.codes IS 'Codes to deliver.';
COMMENT ON COLUMN plum.scheduled_deliveries.token IS 'Link token to deliver.';
COMMENT ON COLUMN plum.scheduled_deliveries.send_at IS 'When it will be released.';
COMMENT ON COLUMN plum.scheduled_deliveries.created IS 'When it was scheduled.';
COMMENT ON COLUMN plum.scheduled_deliveries.currency IS 'The company''s base currency.';

-- verify_deliveries(): reservations in the ledger against the scheduled points grants (plum.verify() unions it).
CREATE FUNCTION plum.verify_deliveries(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH adm AS (
		SELECT a.company_id, a.admin_id,
			coalesce((SELECT coalesce(sum(j.amount) FILTER (WHERE j.kind = 'reserve'), 0) - coalesce(sum(j.amount) FILTER (WHERE j.kind = 'unreserve'), 0)
				FROM plum.journal j WHERE j.admin_id = a.admin_id AND j.kind IN ('reserve', 'unreserve')), 0) AS ledger,
			coalesce((SELECT sum(d.amount) FROM plum.delivery d
				WHERE d.admin_id = a.admin_id AND d.state = 'scheduled' AND d.reward = 'points'), 0) AS scheduled
		FROM plum.admin a
		WHERE verify_deliveries.company_id IS NULL OR a.company_id = verify_deliveries.company_id)
	SELECT adm.company_id, 'reservations',
			format('admin %s: ledger reserves %s, scheduled points grants hold %s', adm.admin_id, adm.ledger, adm.scheduled)
		FROM adm WHERE adm.ledger <> adm.scheduled
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify_deliveries(bigint) IS
	'The distribution part of plum.verify(): for every admin, reserve - unreserve in the ledger = the points of its scheduled deliveries.';

REVOKE EXECUTE ON FUNCTION
	plum.check_channel(text),
	plum.check_destination(text, text, text),
	plum.message_time(timestamptz),
	plum.message_fields(plum.company, numeric, text, text, timestamptz, boolean, jsonb),
	plum.render_message(text, jsonb, text),
	plum.send_time(plum.delivery),
	plum.check_codes_deliverable(bigint, plum.code[]),
	plum.check_token_deliverable(bigint, text),
	plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb),
	plum.distribute_bulk(bigint, text, text[], text, numeric[], plum.recipient[], plum.code[], text[], timestamptz, jsonb, jsonb[]),
	plum.release_deliveries(),
	plum.max_attempts(),
	plum.claim_deliveries(text, text, integer, interval),
	plum.report_deliveries(bigint[], text, text, text),
	plum.report_delivery(bigint, text, text, text),
	plum.cancel_delivery(bigint),
	plum.queue_expiry_reminders(bigint, interval, text, text, jsonb),
	plum.verify_deliveries(bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.distribute(bigint, text, text, text, numeric, plum.recipient, plum.code[], text, timestamptz, jsonb),
	plum.distribute_bulk(bigint, text, text[], text, numeric[], plum.recipient[], plum.code[], text[], timestamptz, jsonb, jsonb[]),
	plum.release_deliveries(),
	plum.cancel_delivery(bigint),
	plum.queue_expiry_reminders(bigint, interval, text, text, jsonb)
	TO plum_admin;
GRANT EXECUTE ON FUNCTION
	plum.claim_deliveries(text, text, integer, interval),
	plum.report_deliveries(bigint[], text, text, text),
	plum.report_delivery(bigint, text, text, text)
	TO plum_app;
GRANT SELECT ON plum.deliveries, plum.delivery_queue, plum.delivery_failures, plum.scheduled_deliveries TO plum_reader;
SELECT pg_catalog.pg_extension_config_dump('plum.delivery', '');
SELECT pg_catalog.pg_extension_config_dump('plum.delivery_delivery_id_seq', '');
-- verify(): replay the whole ledger against admin pools and every area's balances.

-- Admin pools: what each admin created, and what its pool holds, against the ledger.
-- pool = created - points given - codes issued + codes cancelled (value back to the issuer's pool)
--        - (reserve - unreserve) (value held for scheduled points grants, sql/75_distribution.sql)
CREATE FUNCTION plum.verify_pools(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH adm AS (
		SELECT a.company_id, a.admin_id, a.created_total, a.pool,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'create'), 0) AS created,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'give'), 0) AS given,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_issue'), 0) AS issued,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'code_cancel'), 0) AS cancelled,
			coalesce(sum(j.amount) FILTER (WHERE j.kind = 'reserve'), 0) - coalesce(sum(j.amount) FILTER (WHERE j.kind = 'unreserve'), 0) AS reserved
		FROM plum.admin a LEFT JOIN plum.journal j ON j.admin_id = a.admin_id
			AND j.kind IN ('create', 'give', 'code_issue', 'code_cancel', 'reserve', 'unreserve')
		WHERE verify_pools.company_id IS NULL OR a.company_id = verify_pools.company_id
		GROUP BY a.company_id, a.admin_id, a.created_total, a.pool)
	SELECT adm.company_id, 'admin created', format('admin %s: created %s, ledger says %s', adm.admin_id, adm.created_total, adm.created)
		FROM adm WHERE adm.created_total <> adm.created
	UNION ALL
	SELECT adm.company_id, 'admin pool',
			format('admin %s: pool %s, ledger says %s (created %s - given %s - codes issued %s + codes cancelled %s%s)',
				adm.admin_id, adm.pool, adm.created - adm.given - adm.issued + adm.cancelled - adm.reserved,
				adm.created, adm.given, adm.issued, adm.cancelled,
				CASE WHEN adm.reserved <> 0 THEN format(' - reserved for scheduled grants %s', adm.reserved) ELSE '' END)
		FROM adm WHERE adm.pool <> adm.created - adm.given - adm.issued + adm.cancelled - adm.reserved
	UNION ALL
	SELECT adm.company_id, 'threshold', format('admin %s: created %s over its threshold', adm.admin_id, adm.created_total)
		FROM adm JOIN plum.admin a USING (admin_id) WHERE adm.created_total > a.threshold;
	END;
COMMENT ON FUNCTION plum.verify_pools(bigint) IS
	'The pools part of plum.verify(): created and pool of every admin against the ledger (created = pool + given + codes issued - codes cancelled + reserved for scheduled grants).';

CREATE FUNCTION plum.verify(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	SELECT v.* FROM (
		SELECT * FROM plum.verify_pools(verify.company_id)
		UNION ALL
		SELECT * FROM plum.verify_points(verify.company_id)
		UNION ALL
		SELECT * FROM plum.verify_codes(verify.company_id)
		UNION ALL
		SELECT * FROM plum.verify_links(verify.company_id)
		UNION ALL
		SELECT * FROM plum.verify_deliveries(verify.company_id)
	) AS v
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum.verify(bigint) IS
	'Replay the ledger against admin pools, wallets, redemptions, codes and links for one company (or all); one row per inconsistency, no rows when consistent.';
-- Privileges and pg_dump support. Tables are written only through plum's functions
-- (SECURITY DEFINER, search_path pinned); roles get EXECUTE on the API and SELECT on the views.

REVOKE ALL ON ALL TABLES IN SCHEMA plum FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA plum FROM PUBLIC;
GRANT USAGE ON SCHEMA plum TO plum_reader;

-- API functions: nobody but the roles below (and superusers) may call them
REVOKE EXECUTE ON FUNCTION
	plum.create_company(text, text, interval, numeric[], numeric),
	plum.add_admin(bigint, plum.recipient, text, numeric),
	plum.set_threshold(bigint, bigint, numeric),
	plum.create_points(bigint, numeric),
	plum.give_points(bigint, plum.recipient, numeric, text, text),
	plum.give_points_bulk(bigint, plum.recipient[], numeric[], text),
	plum.redeem_points(bigint, plum.recipient, numeric, text, text),
	plum.points_balance(bigint, plum.recipient),
	plum.reverse_redemption(bigint, numeric, text),
	plum.expire_points(),
	plum.verify(bigint),
	plum.verify_pools(bigint),
	plum.verify_points(bigint),
	plum.claim_key(bigint, text, text, text, bigint),
	plum.settle_account(bigint, plum.recipient, timestamptz),
	plum.admin_guard(),
	plum.journal_append_only(),
	plum.check_amount(numeric, integer, text),
	plum.valid_amount(numeric, smallint, text),
	plum.raise(text, text, text, text),
	plum.not_null(anyelement, text),
	plum.expiry_of(timestamptz, interval)
	FROM PUBLIC;

GRANT SELECT ON plum.admins, plum.wallets, plum.point_lots, plum.ledger, plum.currency TO plum_reader;

GRANT EXECUTE ON FUNCTION
	plum.redeem_points(bigint, plum.recipient, numeric, text, text),
	plum.points_balance(bigint, plum.recipient),
	plum.reverse_redemption(bigint, numeric, text)
	TO plum_app;

GRANT EXECUTE ON FUNCTION
	plum.create_company(text, text, interval, numeric[], numeric),
	plum.add_admin(bigint, plum.recipient, text, numeric),
	plum.set_threshold(bigint, bigint, numeric),
	plum.create_points(bigint, numeric),
	plum.give_points(bigint, plum.recipient, numeric, text, text),
	plum.give_points_bulk(bigint, plum.recipient[], numeric[], text),
	plum.expire_points(),
	plum.verify(bigint)
	TO plum_admin;

-- pg_dump keeps every plum row (currencies come with the extension script itself)
SELECT pg_catalog.pg_extension_config_dump('plum.company', '');
SELECT pg_catalog.pg_extension_config_dump('plum.company_company_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum.admin', '');
SELECT pg_catalog.pg_extension_config_dump('plum.admin_admin_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum.account', '');
SELECT pg_catalog.pg_extension_config_dump('plum.journal', '');
SELECT pg_catalog.pg_extension_config_dump('plum.journal_entry_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum.idempotency', '');
