/*
 * wallet.c — plum.wallet, a recipient's points lots in one varlena, and the
 * lot algebra behind redemption, expiry and reversal (see wallet.h).
 *
 * Text form is JSON so that BI tools can read it with wallet::text::jsonb:
 *   {"scale": 2, "lots": [{"lot_id": 17, "issued_at": "2026-01-01T00:00:00Z",
 *     "expires_at": "2027-01-01T00:00:00Z", "amount": "100.00",
 *     "remaining": "40.00"}]}
 * Timestamps are always UTC ("Z"), with microseconds only when non-zero
 * (trailing zeros dropped), so the text depends on neither TimeZone nor
 * DateStyle.  Amounts are strings with exactly scale decimals.
 */
#include "wallet.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "common/int.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/tuplestore.h"

/* the most lots a wallet can hold: its size must stay under MaxAllocSize */
#define PLUM_WALLET_MAX_LOTS \
	((int) ((MaxAllocSize - offsetof(PlumWallet, lots)) / sizeof(PlumLot)))

/* bytes of one lot in the binary format: five int64 */
#define PLUM_LOT_WIRE_SIZE (5 * (int) sizeof(int64))

/* how much of a literal an error message quotes */
#define PLUM_EXCERPT_LEN 60

/* a key of a lot (a position or a time) and where it came from, for sorting */
typedef struct KeyIndex
{
	int64		key;
	int			index;
} KeyIndex;

/* the text input being parsed */
typedef struct WalletParser
{
	const char *input;			/* the whole literal, for messages */
	const char *p;				/* the next character */
} WalletParser;

/* an amount as written: digits without the point, and how many were decimals */
typedef struct RawAmount
{
	int64		digits;
	int			decimals;
	const char *text;			/* the string as written, for messages */
	int			len;
} RawAmount;

/* a lot as parsed, before the scale is known */
typedef struct RawLot
{
	int64		lot_id;
	TimestampTz issued_at;
	TimestampTz expires_at;
	RawAmount	amount;
	RawAmount	remaining;
} RawLot;

/* ---------------------------------------------------------------------------
 * Money arithmetic
 * ---------------------------------------------------------------------------
 */

/* Raise PU008 for money arithmetic that leaves int64 */
static pg_noinline void
MoneyOverflow(const char *op, int64 a, int64 b, int scale)
{
	ereport(ERROR,
			(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
			 errmsg("points amount is out of range"),
			 errdetail("%s %s and %s overflows the largest amount a wallet can hold.",
					   op, plum_minor_to_cstring(a, scale),
					   plum_minor_to_cstring(b, scale))));
}

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

/* ---------------------------------------------------------------------------
 * Formatting
 * ---------------------------------------------------------------------------
 */

/* Append an instant as ISO 8601 in UTC: 2026-01-01T00:00:00[.fraction]Z */
static void
AppendTimestamp(StringInfo buf, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "plum.wallet: timestamp " INT64_FORMAT " out of range", ts);

	/* astronomical year numbering, as ISO 8601: 0000 is 1 BC */
	if (tm.tm_year < 0)
		appendStringInfo(buf, "-%04d", -tm.tm_year);
	else
		appendStringInfo(buf, "%04d", tm.tm_year);
	appendStringInfo(buf, "-%02d-%02dT%02d:%02d:%02d",
					 tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (fsec != 0)
	{
		char		frac[8];
		int			len;

		snprintf(frac, sizeof(frac), "%06d", (int) fsec);
		for (len = 6; frac[len - 1] == '0'; len--)
			;
		frac[len] = '\0';
		appendStringInfo(buf, ".%s", frac);
	}
	appendStringInfoChar(buf, 'Z');
}

/* An instant as text for messages */
static char *
TimestampCString(TimestampTz ts)
{
	StringInfoData buf;

	initStringInfo(&buf);
	AppendTimestamp(&buf, ts);
	return buf.data;
}

/* Append minor units with exactly scale decimals: 4000 at scale 2 is 40.00 */
static void
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

/* The start of a literal, for error messages */
static char *
Excerpt(const char *input)
{
	int			len = strlen(input);
	int			cut;

	if (len <= PLUM_EXCERPT_LEN)
		return pstrdup(input);
	cut = pg_mbcliplen(input, len, PLUM_EXCERPT_LEN);
	return psprintf("%.*s...", cut, input);
}

/* ---------------------------------------------------------------------------
 * Lots and wallets
 * ---------------------------------------------------------------------------
 */

/* FIFO order: issued_at, then lot_id */
static inline int
LotFifoCmp(const PlumLot *a, const PlumLot *b)
{
	if (a->issued_at != b->issued_at)
		return a->issued_at < b->issued_at ? -1 : 1;
	if (a->lot_id != b->lot_id)
		return a->lot_id < b->lot_id ? -1 : 1;
	return 0;
}

/* qsort comparator for FIFO order */
static int
LotFifoQsortCmp(const void *a, const void *b)
{
	return LotFifoCmp((const PlumLot *) a, (const PlumLot *) b);
}

/* qsort comparator by expires_at, then FIFO order */
static int
LotExpiryQsortCmp(const void *a, const void *b)
{
	const PlumLot *la = (const PlumLot *) a;
	const PlumLot *lb = (const PlumLot *) b;

	if (la->expires_at != lb->expires_at)
		return la->expires_at < lb->expires_at ? -1 : 1;
	return LotFifoCmp(la, lb);
}

/* qsort comparator for KeyIndex: key, then index */
static int
KeyIndexCmp(const void *a, const void *b)
{
	const KeyIndex *ka = (const KeyIndex *) a;
	const KeyIndex *kb = (const KeyIndex *) b;

	if (ka->key != kb->key)
		return ka->key < kb->key ? -1 : 1;
	if (ka->index != kb->index)
		return ka->index < kb->index ? -1 : 1;
	return 0;
}

/* Positions of w's lots ordered by expires_at (ascending) */
static KeyIndex *
ExpiryOrder(const PlumWallet *w)
{
	KeyIndex   *order = palloc(sizeof(KeyIndex) * Max(w->nlots, 1));
	int			i;

	for (i = 0; i < w->nlots; i++)
	{
		order[i].key = w->lots[i].expires_at;
		order[i].index = i;
	}
	qsort(order, w->nlots, sizeof(KeyIndex), KeyIndexCmp);
	return order;
}

