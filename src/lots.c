/*
 * lots.c — the lot algebra of plum.wallet (see wallet.h): FIFO consumption,
 * grants, expiry and reversal over a wallet's lots, in C for the points hot
 * path (points.c) and the SQL functions over wallets (wallet_sql.c).
 */
#include "wallet.h"

#include "common/int.h"
#include "miscadmin.h"

/* ---------------------------------------------------------------------------
 * Lots and wallets
 * ---------------------------------------------------------------------------
 */

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
	if (LotMergeKey(la) != LotMergeKey(lb))
		return LotMergeKey(la) < LotMergeKey(lb) ? -1 : 1;
	return LotFifoCmp(la, lb);
}

/* qsort comparator for KeyIndex: key, then index */
int
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

/* Append a lot; the caller made room */
static inline void
WalletPush(PlumWallet *w, const PlumLot *lot)
{
	w->lots[w->nlots++] = *lot;
}

/* Room for n + extra lots, or an error when a wallet cannot hold that many */
int
WalletCapacity(int n, int extra)
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
void
WalletCheckSameScale(const PlumWallet *a, const PlumWallet *b)
{
	if (a->scale != b->scale)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("wallets of different scales cannot be combined"),
				 errdetail("One wallet has %d decimals, the other %d.",
						   a->scale, b->scale)));
}

/*
 * Merge lot other into lot into (equal expires_at and available_at): remaining adds up, the
 * earliest issued_at and smallest lot_id are kept.  Amounts of two lots add
 * up; when restoring, a portion of the same lot_id does not add its original
 * amount again.  The amount never drops below the remaining.
 */
static void
MergeLot(PlumLot *into, const PlumLot *other, bool restoring, int scale)
{
	Assert(LotsMerge(into, other));

	if (restoring && into->lot_id == other->lot_id)
		into->amount = Max(into->amount, other->amount);
	else
		into->amount = MoneyAdd(into->amount, other->amount, scale);
	into->remaining = MoneyAdd(into->remaining, other->remaining, scale);
	into->amount = Max(into->amount, into->remaining);
	into->lot_id = Min(into->lot_id, other->lot_id);
	into->issued_at = Min(into->issued_at, other->issued_at);
	into->available_at = Min(into->available_at, other->available_at);
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
		if (LotsMerge(&w->lots[i], lot))
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
		if (n > 0 && LotsMerge(&w->lots[n - 1], &w->lots[i]))
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
								   IsoTimestampCString(w->lots[ids[i - 1].index].expires_at),
								   IsoTimestampCString(w->lots[ids[i].index].expires_at))));
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
	if (!IS_VALID_TIMESTAMP(lot->issued_at) || !IS_VALID_TIMESTAMP(lot->expires_at) ||
		!IS_VALID_TIMESTAMP(lot->available_at))
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
						   lot->lot_id, IsoTimestampCString(lot->issued_at),
						   IsoTimestampCString(lot->expires_at))));
	if (lot->available_at < lot->issued_at || lot->available_at >= lot->expires_at)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lot must become available between its issue and its expiry"),
				 errdetail("Lot " INT64_FORMAT " is issued at %s, available at %s and expires at %s.",
						   lot->lot_id, IsoTimestampCString(lot->issued_at),
						   IsoTimestampCString(lot->available_at),
						   IsoTimestampCString(lot->expires_at))));
	if (lot->remaining < 0 || lot->remaining > lot->amount)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
				 errmsg("lot remaining must be between zero and its amount"),
				 errdetail("Lot " INT64_FORMAT " has amount %s and remaining %s.",
						   lot->lot_id, MinorToCString(lot->amount, scale),
						   MinorToCString(lot->remaining, scale))));
}

/*
 * Refuse (PU008) a write that leaves result over the limits that protect
 * every tenant: more than PLUM_WALLET_LIMIT_LOTS lots, or a total past the
 * money limit.  A write that does not grow the wallet past what it was
 * (before) is let through, so a wallet written before the limits existed
 * can still be spent.
 */
