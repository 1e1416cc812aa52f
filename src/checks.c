/*
 * checks.c — the row rules of plum's hot tables as C functions, each the one
 * CHECK constraint of its table.
 *
 * PostgreSQL rebuilds a table's CHECK expressions from their stored node
 * trees (stringToNode, then expression planning) in every statement that
 * writes the table, before evaluating them.  A redemption of a link, of a
 * code or a checkout writes rows whose tables carried three to seven
 * declarative CHECKs each: rebuilding them took a tenth of redeem_link's
 * backend time (perf).  One call of a C function is rebuilt in a fraction of
 * that.  Each function keeps the exact SQL meaning of the constraints it
 * replaces (NULL passes a CHECK; numeric comparisons by numeric_cmp, so NaN
 * and infinities compare as in SQL); its COMMENT lists them.
 */
#include "plum.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

/* numeric comparison as SQL's <, =, > (NaN above everything, equal to itself) */
static int
NumCmp0(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b));
}

/* a numeric zero */
static Datum
Zero(void)
{
	return NumericGetDatum(int64_to_numeric(0));
}

/* whether a text equals a C string */
static bool
TextIs(text *t, const char *s)
{
	size_t		len = strlen(s);

	return VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), s, len) == 0;
}

PG_FUNCTION_INFO_V1(plum_link_row_valid);
/*
 * SQL: plum_internal.link_row_valid(token, value, state, redeemed_at,
 * item_id, billing_id, cancelled_at) RETURNS boolean — the CHECK of
 * plum_internal.link: a token of 32 symbols of A-Z a-z 0-9 - _, a value > 0,
 * a state among active, redeemed and cancelled, redeemed exactly when
 * redeemed_at, item_id and billing_id are all set, cancelled exactly when
 * cancelled_at is.  Not strict: a NULL argument passes the rules it is in,
 * as in a CHECK (the columns that may not be NULL are NOT NULL).
 */
Datum
plum_link_row_valid(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0))
	{
		text	   *token = PG_GETARG_TEXT_PP(0);
		const char *s = VARDATA_ANY(token);

		if (VARSIZE_ANY_EXHDR(token) != 32)
			PG_RETURN_BOOL(false);
		for (int i = 0; i < 32; i++)
			if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
				  (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
				PG_RETURN_BOOL(false);
	}
	if (!PG_ARGISNULL(1) && NumCmp0(PG_GETARG_DATUM(1), Zero()) <= 0)
		PG_RETURN_BOOL(false);
	if (!PG_ARGISNULL(2))
	{
		text	   *state = PG_GETARG_TEXT_PP(2);
		bool		redeemed = TextIs(state, "redeemed");
		bool		cancelled = TextIs(state, "cancelled");

		if (!redeemed && !cancelled && !TextIs(state, "active"))
			PG_RETURN_BOOL(false);
		if (redeemed != (!PG_ARGISNULL(3) && !PG_ARGISNULL(4) && !PG_ARGISNULL(5)))
			PG_RETURN_BOOL(false);
		if (cancelled != !PG_ARGISNULL(6))
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}

PG_FUNCTION_INFO_V1(plum_code_row_valid);
/*
 * SQL: plum_internal.code_row_valid(denomination, balance, cancelled_at)
 * RETURNS boolean — the CHECK of plum_internal.issued_code: a denomination >
 * 0, a balance from 0 to the denomination, no balance left once cancelled.
 */
Datum
plum_code_row_valid(PG_FUNCTION_ARGS)
{
	Datum		zero = Zero();

	if (!PG_ARGISNULL(0) && NumCmp0(PG_GETARG_DATUM(0), zero) <= 0)
		PG_RETURN_BOOL(false);
	if (!PG_ARGISNULL(1))
	{
		Datum		balance = PG_GETARG_DATUM(1);

		if (NumCmp0(balance, zero) < 0)
			PG_RETURN_BOOL(false);
		if (!PG_ARGISNULL(0) && NumCmp0(balance, PG_GETARG_DATUM(0)) > 0)
			PG_RETURN_BOOL(false);
		if (!PG_ARGISNULL(2) && NumCmp0(balance, zero) != 0)
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}

PG_FUNCTION_INFO_V1(plum_order_row_valid);
/*
 * SQL: plum_internal.order_row_valid(total, discount, codes, points, due,
 * refunded, refunded_at) RETURNS boolean — the CHECK of
 * plum_internal.shop_order: a total > 0; discount, codes, points and due
 * each >= 0 and summing to the total; refunded from 0 to codes + points +
 * due, and equal to it once refunded_at is set (the whole order refunded).
 * Every argument but refunded_at is NOT NULL in the table.
 */
Datum
plum_order_row_valid(PG_FUNCTION_ARGS)
{
	Datum		zero = Zero();
	Datum		sum;
	Datum		paid;

	for (int i = 0; i < 6; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_BOOL(true);
	if (NumCmp0(PG_GETARG_DATUM(0), zero) <= 0)
		PG_RETURN_BOOL(false);
	for (int i = 1; i <= 5; i++)
		if (NumCmp0(PG_GETARG_DATUM(i), zero) < 0)
			PG_RETURN_BOOL(false);
	paid = DirectFunctionCall2(numeric_add, PG_GETARG_DATUM(2), PG_GETARG_DATUM(3));
	paid = DirectFunctionCall2(numeric_add, paid, PG_GETARG_DATUM(4));
	sum = DirectFunctionCall2(numeric_add, PG_GETARG_DATUM(1), paid);
	if (NumCmp0(sum, PG_GETARG_DATUM(0)) != 0)
		PG_RETURN_BOOL(false);
	if (NumCmp0(PG_GETARG_DATUM(5), paid) > 0)
		PG_RETURN_BOOL(false);
	if (!PG_ARGISNULL(6) && NumCmp0(PG_GETARG_DATUM(5), paid) != 0)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(true);
}

PG_FUNCTION_INFO_V1(plum_payment_row_valid);
/*
 * SQL: plum_internal.payment_row_valid(instrument, amount, refunded, code,
 * redemption_id) RETURNS boolean — the CHECK of plum_internal.order_payment:
 * an instrument among voucher, code, points and due; an amount >= 0;
 * refunded from 0 to the amount, always 0 for the voucher; a code exactly
 * for the code instrument, a redemption id exactly for the points.
 */
Datum
plum_payment_row_valid(PG_FUNCTION_ARGS)
{
	Datum		zero = Zero();

	if (!PG_ARGISNULL(0))
	{
		text	   *instrument = PG_GETARG_TEXT_PP(0);
		bool		voucher = TextIs(instrument, "voucher");
		bool		code = TextIs(instrument, "code");
		bool		points = TextIs(instrument, "points");

		if (!voucher && !code && !points && !TextIs(instrument, "due"))
			PG_RETURN_BOOL(false);
		if (code != !PG_ARGISNULL(3) || points != !PG_ARGISNULL(4))
			PG_RETURN_BOOL(false);
		if (voucher && !PG_ARGISNULL(2) && NumCmp0(PG_GETARG_DATUM(2), zero) != 0)
			PG_RETURN_BOOL(false);
	}
	if (!PG_ARGISNULL(1) && NumCmp0(PG_GETARG_DATUM(1), zero) < 0)
		PG_RETURN_BOOL(false);
	if (!PG_ARGISNULL(2))
	{
		if (NumCmp0(PG_GETARG_DATUM(2), zero) < 0)
			PG_RETURN_BOOL(false);
		if (!PG_ARGISNULL(1) && NumCmp0(PG_GETARG_DATUM(2), PG_GETARG_DATUM(1)) > 0)
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}
