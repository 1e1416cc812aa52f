/*
 * wallet_sql.c — the SQL functions over plum.wallet (sql/11_wallet.sql):
 * thin wrappers that convert numeric arguments to minor units and call the
 * lot algebra of lots.c.
 */
#include "wallet.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"

/* A numeric argument in w's minor units (PU008 when not exact) */
static inline int64
ArgMinor(FunctionCallInfo fcinfo, int argno, int scale, const char *what)
{
	return NumericToMinor(PG_GETARG_NUMERIC(argno), scale, what);
}

/* A row of three wallets for a function with three OUT wallet parameters */
static Datum
WalletRow(FunctionCallInfo fcinfo, PlumWallet *a, PlumWallet *b, PlumWallet *c)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = PlumWalletGetDatum(a);
	values[1] = PlumWalletGetDatum(b);
	values[2] = PlumWalletGetDatum(c);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

PG_FUNCTION_INFO_V1(plum_wallet_balance);
/* SQL: plum.wallet_balance(w, at) — the live balance at at */
Datum
plum_wallet_balance(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);

	PG_RETURN_NUMERIC(MinorToNumeric(WalletLive(w, at), w->scale));
}

PG_FUNCTION_INFO_V1(plum_wallet_total);
/* SQL: plum.wallet_total(w) — all remaining, expired or not */
Datum
plum_wallet_total(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);

	PG_RETURN_NUMERIC(MinorToNumeric(WalletTotal(w), w->scale));
}

PG_FUNCTION_INFO_V1(plum_wallet_next_expiry);
/* SQL: plum.wallet_next_expiry(w, at) — the next instant a live lot expires, or NULL */
Datum
plum_wallet_next_expiry(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz next;

	if (!WalletNextExpiry(w, at, &next))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(next);
}

PG_FUNCTION_INFO_V1(plum_wallet_lots);
/* SQL: plum.wallet_lots(w) — every lot, in FIFO order */
Datum
plum_wallet_lots(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < w->nlots; i++)
	{
		const PlumLot *lot = &w->lots[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		values[0] = Int64GetDatum(lot->lot_id);
		values[1] = TimestampTzGetDatum(lot->issued_at);
		values[2] = TimestampTzGetDatum(lot->expires_at);
		values[3] = NumericGetDatum(MinorToNumeric(lot->amount, w->scale));
		values[4] = NumericGetDatum(MinorToNumeric(lot->remaining, w->scale));
		values[5] = TimestampTzGetDatum(lot->available_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(plum_wallet_empty);
/* SQL: plum.wallet_empty(scale) — a wallet with no lots */
Datum
plum_wallet_empty(PG_FUNCTION_ARGS)
{
	PG_RETURN_PLUMWALLET_P(WalletNew(PG_GETARG_INT32(0), 0));
}

PG_FUNCTION_INFO_V1(plum_wallet_add);
/*
 * SQL: plum.wallet_add(w, lot_id, issued_at, expires_at, amount, at
 * [, available_at]) — a grant, pending until available_at when given
 */
Datum
plum_wallet_add(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	PlumLot		lot;
	PlumWallet *expired;

	lot.lot_id = PG_GETARG_INT64(1);
	lot.issued_at = PG_GETARG_TIMESTAMPTZ(2);
	lot.expires_at = PG_GETARG_TIMESTAMPTZ(3);
	lot.amount = ArgMinor(fcinfo, 4, w->scale, "amount");
	lot.remaining = lot.amount;
	lot.available_at = PG_NARGS() > 6 ? PG_GETARG_TIMESTAMPTZ(6) : lot.issued_at;
	CheckPositive(lot.amount, w->scale, "amount");

	PG_RETURN_PLUMWALLET_P(WalletAdd(w, &lot, PG_GETARG_TIMESTAMPTZ(5), &expired));
}

PG_FUNCTION_INFO_V1(plum_wallet_live);
/* SQL: plum.wallet_live(w, at) — the lots still live at at */
Datum
plum_wallet_live(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	PlumWallet *expired;

	PG_RETURN_PLUMWALLET_P(WalletSplitExpired(w, PG_GETARG_TIMESTAMPTZ(1), &expired));
}

PG_FUNCTION_INFO_V1(plum_wallet_expired);
/* SQL: plum.wallet_expired(w, at) — the lots expired at at */
Datum
plum_wallet_expired(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	PlumWallet *expired;

	(void) WalletSplitExpired(w, PG_GETARG_TIMESTAMPTZ(1), &expired);
	PG_RETURN_PLUMWALLET_P(expired);
}

PG_FUNCTION_INFO_V1(plum_wallet_consume);
/* SQL: plum.wallet_consume(w, amount, at) — FIFO consumption, PU001 when short */
Datum
plum_wallet_consume(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	int64		amount = ArgMinor(fcinfo, 1, w->scale, "amount");
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	PlumWallet *result;
	PlumWallet *taken;
	PlumWallet *expired;

	CheckPositive(amount, w->scale, "amount");
	if (!WalletConsume(w, amount, at, &result, &taken, &expired))
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INSUFFICIENT),
				 errmsg("insufficient points"),
				 errdetail("balance is %s, requested %s",
						   MinorToCString(WalletLive(w, at), w->scale),
						   MinorToCString(amount, w->scale))));
	return WalletRow(fcinfo, result, taken, expired);
}