/* Seal a wallet built in place: its size follows nlots */
static inline PlumWallet *
WalletFinish(PlumWallet *w)
{
	SET_VARSIZE(w, PLUM_WALLET_SIZE(w->nlots));
	return w;
}

/* Append a lot; the caller made room */
static inline void
WalletPush(PlumWallet *w, const PlumLot *lot)
{
	w->lots[w->nlots++] = *lot;
}

/* Room for n + extra lots, or an error when a wallet cannot hold that many */
static int
Capacity(int n, int extra)
{
	int			total;

	if (pg_add_s32_overflow(n, extra, &total) || total > PLUM_WALLET_MAX_LOTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many lots in a plum.wallet"),
				 errdetail("A wallet can hold at most %d lots.", PLUM_WALLET_MAX_LOTS)));
	return total;
}

/* Refuse a scale out of range with 22023 */
static inline void
CheckScale(int scale)
{
	if (scale < 0 || scale > PLUM_MAX_SCALE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("wallet scale %d is out of range", scale),
				 errdetail("The scale is the number of decimals of the currency; it must be between 0 and %d.",
						   PLUM_MAX_SCALE)));
}

/* Refuse two wallets of different currencies with 22023 */
static inline void
CheckSameScale(const PlumWallet *a, const PlumWallet *b)
{
	if (a->scale != b->scale)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("wallets of different scales cannot be combined"),
				 errdetail("One wallet has %d decimals, the other %d.",
						   a->scale, b->scale)));
}

/*
 * Merge lot other into lot into (equal expires_at): remaining adds up, the
 * earliest issued_at and smallest lot_id are kept.  Amounts of two lots add
 * up; when restoring, a portion of the same lot_id does not add its original
 * amount again.  The amount never drops below the remaining.
 */
static void
MergeLot(PlumLot *into, const PlumLot *other, bool restoring, int scale)
{
	Assert(into->expires_at == other->expires_at);

	if (restoring && into->lot_id == other->lot_id)
		into->amount = Max(into->amount, other->amount);
	else
		into->amount = MoneyAdd(into->amount, other->amount, scale);
	into->remaining = MoneyAdd(into->remaining, other->remaining, scale);
	into->amount = Max(into->amount, into->remaining);
	into->lot_id = Min(into->lot_id, other->lot_id);
	into->issued_at = Min(into->issued_at, other->issued_at);
}

/*
 * Insert lot into w (sorted, unique expires_at, room for one more): merged
 * into the lot with the same expires_at if there is one, then placed in FIFO
 * order.  O(n).
 */
static void
WalletInsert(PlumWallet *w, const PlumLot *lot, bool restoring)
{
	PlumLot		merged = *lot;
	int			lo;
	int			hi;
	int			i;

	for (i = 0; i < w->nlots; i++)
	{
		if (w->lots[i].expires_at == lot->expires_at)
		{
			MergeLot(&merged, &w->lots[i], restoring, w->scale);
			memmove(&w->lots[i], &w->lots[i + 1],
					sizeof(PlumLot) * (w->nlots - i - 1));
			w->nlots--;
			break;
		}
	}

	/* first position whose lot comes after the merged one */
	lo = 0;
	hi = w->nlots;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (LotFifoCmp(&w->lots[mid], &merged) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&w->lots[lo + 1], &w->lots[lo], sizeof(PlumLot) * (w->nlots - lo));
	w->lots[lo] = merged;
	w->nlots++;
}

/*
 * Bring w's lots (any order, possibly sharing expires_at) to a wallet's
 * invariants: merge equal expiry, sort FIFO, refuse a lot_id seen twice.
 */
static void
WalletNormalize(PlumWallet *w, bool restoring)
{
	int			n = 0;
	int			i;

	if (w->nlots < 2)
		return;

	qsort(w->lots, w->nlots, sizeof(PlumLot), LotExpiryQsortCmp);
	for (i = 0; i < w->nlots; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (n > 0 && w->lots[n - 1].expires_at == w->lots[i].expires_at)
			MergeLot(&w->lots[n - 1], &w->lots[i], restoring, w->scale);
		else
			w->lots[n++] = w->lots[i];
	}
	w->nlots = n;
	qsort(w->lots, w->nlots, sizeof(PlumLot), LotFifoQsortCmp);

	/* a lot_id stands for one lot, hence for one expires_at */
	if (n > 1)
	{
		KeyIndex   *ids = palloc(sizeof(KeyIndex) * n);

		for (i = 0; i < n; i++)
		{
			ids[i].key = w->lots[i].lot_id;
			ids[i].index = i;
		}
		qsort(ids, n, sizeof(KeyIndex), KeyIndexCmp);
		for (i = 1; i < n; i++)
		{
			if (ids[i].key == ids[i - 1].key)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("lot " INT64_FORMAT " has two different expiry instants",
								ids[i].key),
						 errdetail("The lot expires at %s and at %s.",
								   TimestampCString(w->lots[ids[i - 1].index].expires_at),
								   TimestampCString(w->lots[ids[i].index].expires_at))));
		}
		pfree(ids);
	}
}

/* Copy w's lots into live (expires_at > at) and expired, dropping empty lots */
static void
WalletSplitInto(const PlumWallet *w, TimestampTz at, PlumWallet *live,
				PlumWallet *expired)
{
	int			i;

	for (i = 0; i < w->nlots; i++)
	{
		const PlumLot *lot = &w->lots[i];

		CHECK_FOR_INTERRUPTS();
		if (lot->remaining <= 0)
			continue;
		if (lot->expires_at <= at)
			WalletPush(expired, lot);
		else
			WalletPush(live, lot);
	}
}

/* Refuse a lot that no wallet may hold (22023) */
static void
CheckNewLot(const PlumLot *lot, int scale)
{
	if (lot->lot_id <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lot id must be greater than zero"),
				 errdetail("The lot id is " INT64_FORMAT ".", lot->lot_id)));
	if (!IS_VALID_TIMESTAMP(lot->issued_at) || !IS_VALID_TIMESTAMP(lot->expires_at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lot timestamps must be finite"),
				 errdetail("Lot " INT64_FORMAT " has an infinite or out-of-range issued_at or expires_at.",
						   lot->lot_id)));
	if (lot->issued_at >= lot->expires_at)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lot must expire after it is issued"),
				 errdetail("Lot " INT64_FORMAT " is issued at %s and expires at %s.",
						   lot->lot_id, TimestampCString(lot->issued_at),
						   TimestampCString(lot->expires_at))));
	if (lot->remaining < 0 || lot->remaining > lot->amount)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
				 errmsg("lot remaining must be between zero and its amount"),
				 errdetail("Lot " INT64_FORMAT " has amount %s and remaining %s.",
						   lot->lot_id, plum_minor_to_cstring(lot->amount, scale),
						   plum_minor_to_cstring(lot->remaining, scale))));
}