static void
CheckWalletLimits(const PlumWallet *result, const PlumWallet *before)
{
	int64		total = 0;
	bool		over = false;
	int			i;

	if (result->nlots > PLUM_WALLET_LIMIT_LOTS && result->nlots > before->nlots)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
				 errmsg("too many lots in a wallet"),
				 errdetail("The wallet would hold %d lots; a wallet holds at most %d.",
						   result->nlots, PLUM_WALLET_LIMIT_LOTS),
				 errhint("Grants issued at the same instant share a lot; spread fewer, larger grants.")));
	for (i = 0; i < result->nlots && !over; i++)
		over = pg_add_s64_overflow(total, result->lots[i].remaining, &total) ||
			total > PLUM_MAX_MINOR;
	if (over)
	{
		/* the wallet before the write, summed the same way */
		int64		was = 0;
		bool		was_over = false;

		for (i = 0; i < before->nlots && !was_over; i++)
			was_over = pg_add_s64_overflow(was, before->lots[i].remaining, &was) ||
				was > PLUM_MAX_MINOR;
		if (!was_over)
			ereport(ERROR,
					(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
					 errmsg("wallet total exceeds the money limit"),
					 errdetail("The wallet holds %s; this write would take it past %s, the most a wallet may hold.",
							   MinorToCString(was, result->scale),
							   MinorToCString(PLUM_MAX_MINOR, result->scale))));
	}
}

/* ---------------------------------------------------------------------------
 * The lot algebra (wallet.h)
 * ---------------------------------------------------------------------------
 */

/* An empty wallet of the given scale with room for capacity lots */
PlumWallet *
WalletNew(int scale, int capacity)
{
	PlumWallet *w;

	CheckScale(scale);
	capacity = WalletCapacity(capacity, 0);
	if (capacity < 0)
		elog(ERROR, "WalletNew: negative capacity %d", capacity);
	w = (PlumWallet *) palloc0(PLUM_WALLET_SIZE(capacity));
	w->scale = (int16) scale;
	w->flags = PLUM_WALLET_AVAILABLE;
	w->nlots = 0;
	w->unused = 0;
	return WalletFinish(w);
}

/* Sum of remaining over lots with available_at <= at < expires_at: the live balance */
int64
WalletLive(const PlumWallet *w, TimestampTz at)
{
	int64		sum = 0;
	int			i;

	for (i = 0; i < w->nlots; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (w->lots[i].expires_at > at && w->lots[i].available_at <= at)
			sum = MoneyAdd(sum, w->lots[i].remaining, w->scale);
	}
	return sum;
}

/* Sum of remaining over lots still pending at at */
int64
WalletPending(const PlumWallet *w, TimestampTz at)
{
	int64		sum = 0;
	int			i;

	for (i = 0; i < w->nlots; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (LotPending(&w->lots[i], at))
			sum = MoneyAdd(sum, w->lots[i].remaining, w->scale);
	}
	return sum;
}

/* Sum of remaining over all lots, expired or not */
int64
WalletTotal(const PlumWallet *w)
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
WalletNextExpiry(const PlumWallet *w, TimestampTz at, TimestampTz *next)
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
WalletAdd(const PlumWallet *w, const PlumLot *lot, TimestampTz at,
				PlumWallet **expired)
{
	int			capacity = WalletCapacity(w->nlots, 1);
	PlumWallet *live = WalletNew(w->scale, capacity);
	PlumWallet *gone = WalletNew(w->scale, capacity);
	int			i;

	CheckNewLot(lot, w->scale);

	/* a lot_id names one lot: it may only come back with the same expiry */
	for (i = 0; i < w->nlots; i++)
	{
		if (w->lots[i].lot_id == lot->lot_id &&
			!LotsMerge(&w->lots[i], lot))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lot " INT64_FORMAT " is already in the wallet with another expiry",
							lot->lot_id),
					 errdetail("The wallet's lot expires at %s, the new one at %s.",
							   IsoTimestampCString(w->lots[i].expires_at),
							   IsoTimestampCString(lot->expires_at))));
	}

	WalletSplitInto(w, at, live, gone);
	if (lot->remaining > 0)
		WalletInsert(lot->expires_at <= at ? gone : live, lot, false);
	CheckWalletLimits(live, w);

	*expired = WalletFinish(gone);
	return WalletFinish(live);
}

