/*
 * money.c — amounts as int64 minor units: exact conversion from and to
 * numeric, overflow-checked arithmetic, and plum.check_amount().
 *
 * plum keeps every amount as an int64 count of the currency's minor unit
 * (cents for USD, yen for JPY, fils for KWD).  Conversion from numeric is
 * exact or refused: NaN, infinities, amounts with more decimals than the
 * currency has, and amounts too large for int64 are PU008.
 */
#include "money.h"

#include "utils/builtins.h"

/* Refuse an amount that is not a finite number */
static inline void
CheckFinite(Numeric amount, const char *what)
{
	if (numeric_is_nan(amount) || numeric_is_inf(amount))
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
				 errmsg("invalid %s", what),
				 errdetail("The %s is %s; it must be a finite number.", what,
						   numeric_is_nan(amount) ? "NaN" :
						   DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(amount))))));
}

/* Convert an exact numeric amount to minor units of a currency with scale decimals */
int64
NumericToMinor(Numeric amount, int scale, const char *what)
{
	char	   *text;
	const char *p;
	bool		negative = false;
	int64		result = 0;
	int			decimals = 0;
	bool		seen_point = false;

	Assert(scale >= 0 && scale <= PLUM_MAX_SCALE);
	CheckFinite(amount, what);

	/* numeric_out never uses exponents: [-]digits[.digits] */
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(amount)));
	p = text;
	if (*p == '-')
	{
		negative = true;
		p++;
	}
	for (; *p; p++)
	{
		int			digit;

		if (*p == '.')
		{
			seen_point = true;
			continue;
		}
		digit = *p - '0';
		if (seen_point)
		{
			decimals++;
			if (decimals > scale)
			{
				if (digit != 0)
					ereport(ERROR,
							(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
							 errmsg("%s has too many decimal places", what),
							 errdetail("The %s is %s; the currency has %d decimal place%s.",
									   what, text, scale, scale == 1 ? "" : "s"),
							 errhint("Round the %s to the currency's minor unit.", what)));
				continue;
			}
		}
		if (pg_mul_s64_overflow(result, 10, &result) ||
			pg_add_s64_overflow(result, digit, &result) ||
			result > PLUM_MAX_MINOR)
			ereport(ERROR,
					(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
					 errmsg("%s is out of range", what),
					 errdetail("The %s is %s; plum handles at most 18 significant digits.", what, text)));
	}
	/* scale up the decimals that were not written */
	for (; decimals < scale; decimals++)
	{
		if (pg_mul_s64_overflow(result, 10, &result) || result > PLUM_MAX_MINOR)
			ereport(ERROR,
					(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
					 errmsg("%s is out of range", what),
					 errdetail("The %s is %s; plum handles at most 18 significant digits.", what, text)));
	}
	pfree(text);
	return negative ? -result : result;
}

/* The numeric value of minor units, shown with the currency's decimals */
Numeric
MinorToNumeric(int64 minor, int scale)
{
	return int64_div_fast_to_numeric(minor, scale);
}

/* Minor units as text for messages: 4000 at scale 2 is "40.00" */
char *
MinorToCString(int64 minor, int scale)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(MinorToNumeric(minor, scale))));
}

/* Refuse a zero or negative amount */
void
CheckPositive(int64 minor, int scale, const char *what)
{
	if (minor <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
				 errmsg("%s must be greater than zero", what),
				 errdetail("The %s is %s.", what, MinorToCString(minor, scale))));
}

/* Raise PU008 for money arithmetic that leaves int64 (MoneyAdd, MoneySub) */
pg_noinline void
MoneyOverflow(const char *op, int64 a, int64 b, int scale)
{
	ereport(ERROR,
			(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
			 errmsg("points amount is out of range"),
			 errdetail("%s %s and %s overflows the largest amount a wallet can hold.",
					   op, MinorToCString(a, scale),
					   MinorToCString(b, scale))));
}

/* Append minor units with exactly scale decimals: 4000 at scale 2 is 40.00 */
void
AppendMinor(StringInfo buf, int64 minor, int scale)
{
	uint64		u = minor < 0 ? -((uint64) minor) : (uint64) minor;
	uint64		pow10 = 1;
	int			i;

	for (i = 0; i < scale; i++)
		pow10 *= 10;
	if (minor < 0)
		appendStringInfoChar(buf, '-');
	appendStringInfo(buf, UINT64_FORMAT, u / pow10);
	if (scale > 0)
		appendStringInfo(buf, ".%0*d", scale, (int) (u % pow10));
}

/* An amount checked as plum.check_amount() checks it: exact in minor units, greater than zero */
int64
CheckAmount(Numeric amount, int scale, const char *what)
{
	int64		minor = NumericToMinor(amount, scale, what);

	CheckPositive(minor, scale, what);
	return minor;
}

PG_FUNCTION_INFO_V1(plum_check_amount);
/*
 * SQL: plum.check_amount(amount numeric, scale integer, what text)
 * RETURNS bigint — the amount in minor units, after refusing NULL, NaN,
 * infinities, zero, negatives and too many decimals.
 */
Datum
plum_check_amount(PG_FUNCTION_ARGS)
{
	const char *what = PG_ARGISNULL(2) ? "amount" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	int32		scale;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("scale must not be null")));
	scale = PG_GETARG_INT32(1);
	if (scale < 0 || scale > PLUM_MAX_SCALE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scale %d is out of range", scale),
				 errdetail("A currency has 0 to %d decimal places.", PLUM_MAX_SCALE)));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	PG_RETURN_INT64(CheckAmount(PG_GETARG_NUMERIC(0), scale, what));
}