/* ---------------------------------------------------------------------------
 * The C API (wallet.h)
 * ---------------------------------------------------------------------------
 */

/* An empty wallet of the given scale with room for capacity lots */
PlumWallet *
plum_wallet_new(int scale, int capacity)
{
	PlumWallet *w;

	CheckScale(scale);
	capacity = Capacity(capacity, 0);
	if (capacity < 0)
		elog(ERROR, "plum_wallet_new: negative capacity %d", capacity);
	w = (PlumWallet *) palloc0(PLUM_WALLET_SIZE(capacity));
	w->scale = (int16) scale;
	w->flags = 0;
	w->nlots = 0;
	w->unused = 0;
	return WalletFinish(w);
}

/* Sum of remaining over lots with expires_at > at: the live balance */
int64
plum_wallet_live(const PlumWallet *w, TimestampTz at)
{
	int64		sum = 0;
	int			i;

	for (i = 0; i < w->nlots; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (w->lots[i].expires_at > at)
			sum = MoneyAdd(sum, w->lots[i].remaining, w->scale);
	}
	return sum;
}

/* Sum of remaining over all lots, expired or not */
int64
plum_wallet_total(const PlumWallet *w)
{
	int64		sum = 0;
	int			i;

	for (i = 0; i < w->nlots; i++)
	{
		CHECK_FOR_INTERRUPTS();
		sum = MoneyAdd(sum, w->lots[i].remaining, w->scale);
	}
	return sum;
}

/* Earliest expires_at > at among lots with remaining > 0; false if none */
bool
plum_wallet_next_expiry(const PlumWallet *w, TimestampTz at, TimestampTz *next)
{
	bool		found = false;
	TimestampTz best = 0;
	int			i;

	for (i = 0; i < w->nlots; i++)
	{
		const PlumLot *lot = &w->lots[i];

		CHECK_FOR_INTERRUPTS();
		if (lot->remaining > 0 && lot->expires_at > at &&
			(!found || lot->expires_at < best))
		{
			best = lot->expires_at;
			found = true;
		}
	}
	if (found)
		*next = best;
	return found;
}

/* Add a lot (merged on equal expiry); expired lots dropped into *expired */
PlumWallet *
plum_wallet_add(const PlumWallet *w, const PlumLot *lot, TimestampTz at,
				PlumWallet **expired)
{
	int			capacity = Capacity(w->nlots, 1);
	PlumWallet *live = plum_wallet_new(w->scale, capacity);
	PlumWallet *gone = plum_wallet_new(w->scale, capacity);
	int			i;

	CheckNewLot(lot, w->scale);

	/* a lot_id names one lot: it may only come back with the same expiry */
	for (i = 0; i < w->nlots; i++)
	{
		if (w->lots[i].lot_id == lot->lot_id &&
			w->lots[i].expires_at != lot->expires_at)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lot " INT64_FORMAT " is already in the wallet with another expiry",
							lot->lot_id),
					 errdetail("The wallet's lot expires at %s, the new one at %s.",
							   TimestampCString(w->lots[i].expires_at),
							   TimestampCString(lot->expires_at))));
	}

	WalletSplitInto(w, at, live, gone);
	if (lot->remaining > 0)
		WalletInsert(lot->expires_at <= at ? gone : live, lot, false);

	*expired = WalletFinish(gone);
	return WalletFinish(live);
}

/* FIFO consumption of amount as of at; false (nothing touched) when short */
bool
plum_wallet_consume(const PlumWallet *w, int64 amount, TimestampTz at,
					PlumWallet **result, PlumWallet **taken,
					PlumWallet **expired)
{
	PlumWallet *left;
	PlumWallet *took;
	PlumWallet *gone;
	int64		need = amount;
	int			i;

	plum_check_positive(amount, w->scale, "amount");
	if (plum_wallet_live(w, at) < amount)
		return false;

	left = plum_wallet_new(w->scale, w->nlots);
	took = plum_wallet_new(w->scale, w->nlots);
	gone = plum_wallet_new(w->scale, w->nlots);

	for (i = 0; i < w->nlots; i++)
	{
		PlumLot		lot = w->lots[i];

		CHECK_FOR_INTERRUPTS();
		if (lot.remaining <= 0)
			continue;
		if (lot.expires_at <= at)
		{
			WalletPush(gone, &lot);
			continue;
		}
		if (need > 0)
		{
			PlumLot		portion = lot;

			portion.remaining = Min(need, lot.remaining);
			WalletPush(took, &portion);
			lot.remaining = MoneySub(lot.remaining, portion.remaining, w->scale);
			need = MoneySub(need, portion.remaining, w->scale);
		}
		if (lot.remaining > 0)
			WalletPush(left, &lot);
	}
	if (need != 0)
		elog(ERROR, "plum_wallet_consume: live balance changed during consumption");

	*result = WalletFinish(left);
	*taken = WalletFinish(took);
	*expired = WalletFinish(gone);
	return true;
}

/* What of taken is still reversible once already_reversed (latest expiry first) is given back */
PlumWallet *
plum_wallet_reversible(const PlumWallet *taken, int64 already_reversed)
{
	int64		total = plum_wallet_total(taken);
	PlumWallet *result;
	KeyIndex   *order;
	int64		left = already_reversed;
	int			n = 0;
	int			i;

	if (already_reversed < 0 || already_reversed > total)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
				 errmsg("amount already reversed is out of range"),
				 errdetail("The redemption took %s; the amount already reversed is %s.",
						   plum_minor_to_cstring(total, taken->scale),
						   plum_minor_to_cstring(already_reversed, taken->scale))));

	result = plum_wallet_new(taken->scale, taken->nlots);
	memcpy(result->lots, taken->lots, sizeof(PlumLot) * taken->nlots);
	result->nlots = taken->nlots;

	/* the latest-expiring portions were given back first */
	order = ExpiryOrder(result);
	for (i = result->nlots - 1; i >= 0 && left > 0; i--)
	{
		PlumLot    *lot = &result->lots[order[i].index];
		int64		back = Min(left, lot->remaining);

		CHECK_FOR_INTERRUPTS();
		lot->remaining = MoneySub(lot->remaining, back, taken->scale);
		left = MoneySub(left, back, taken->scale);
	}
	pfree(order);

	/* drop the portions fully given back, keeping FIFO order */
	for (i = 0; i < result->nlots; i++)
	{
		if (result->lots[i].remaining > 0)
			result->lots[n++] = result->lots[i];
	}
	result->nlots = n;
	return WalletFinish(result);
}