/* FIFO consumption of amount as of at; false (nothing touched) when short */
bool
WalletConsume(const PlumWallet *w, int64 amount, TimestampTz at,
					PlumWallet **result, PlumWallet **taken,
					PlumWallet **expired)
{
	PlumWallet *left;
	PlumWallet *took;
	PlumWallet *gone;
	int64		need = amount;
	int			i;

	CheckPositive(amount, w->scale, "amount");
	if (WalletLive(w, at) < amount)
		return false;

	left = WalletNew(w->scale, w->nlots);
	took = WalletNew(w->scale, w->nlots);
	gone = WalletNew(w->scale, w->nlots);

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
		if (need > 0 && !LotPending(&lot, at))
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
		elog(ERROR, "WalletConsume: live balance changed during consumption");

	*result = WalletFinish(left);
	*taken = WalletFinish(took);
	*expired = WalletFinish(gone);
	return true;
}

/* What of taken is still reversible once already_reversed (latest expiry first) is given back */
PlumWallet *
WalletReversible(const PlumWallet *taken, int64 already_reversed)
{
	int64		total = WalletTotal(taken);
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
						   MinorToCString(total, taken->scale),
						   MinorToCString(already_reversed, taken->scale))));

	result = WalletNew(taken->scale, taken->nlots);
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
WalletRestore(const PlumWallet *w, const PlumWallet *taken,
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

	WalletCheckSameScale(w, taken);
	reversible = WalletReversible(taken, already_reversed);
	total = WalletTotal(reversible);
	if (amount < 0 || amount > total)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INVALID_AMOUNT),
				 errmsg("amount exceeds what is left to reverse"),
				 errdetail("The amount is %s; %s is left to reverse.",
						   MinorToCString(amount, w->scale),
						   MinorToCString(total, w->scale))));

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

	back = WalletNew(w->scale, reversible->nlots);
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
	capacity = WalletCapacity(w->nlots, back->nlots);
	live = WalletNew(w->scale, capacity);
	gone = WalletNew(w->scale, capacity);
	WalletSplitInto(w, at, live, gone);
	nlive = live->nlots;
	ngone = gone->nlots;
	WalletSplitInto(back, at, live, gone);
	if (live->nlots > nlive)
		WalletNormalize(live, true);
	if (gone->nlots > ngone)
		WalletNormalize(gone, true);
	CheckWalletLimits(live, w);

	*restored = WalletFinish(back);
	*expired = WalletFinish(gone);
	return WalletFinish(live);
}

/* The live part of w; the expired part in *expired */
PlumWallet *
WalletSplitExpired(const PlumWallet *w, TimestampTz at,
						  PlumWallet **expired)
{
	PlumWallet *live = WalletNew(w->scale, w->nlots);
	PlumWallet *gone = WalletNew(w->scale, w->nlots);

	WalletSplitInto(w, at, live, gone);
	*expired = WalletFinish(gone);
	return WalletFinish(live);
}

/*
 * Take back up to amount from the lot an award went into.  The lot may hold
 * other grants merged into it (equal expiry and availability): their
 * original amounts (the lot's amount less this award's) are never taken, so
 * the award's part is what remains beyond them (what was spent from the
 * merged lot is counted against the award first).  The award then leaves the
 * lot's original amount whole, so that the next award of the same lot
 * (another rule of one event) is measured against the grants still in it.
 */
PlumWallet *
WalletTakeBack(const PlumWallet *w, const PlumLot *award, int64 amount,
			   TimestampTz at, int64 *took)
{
	PlumWallet *result = WalletNew(w->scale, w->nlots);
	bool		found = false;
	int			i;

	*took = 0;
	for (i = 0; i < w->nlots; i++)
	{
		PlumLot		lot = w->lots[i];

		CHECK_FOR_INTERRUPTS();
		if (lot.remaining <= 0)
			continue;
		if (!found && amount > 0 && LotsMerge(&lot, award) && lot.expires_at > at)
		{
			int64		others = lot.amount > amount ? MoneySub(lot.amount, amount, w->scale) : 0;
			int64		share = lot.remaining > others ? MoneySub(lot.remaining, others, w->scale) : 0;

			found = true;
			*took = Min(amount, share);
			lot.remaining = MoneySub(lot.remaining, *took, w->scale);
			/* the award leaves the lot's original amount, taken back or spent */
			lot.amount = others;
			if (lot.amount < lot.remaining)
				lot.amount = lot.remaining;
		}
		if (lot.remaining > 0)
			WalletPush(result, &lot);
	}
	return WalletFinish(result);
}
