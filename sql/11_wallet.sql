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
				  amount numeric, remaining numeric, available_at timestamptz)
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

CREATE FUNCTION plum_internal.wallet_add(w plum.wallet, lot_id bigint, issued_at timestamptz,
								expires_at timestamptz, amount numeric, at timestamptz, available_at timestamptz)
	RETURNS plum.wallet
	AS 'MODULE_PATHNAME', 'plum_wallet_add'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_add(plum.wallet, bigint, timestamptz, timestamptz, numeric, timestamptz, timestamptz) IS
	'The wallet with a new lot pending until available_at (counting in no balance and no redemption before it), merged into the lot with the same expiry and availability if any; lots empty or expired at "at" are dropped';

CREATE FUNCTION plum_internal.wallet_pending(w plum.wallet, at timestamptz) RETURNS numeric
	AS 'MODULE_PATHNAME', 'plum_wallet_pending'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_pending(plum.wallet, timestamptz) IS
	'Pending points of the wallet at an instant: the remaining points of lots that become available after it';

CREATE FUNCTION plum_internal.wallet_take_back(w plum.wallet, issued_at timestamptz, available_at timestamptz,
								expires_at timestamptz, amount numeric, at timestamptz, OUT wallet plum.wallet, OUT taken numeric)
	RETURNS record
	AS 'MODULE_PATHNAME', 'plum_wallet_take_back'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION plum_internal.wallet_take_back(plum.wallet, timestamptz, timestamptz, timestamptz, numeric, timestamptz) IS
	'Takes back up to an amount from the lot an award (issued_at, available_at, expires_at) went into, possibly merged since, if it is still live or pending at "at": the new wallet and the amount taken (0 when the lot is gone)';

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