/* Give amount back to the lots of taken, latest expiry first */
PlumWallet *
plum_wallet_restore(const PlumWallet *w, const PlumWallet *taken,
					int64 already_reversed, int64 amount, TimestampTz at,
					PlumWallet **restored, PlumWallet **expired)
{
	PlumWallet *reversible;
	PlumWallet *back;
	PlumWallet *live;
	PlumWallet *gone;
	KeyIndex   *order;
	int64	   *give;
	int64		total;
	int64		left = amount;
	int			capacity;
	int			nlive;
	int			ngone;
	int			i;

	CheckSameScale(w, taken);
	reversible = plum_wallet_reversible(taken, already_reversed);
	total = plum_wallet_total(reversible);
	if (amount < 0 || amount > total)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
				 errmsg("amount exceeds what is left to reverse"),
				 errdetail("The amount is %s; %s is left to reverse.",
						   plum_minor_to_cstring(amount, w->scale),
						   plum_minor_to_cstring(total, w->scale))));

	/* how much goes back to each portion: latest expires_at first */
	give = palloc0(sizeof(int64) * Max(reversible->nlots, 1));
	order = ExpiryOrder(reversible);
	for (i = reversible->nlots - 1; i >= 0 && left > 0; i--)
	{
		int			k = order[i].index;

		give[k] = Min(left, reversible->lots[k].remaining);
		left = MoneySub(left, give[k], w->scale);
	}
	pfree(order);

	back = plum_wallet_new(w->scale, reversible->nlots);
	for (i = 0; i < reversible->nlots; i++)
	{
		if (give[i] > 0)
		{
			PlumLot		portion = reversible->lots[i];

			portion.remaining = give[i];
			WalletPush(back, &portion);
		}
	}

	/* the wallet's own lots, then the portions: live ones in, expired ones out */
	capacity = Capacity(w->nlots, back->nlots);
	live = plum_wallet_new(w->scale, capacity);
	gone = plum_wallet_new(w->scale, capacity);
	WalletSplitInto(w, at, live, gone);
	nlive = live->nlots;
	ngone = gone->nlots;
	WalletSplitInto(back, at, live, gone);
	if (live->nlots > nlive)
		WalletNormalize(live, true);
	if (gone->nlots > ngone)
		WalletNormalize(gone, true);

	*restored = WalletFinish(back);
	*expired = WalletFinish(gone);
	return WalletFinish(live);
}

/* The live part of w; the expired part in *expired */
PlumWallet *
plum_wallet_split_expired(const PlumWallet *w, TimestampTz at,
						  PlumWallet **expired)
{
	PlumWallet *live = plum_wallet_new(w->scale, w->nlots);
	PlumWallet *gone = plum_wallet_new(w->scale, w->nlots);

	WalletSplitInto(w, at, live, gone);
	*expired = WalletFinish(gone);
	return WalletFinish(live);
}

/* ---------------------------------------------------------------------------
 * Validation (shared by wallet_in and wallet_recv)
 * ---------------------------------------------------------------------------
 */

/* Raise 22P02 for a wallet value that breaks an invariant */
static pg_noinline void
pg_attribute_noreturn()
InvalidWallet(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid plum.wallet value"),
			 errdetail("%s", detail)));
}

/* Refuse a header no wallet has */
static inline void
CheckWalletHeader(int scale, int flags, int nlots)
{
	if (scale < 0 || scale > PLUM_MAX_SCALE)
		InvalidWallet(psprintf("Scale %d is out of range; it must be between 0 and %d.",
							   scale, PLUM_MAX_SCALE));
	if (flags != 0)
		InvalidWallet(psprintf("Flags are %d; they must be 0.", flags));
	if (nlots < 0 || nlots > PLUM_WALLET_MAX_LOTS)
		InvalidWallet(psprintf("Lot count %d is out of range.", nlots));
}

/* Refuse a wallet that breaks any invariant of wallet.h (22P02) */
static void
CheckWallet(const PlumWallet *w)
{
	KeyIndex   *keys;
	int			n = w->nlots;
	int			i;

	CheckWalletHeader(w->scale, w->flags, w->nlots);

	for (i = 0; i < n; i++)
	{
		const PlumLot *lot = &w->lots[i];

		CHECK_FOR_INTERRUPTS();
		if (lot->lot_id <= 0)
			InvalidWallet(psprintf("Lot %d has lot_id " INT64_FORMAT "; lot ids must be greater than zero.",
								   i + 1, lot->lot_id));
		if (!IS_VALID_TIMESTAMP(lot->issued_at))
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") has an issued_at out of range.",
								   i + 1, lot->lot_id));
		if (!IS_VALID_TIMESTAMP(lot->expires_at))
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") has an expires_at out of range.",
								   i + 1, lot->lot_id));
		if (lot->issued_at >= lot->expires_at)
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") expires at %s, not after it is issued at %s.",
								   i + 1, lot->lot_id,
								   TimestampCString(lot->expires_at),
								   TimestampCString(lot->issued_at)));
		if (lot->remaining <= 0)
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") has remaining %s; it must be greater than zero.",
								   i + 1, lot->lot_id,
								   plum_minor_to_cstring(lot->remaining, w->scale)));
		if (lot->remaining > lot->amount)
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") has remaining %s greater than its amount %s.",
								   i + 1, lot->lot_id,
								   plum_minor_to_cstring(lot->remaining, w->scale),
								   plum_minor_to_cstring(lot->amount, w->scale)));
		if (i > 0 && LotFifoCmp(&w->lots[i - 1], lot) == 0)
			InvalidWallet(psprintf("Lots %d and %d have the same lot_id " INT64_FORMAT ".",
								   i, i + 1, lot->lot_id));
		if (i > 0 && LotFifoCmp(&w->lots[i - 1], lot) > 0)
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") is out of order; lots must be sorted by issued_at, then lot_id.",
								   i + 1, lot->lot_id));
	}
	if (n < 2)
		return;

	keys = palloc(sizeof(KeyIndex) * n);

	/* unique lot ids */
	for (i = 0; i < n; i++)
	{
		keys[i].key = w->lots[i].lot_id;
		keys[i].index = i;
	}
	qsort(keys, n, sizeof(KeyIndex), KeyIndexCmp);
	for (i = 1; i < n; i++)
	{
		if (keys[i].key == keys[i - 1].key)
			InvalidWallet(psprintf("Lots %d and %d have the same lot_id " INT64_FORMAT ".",
								   keys[i - 1].index + 1, keys[i].index + 1,
								   keys[i].key));
	}

	/* unique expiry instants */
	for (i = 0; i < n; i++)
	{
		keys[i].key = w->lots[i].expires_at;
		keys[i].index = i;
	}
	qsort(keys, n, sizeof(KeyIndex), KeyIndexCmp);
	for (i = 1; i < n; i++)
	{
		if (keys[i].key == keys[i - 1].key)
			InvalidWallet(psprintf("Lots %d and %d both expire at %s; lots with the same expiry must be merged.",
								   keys[i - 1].index + 1, keys[i].index + 1,
								   TimestampCString(keys[i].key)));
	}
	pfree(keys);
}