PG_FUNCTION_INFO_V1(plum_wallet_reversible);
/* SQL: plum.wallet_reversible(taken, already_reversed) — what is left to reverse */
Datum
plum_wallet_reversible(PG_FUNCTION_ARGS)
{
	PlumWallet *taken = PG_GETARG_PLUMWALLET_P(0);
	int64		already = ArgMinor(fcinfo, 1, taken->scale, "amount already reversed");

	PG_RETURN_PLUMWALLET_P(WalletReversible(taken, already));
}

PG_FUNCTION_INFO_V1(plum_wallet_restore);
/* SQL: plum.wallet_restore(w, taken, already_reversed, amount, at) — a reversal */
Datum
plum_wallet_restore(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	PlumWallet *taken = PG_GETARG_PLUMWALLET_P(1);
	int64		already;
	int64		amount;
	PlumWallet *result;
	PlumWallet *restored;
	PlumWallet *expired;

	WalletCheckSameScale(w, taken);
	already = ArgMinor(fcinfo, 2, w->scale, "amount already reversed");
	amount = ArgMinor(fcinfo, 3, w->scale, "amount");
	CheckPositive(amount, w->scale, "amount");
	result = WalletRestore(w, taken, already, amount,
								 PG_GETARG_TIMESTAMPTZ(4), &restored, &expired);
	return WalletRow(fcinfo, result, restored, expired);
}

PG_FUNCTION_INFO_V1(plum_wallet_pending);
/* SQL: plum.wallet_pending(w, at) — points of lots not yet available at at */
Datum
plum_wallet_pending(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);

	PG_RETURN_NUMERIC(MinorToNumeric(WalletPending(w, at), w->scale));
}

PG_FUNCTION_INFO_V1(plum_wallet_take_back);
/*
 * SQL: plum.wallet_take_back(w, issued_at, available_at, expires_at, amount,
 * at, OUT wallet, OUT taken numeric) — up to amount taken back from the lot
 * an award went into (still live or pending at at)
 */
Datum
plum_wallet_take_back(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	int64		amount = ArgMinor(fcinfo, 4, w->scale, "amount");
	int64		took;
	PlumLot		award;
	PlumWallet *result;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (amount < 0)
		CheckPositive(amount, w->scale, "amount");
	memset(&award, 0, sizeof(award));
	award.issued_at = PG_GETARG_TIMESTAMPTZ(1);
	award.available_at = PG_GETARG_TIMESTAMPTZ(2);
	award.expires_at = PG_GETARG_TIMESTAMPTZ(3);
	result = WalletTakeBack(w, &award, amount, PG_GETARG_TIMESTAMPTZ(5), &took);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = PlumWalletGetDatum(result);
	values[1] = NumericGetDatum(MinorToNumeric(took, w->scale));
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}
