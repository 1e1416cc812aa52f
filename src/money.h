/*
 * money.h — amounts as int64 counts of the currency's minor unit (money.c):
 * exact conversion from and to numeric, and overflow-checked arithmetic.
 */
#ifndef PLUM_MONEY_H
#define PLUM_MONEY_H

#include "plum.h"

#include "common/int.h"
#include "lib/stringinfo.h"
#include "utils/numeric.h"

/* the largest number of decimals a currency may have (ISO 4217 uses 0-4) */
#define PLUM_MAX_SCALE 4

/*
 * The money limit: the largest absolute amount plum handles, in minor units
 * (10^18 - 1).  No write takes a wallet's total, a code's balance or an
 * admin's pool or created total past it, so sums over them never overflow.
 */
#define PLUM_MAX_MINOR INT64CONST(999999999999999999)

/* numeric <-> minor units; NumericToMinor refuses what is not exact (PU008) */
extern int64 NumericToMinor(Numeric amount, int scale, const char *what);
extern Numeric MinorToNumeric(int64 minor, int scale);
extern char *MinorToCString(int64 minor, int scale);
extern void AppendMinor(StringInfo buf, int64 minor, int scale);

/* refuse a zero or negative amount (PU008) */
extern void CheckPositive(int64 minor, int scale, const char *what);

/* an amount argument checked as plum.check_amount() does: minor units, > 0, exact */
extern int64 CheckAmount(Numeric amount, int scale, const char *what);

/* raise PU008 for a + b or a - b leaving int64 (op says which) */
extern void MoneyOverflow(const char *op, int64 a, int64 b, int scale) pg_attribute_noreturn();

/* a + b in minor units, or PU008 */
static inline int64
MoneyAdd(int64 a, int64 b, int scale)
{
	int64		result;

	if (unlikely(pg_add_s64_overflow(a, b, &result)))
		MoneyOverflow("Adding", a, b, scale);
	return result;
}

/* a - b in minor units, or PU008 */
static inline int64
MoneySub(int64 a, int64 b, int scale)
{
	int64		result;

	if (unlikely(pg_sub_s64_overflow(a, b, &result)))
		MoneyOverflow("Subtracting from", a, b, scale);
	return result;
}

#endif							/* PLUM_MONEY_H */