/* ---------------------------------------------------------------------------
 * Text input: a small JSON parser for exactly the shape wallet_out prints
 * (keys in any order, any JSON whitespace)
 * ---------------------------------------------------------------------------
 */

/* Raise 22P02 for a malformed literal, saying where */
static pg_noinline void
pg_attribute_noreturn()
ParseError(WalletParser *ps, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("malformed plum.wallet literal: \"%s\"", Excerpt(ps->input)),
			 errdetail("%s (at character %d).", detail,
					   (int) (ps->p - ps->input) + 1)));
}

/* Skip JSON whitespace */
static inline void
SkipSpace(WalletParser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

/* Consume the character c, or fail saying what was expected */
static void
Expect(WalletParser *ps, char c, const char *expected)
{
	SkipSpace(ps);
	if (*ps->p != c)
		ParseError(ps, psprintf("Expected %s", expected));
	ps->p++;
	SkipSpace(ps);
}

/* A JSON string without escapes; *s and *len delimit its content */
static void
ParseString(WalletParser *ps, const char **s, int *len, const char *what)
{
	const char *start;

	SkipSpace(ps);
	if (*ps->p != '"')
		ParseError(ps, psprintf("Expected %s as a JSON string", what));
	start = ++ps->p;
	for (;;)
	{
		unsigned char c = (unsigned char) *ps->p;

		if (c == '"')
			break;
		if (c == '\0')
			ParseError(ps, "Unterminated string");
		if (c == '\\')
			ParseError(ps, "Escape sequences are not allowed in a wallet");
		if (c < 0x20)
			ParseError(ps, "Control character in a string");
		ps->p++;
	}
	*s = start;
	*len = ps->p - start;
	ps->p++;
	SkipSpace(ps);
}

/* A JSON integer that fits int64 */
static int64
ParseInteger(WalletParser *ps, const char *what)
{
	bool		negative = false;
	int64		value = 0;
	const char *start;

	SkipSpace(ps);
	if (*ps->p == '-')
	{
		negative = true;
		ps->p++;
	}
	start = ps->p;
	while (isdigit((unsigned char) *ps->p))
	{
		int			digit = *ps->p - '0';

		/* accumulate negatively so that INT64_MIN fits */
		if (pg_mul_s64_overflow(value, 10, &value) ||
			pg_sub_s64_overflow(value, digit, &value))
			ParseError(ps, psprintf("The %s is out of range", what));
		ps->p++;
	}
	if (ps->p == start)
		ParseError(ps, psprintf("Expected %s as a JSON integer", what));
	if (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')
		ParseError(ps, psprintf("The %s must be an integer", what));
	if (!negative)
	{
		if (value == PG_INT64_MIN)
			ParseError(ps, psprintf("The %s is out of range", what));
		value = -value;
	}
	SkipSpace(ps);
	return value;
}

/* Two digits after the separator sep */
static bool
ParseTwoDigits(const char **p, const char *end, char sep, int *value)
{
	const char *s = *p;

	if (end - s < 3 || s[0] != sep ||
		!isdigit((unsigned char) s[1]) || !isdigit((unsigned char) s[2]))
		return false;
	*value = (s[1] - '0') * 10 + (s[2] - '0');
	*p = s + 3;
	return true;
}

/* An instant written YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC); false if not */
static bool
ParseTimestamp(const char *s, int len, TimestampTz *result)
{
	const char *p = s;
	const char *end = s + len;
	struct pg_tm tm;
	fsec_t		fsec = 0;
	bool		negative = false;
	int			year = 0;
	int			ndigits = 0;

	memset(&tm, 0, sizeof(tm));
	if (p < end && *p == '-')
	{
		negative = true;
		p++;
	}
	while (p < end && isdigit((unsigned char) *p))
	{
		if (++ndigits > 7)
			return false;
		year = year * 10 + (*p++ - '0');
	}
	if (ndigits < 4)
		return false;
	tm.tm_year = negative ? -year : year;
	if (!ParseTwoDigits(&p, end, '-', &tm.tm_mon) ||
		!ParseTwoDigits(&p, end, '-', &tm.tm_mday) ||
		!ParseTwoDigits(&p, end, 'T', &tm.tm_hour) ||
		!ParseTwoDigits(&p, end, ':', &tm.tm_min) ||
		!ParseTwoDigits(&p, end, ':', &tm.tm_sec))
		return false;
	if (p < end && *p == '.')
	{
		int			scale = 100000;

		p++;
		if (p >= end || !isdigit((unsigned char) *p))
			return false;
		for (; p < end && isdigit((unsigned char) *p); p++)
		{
			if (scale == 0)
				return false;	/* more than microseconds */
			fsec += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (p >= end || *p != 'Z' || p + 1 != end)
		return false;
	if (tm.tm_mon < 1 || tm.tm_mon > MONTHS_PER_YEAR ||
		tm.tm_mday < 1 ||
		tm.tm_mday > day_tab[isleap(tm.tm_year) ? 1 : 0][tm.tm_mon - 1] ||
		tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return false;
	if (tm2timestamp(&tm, fsec, NULL, result) != 0 || !IS_VALID_TIMESTAMP(*result))
		return false;
	return true;
}

/* A lot's timestamp field */
static TimestampTz
ParseLotTimestamp(WalletParser *ps, int lotno, const char *key)
{
	const char *s;
	int			len;
	TimestampTz ts;

	ParseString(ps, &s, &len, key);
	if (!ParseTimestamp(s, len, &ts))
		ParseError(ps, psprintf("Lot %d has %s \"%.*s\"; expected a UTC instant such as \"2026-01-01T00:00:00Z\"",
								lotno, key, Min(len, 40), s));
	return ts;
}

/* A lot's amount field: a string of digits with an optional decimal point */
static void
ParseLotAmount(WalletParser *ps, int lotno, const char *key, RawAmount *amount)
{
	const char *s;
	int			len;
	int			i;
	bool		point = false;
	bool		digits_before = false;
	bool		digits_after = false;

	ParseString(ps, &s, &len, key);
	amount->digits = 0;
	amount->decimals = 0;
	amount->text = s;
	amount->len = len;
	for (i = 0; i < len; i++)
	{
		if (s[i] == '.' && !point)
		{
			point = true;
			continue;
		}
		if (!isdigit((unsigned char) s[i]))
			ParseError(ps, psprintf("Lot %d has %s \"%.*s\"; expected a non-negative decimal number such as \"100.00\"",
									lotno, key, Min(len, 40), s));
		if (pg_mul_s64_overflow(amount->digits, 10, &amount->digits) ||
			pg_add_s64_overflow(amount->digits, s[i] - '0', &amount->digits))
			ParseError(ps, psprintf("Lot %d has %s \"%.*s\", which is out of range",
									lotno, key, Min(len, 40), s));
		if (point)
		{
			amount->decimals++;
			digits_after = true;
		}
		else
			digits_before = true;
	}
	if (!digits_before || (point && !digits_after))
		ParseError(ps, psprintf("Lot %d has %s \"%.*s\"; expected a non-negative decimal number such as \"100.00\"",
								lotno, key, Min(len, 40), s));
}

/* Minor units of a parsed amount at the wallet's scale */
static int64
RawAmountToMinor(const RawAmount *amount, int scale, int lotno, const char *key)
{
	int64		minor = amount->digits;
	int			i;

	if (amount->decimals > scale)
		InvalidWallet(psprintf("Lot %d has %s \"%.*s\", with more decimal places than the wallet's scale %d.",
							   lotno, key, Min(amount->len, 40), amount->text, scale));
	for (i = amount->decimals; i < scale; i++)
	{
		if (pg_mul_s64_overflow(minor, 10, &minor))
			InvalidWallet(psprintf("Lot %d has %s \"%.*s\", which is out of range.",
								   lotno, key, Min(amount->len, 40), amount->text));
	}
	return minor;
}

/* Key bits of a lot object */
#define LOT_KEY_LOT_ID		0x01
#define LOT_KEY_ISSUED_AT	0x02
#define LOT_KEY_EXPIRES_AT	0x04
#define LOT_KEY_AMOUNT		0x08
#define LOT_KEY_REMAINING	0x10
#define LOT_KEYS_ALL		0x1F

/* Is the key s[0..len) the word k? */
static inline bool
KeyIs(const char *s, int len, const char *k)
{
	return len == (int) strlen(k) && memcmp(s, k, len) == 0;
}

/* One lot object {"lot_id": ..., ...}, keys in any order, each once */
static void
ParseLot(WalletParser *ps, int lotno, RawLot *lot)
{
	int			seen = 0;

	SkipSpace(ps);
	if (*ps->p != '{')
		ParseError(ps, psprintf("Expected \"{\" to start lot %d", lotno));
	ps->p++;
	for (;;)
	{
		const char *key;
		int			len;
		int			bit;

		ParseString(ps, &key, &len, "a key");
		if (KeyIs(key, len, "lot_id"))
			bit = LOT_KEY_LOT_ID;
		else if (KeyIs(key, len, "issued_at"))
			bit = LOT_KEY_ISSUED_AT;
		else if (KeyIs(key, len, "expires_at"))
			bit = LOT_KEY_EXPIRES_AT;
		else if (KeyIs(key, len, "amount"))
			bit = LOT_KEY_AMOUNT;
		else if (KeyIs(key, len, "remaining"))
			bit = LOT_KEY_REMAINING;
		else
			ParseError(ps, psprintf("Lot %d has unknown key \"%.*s\"; a lot has lot_id, issued_at, expires_at, amount and remaining",
									lotno, Min(len, 40), key));
		if (seen & bit)
			ParseError(ps, psprintf("Lot %d has key \"%.*s\" twice", lotno, len, key));
		seen |= bit;
		Expect(ps, ':', "\":\" after a key");

		switch (bit)
		{
			case LOT_KEY_LOT_ID:
				lot->lot_id = ParseInteger(ps, "lot_id");
				break;
			case LOT_KEY_ISSUED_AT:
				lot->issued_at = ParseLotTimestamp(ps, lotno, "issued_at");
				break;
			case LOT_KEY_EXPIRES_AT:
				lot->expires_at = ParseLotTimestamp(ps, lotno, "expires_at");
				break;
			case LOT_KEY_AMOUNT:
				ParseLotAmount(ps, lotno, "amount", &lot->amount);
				break;
			case LOT_KEY_REMAINING:
				ParseLotAmount(ps, lotno, "remaining", &lot->remaining);
				break;
		}

		SkipSpace(ps);
		if (*ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (*ps->p == '}')
		{
			ps->p++;
			break;
		}
		ParseError(ps, psprintf("Expected \",\" or \"}\" in lot %d", lotno));
	}
	if (seen != LOT_KEYS_ALL)
	{
		const char *missing = !(seen & LOT_KEY_LOT_ID) ? "lot_id" :
			!(seen & LOT_KEY_ISSUED_AT) ? "issued_at" :
			!(seen & LOT_KEY_EXPIRES_AT) ? "expires_at" :
			!(seen & LOT_KEY_AMOUNT) ? "amount" : "remaining";

		ParseError(ps, psprintf("Lot %d has no \"%s\"", lotno, missing));
	}
	SkipSpace(ps);
}

/* The lots array; returns the lots parsed and their count in *nlots */
static RawLot *
ParseLots(WalletParser *ps, int *nlots)
{
	int			capacity = 8;
	int			n = 0;
	RawLot	   *lots = palloc(sizeof(RawLot) * capacity);

	Expect(ps, '[', "\"[\" to start the lots");
	if (*ps->p == ']')
	{
		ps->p++;
		SkipSpace(ps);
		*nlots = 0;
		return lots;
	}
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (n == capacity)
		{
			capacity = Capacity(capacity, capacity);
			lots = repalloc(lots, sizeof(RawLot) * capacity);
		}
		ParseLot(ps, n + 1, &lots[n]);
		n++;
		if (*ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (*ps->p == ']')
		{
			ps->p++;
			break;
		}
		ParseError(ps, psprintf("Expected \",\" or \"]\" after lot %d", n));
	}
	SkipSpace(ps);
	*nlots = n;
	return lots;
}

PG_FUNCTION_INFO_V1(plum_wallet_in);
/* Text input: the JSON form, validated against every invariant */
Datum
plum_wallet_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	WalletParser ps;
	RawLot	   *raw = NULL;
	int			nlots = 0;
	int64		scale = 0;
	bool		have_scale = false;
	bool		have_lots = false;
	PlumWallet *w;
	int			i;

	ps.input = input;
	ps.p = input;

	Expect(&ps, '{', "\"{\" to start the wallet");
	if (*ps.p != '}')
	{
		for (;;)
		{
			const char *key;
			int			len;

			ParseString(&ps, &key, &len, "a key");
			if (KeyIs(key, len, "scale"))
			{
				if (have_scale)
					ParseError(&ps, "Key \"scale\" appears twice");
				Expect(&ps, ':', "\":\" after a key");
				scale = ParseInteger(&ps, "scale");
				have_scale = true;
			}
			else if (KeyIs(key, len, "lots"))
			{
				if (have_lots)
					ParseError(&ps, "Key \"lots\" appears twice");
				Expect(&ps, ':', "\":\" after a key");
				raw = ParseLots(&ps, &nlots);
				have_lots = true;
			}
			else
				ParseError(&ps, psprintf("Unknown key \"%.*s\"; a wallet has scale and lots",
										 Min(len, 40), key));
			if (*ps.p == ',')
			{
				ps.p++;
				continue;
			}
			if (*ps.p == '}')
				break;
			ParseError(&ps, "Expected \",\" or \"}\"");
		}
	}
	ps.p++;
	SkipSpace(&ps);
	if (*ps.p != '\0')
		ParseError(&ps, "Unexpected text after the wallet");
	if (!have_scale)
		ParseError(&ps, "The wallet has no \"scale\"");
	if (!have_lots)
		ParseError(&ps, "The wallet has no \"lots\"");
	if (scale < 0 || scale > PLUM_MAX_SCALE)
		InvalidWallet(psprintf("Scale " INT64_FORMAT " is out of range; it must be between 0 and %d.",
							   scale, PLUM_MAX_SCALE));

	w = plum_wallet_new((int) scale, nlots);
	for (i = 0; i < nlots; i++)
	{
		PlumLot    *lot = &w->lots[i];

		lot->lot_id = raw[i].lot_id;
		lot->issued_at = raw[i].issued_at;
		lot->expires_at = raw[i].expires_at;
		lot->amount = RawAmountToMinor(&raw[i].amount, (int) scale, i + 1, "amount");
		lot->remaining = RawAmountToMinor(&raw[i].remaining, (int) scale, i + 1, "remaining");
	}
	w->nlots = nlots;
	WalletFinish(w);
	CheckWallet(w);
	PG_RETURN_PLUMWALLET_P(w);
}

PG_FUNCTION_INFO_V1(plum_wallet_out);
/* Text output: the JSON form, in UTC whatever the session's TimeZone */
Datum
plum_wallet_out(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"scale\": %d, \"lots\": [", w->scale);
	for (i = 0; i < w->nlots; i++)
	{
		const PlumLot *lot = &w->lots[i];

		CHECK_FOR_INTERRUPTS();
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "{\"lot_id\": " INT64_FORMAT ", \"issued_at\": \"",
						 lot->lot_id);
		AppendTimestamp(&buf, lot->issued_at);
		appendStringInfoString(&buf, "\", \"expires_at\": \"");
		AppendTimestamp(&buf, lot->expires_at);
		appendStringInfoString(&buf, "\", \"amount\": \"");
		AppendMinor(&buf, lot->amount, w->scale);
		appendStringInfoString(&buf, "\", \"remaining\": \"");
		AppendMinor(&buf, lot->remaining, w->scale);
		appendStringInfoString(&buf, "\"}");
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(plum_wallet_recv);
/* Binary input: scale, flags, nlots, then five int64 per lot; validated like text */
Datum
plum_wallet_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			scale = (int16) pq_getmsgint(buf, sizeof(int16));
	int			flags = (int16) pq_getmsgint(buf, sizeof(int16));
	int			nlots = (int32) pq_getmsgint(buf, sizeof(int32));
	PlumWallet *w;
	int			i;

	CheckWalletHeader(scale, flags, nlots);
	if (nlots > (buf->len - buf->cursor) / PLUM_LOT_WIRE_SIZE)
		InvalidWallet(psprintf("The message is too short for %d lots.", nlots));

	w = plum_wallet_new(scale, nlots);
	for (i = 0; i < nlots; i++)
	{
		PlumLot    *lot = &w->lots[i];

		lot->lot_id = pq_getmsgint64(buf);
		lot->issued_at = pq_getmsgint64(buf);
		lot->expires_at = pq_getmsgint64(buf);
		lot->amount = pq_getmsgint64(buf);
		lot->remaining = pq_getmsgint64(buf);
	}
	w->nlots = nlots;
	WalletFinish(w);
	CheckWallet(w);
	PG_RETURN_PLUMWALLET_P(w);
}

PG_FUNCTION_INFO_V1(plum_wallet_send);
/* Binary output */
Datum
plum_wallet_send(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, w->scale);
	pq_sendint16(&buf, w->flags);
	pq_sendint32(&buf, w->nlots);
	for (i = 0; i < w->nlots; i++)
	{
		const PlumLot *lot = &w->lots[i];

		pq_sendint64(&buf, lot->lot_id);
		pq_sendint64(&buf, lot->issued_at);
		pq_sendint64(&buf, lot->expires_at);
		pq_sendint64(&buf, lot->amount);
		pq_sendint64(&buf, lot->remaining);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------------------------------------------------------------------------
 * SQL functions
 * ---------------------------------------------------------------------------
 */

/* A numeric argument in w's minor units (PU008 when not exact) */
static inline int64
ArgMinor(FunctionCallInfo fcinfo, int argno, int scale, const char *what)
{
	return plum_numeric_to_minor(PG_GETARG_NUMERIC(argno), scale, what);
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
	values[0] = PointerGetDatum(a);
	values[1] = PointerGetDatum(b);
	values[2] = PointerGetDatum(c);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

PG_FUNCTION_INFO_V1(plum_wallet_balance);
/* SQL: plum.wallet_balance(w, at) — the live balance at at */
Datum
plum_wallet_balance(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);

	PG_RETURN_NUMERIC(plum_minor_to_numeric(plum_wallet_live(w, at), w->scale));
}

PG_FUNCTION_INFO_V1(plum_wallet_total_sql);
/* SQL: plum.wallet_total(w) — all remaining, expired or not */
Datum
plum_wallet_total_sql(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);

	PG_RETURN_NUMERIC(plum_minor_to_numeric(plum_wallet_total(w), w->scale));
}

PG_FUNCTION_INFO_V1(plum_wallet_next_expiry_sql);
/* SQL: plum.wallet_next_expiry(w, at) — the next instant a live lot expires, or NULL */
Datum
plum_wallet_next_expiry_sql(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz next;

	if (!plum_wallet_next_expiry(w, at, &next))
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
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		values[0] = Int64GetDatum(lot->lot_id);
		values[1] = TimestampTzGetDatum(lot->issued_at);
		values[2] = TimestampTzGetDatum(lot->expires_at);
		values[3] = NumericGetDatum(plum_minor_to_numeric(lot->amount, w->scale));
		values[4] = NumericGetDatum(plum_minor_to_numeric(lot->remaining, w->scale));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(plum_wallet_empty);
/* SQL: plum.wallet_empty(scale) — a wallet with no lots */
Datum
plum_wallet_empty(PG_FUNCTION_ARGS)
{
	PG_RETURN_PLUMWALLET_P(plum_wallet_new(PG_GETARG_INT32(0), 0));
}

PG_FUNCTION_INFO_V1(plum_wallet_add_sql);
/* SQL: plum.wallet_add(w, lot_id, issued_at, expires_at, amount, at) — a grant */
Datum
plum_wallet_add_sql(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	PlumLot		lot;
	PlumWallet *expired;

	lot.lot_id = PG_GETARG_INT64(1);
	lot.issued_at = PG_GETARG_TIMESTAMPTZ(2);
	lot.expires_at = PG_GETARG_TIMESTAMPTZ(3);
	lot.amount = ArgMinor(fcinfo, 4, w->scale, "amount");
	lot.remaining = lot.amount;
	plum_check_positive(lot.amount, w->scale, "amount");

	PG_RETURN_PLUMWALLET_P(plum_wallet_add(w, &lot, PG_GETARG_TIMESTAMPTZ(5), &expired));
}

PG_FUNCTION_INFO_V1(plum_wallet_live_sql);
/* SQL: plum.wallet_live(w, at) — the lots still live at at */
Datum
plum_wallet_live_sql(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	PlumWallet *expired;

	PG_RETURN_PLUMWALLET_P(plum_wallet_split_expired(w, PG_GETARG_TIMESTAMPTZ(1), &expired));
}

PG_FUNCTION_INFO_V1(plum_wallet_expired_sql);
/* SQL: plum.wallet_expired(w, at) — the lots expired at at */
Datum
plum_wallet_expired_sql(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	PlumWallet *expired;

	(void) plum_wallet_split_expired(w, PG_GETARG_TIMESTAMPTZ(1), &expired);
	PG_RETURN_PLUMWALLET_P(expired);
}

PG_FUNCTION_INFO_V1(plum_wallet_consume_sql);
/* SQL: plum.wallet_consume(w, amount, at) — FIFO consumption, PU001 when short */
Datum
plum_wallet_consume_sql(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	int64		amount = ArgMinor(fcinfo, 1, w->scale, "amount");
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	PlumWallet *result;
	PlumWallet *taken;
	PlumWallet *expired;

	plum_check_positive(amount, w->scale, "amount");
	if (!plum_wallet_consume(w, amount, at, &result, &taken, &expired))
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INSUFFICIENT),
				 errmsg("insufficient points"),
				 errdetail("balance is %s, requested %s",
						   plum_minor_to_cstring(plum_wallet_live(w, at), w->scale),
						   plum_minor_to_cstring(amount, w->scale))));
	return WalletRow(fcinfo, result, taken, expired);
}

PG_FUNCTION_INFO_V1(plum_wallet_reversible_sql);
/* SQL: plum.wallet_reversible(taken, already_reversed) — what is left to reverse */
Datum
plum_wallet_reversible_sql(PG_FUNCTION_ARGS)
{
	PlumWallet *taken = PG_GETARG_PLUMWALLET_P(0);
	int64		already = ArgMinor(fcinfo, 1, taken->scale, "amount already reversed");

	PG_RETURN_PLUMWALLET_P(plum_wallet_reversible(taken, already));
}

PG_FUNCTION_INFO_V1(plum_wallet_restore_sql);
/* SQL: plum.wallet_restore(w, taken, already_reversed, amount, at) — a reversal */
Datum
plum_wallet_restore_sql(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	PlumWallet *taken = PG_GETARG_PLUMWALLET_P(1);
	int64		already;
	int64		amount;
	PlumWallet *result;
	PlumWallet *restored;
	PlumWallet *expired;

	CheckSameScale(w, taken);
	already = ArgMinor(fcinfo, 2, w->scale, "amount already reversed");
	amount = ArgMinor(fcinfo, 3, w->scale, "amount");
	plum_check_positive(amount, w->scale, "amount");
	result = plum_wallet_restore(w, taken, already, amount,
								 PG_GETARG_TIMESTAMPTZ(4), &restored, &expired);
	return WalletRow(fcinfo, result, restored, expired);
}
