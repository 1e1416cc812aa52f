/*
 * wallet.h — plum.wallet, a recipient's live points lots packed in one varlena:
 * the lot algebra (lots.c), the type's I/O and validation (wallet.c) and the
 * SQL functions over wallets (wallet_sql.c).
 *
 * A wallet is an array of lots ordered for FIFO consumption: by issued_at,
 * then lot_id.  Amounts are int64 in the currency's minor units (scale
 * decimals).  Invariants of a stored wallet (checked by wallet_in/recv, CheckWallet()):
 *   - 0 <= scale <= PLUM_MAX_SCALE, flags == PLUM_WALLET_AVAILABLE, nlots >= 0
 *   - lots sorted by (issued_at, lot_id), lot_ids unique and > 0
 *   - 0 < remaining <= amount for every lot;
 *     issued_at <= available_at < expires_at
 *   - no two lots share both expires_at and LotMergeKey (such lots are merged)
 * A lot counts in no balance and no redemption before its available_at
 * (pending points, 0.2.0) nor from its expires_at on, exactly to the instant.
 *
 * Stored layout: a wallet written by 0.1.0 has flags 0 and 40-byte lots
 * without available_at (= issued_at); the working form has the flag
 * PLUM_WALLET_AVAILABLE and 48-byte lots; every wallet stored since 0.2.0 is
 * packed (PLUM_WALLET_PACKED, WalletPack()).  DatumGetPlumWalletP() reads
 * all three (a packed or old wallet is widened on read into the working
 * form; a working-form value is used in place).
 * Functions that build a new wallet "on write" drop lots that are empty
 * (remaining 0) or expired (expires_at <= at) and merge equal-expiry lots;
 * the expired lots they drop are handed back to the caller so that the
 * expiry can be recorded in the ledger.
 *
 * The same type also carries "lot portions": the part of each lot that a
 * redemption took (remaining = the portion taken, amount = the lot's
 * original amount), stored in the ledger row of the redemption, and the
 * expired part dropped by a write.
 */
#ifndef PLUM_WALLET_H
#define PLUM_WALLET_H

#include "plum.h"
#include "money.h"

#include "utils/memutils.h"

typedef struct PlumLot
{
	int64		lot_id;			/* ledger entry id of the grant */
	TimestampTz issued_at;
	TimestampTz expires_at;		/* the lot stops counting at this instant */
	int64		amount;			/* original amount, minor units */
	int64		remaining;		/* what is left, minor units */
	TimestampTz available_at;	/* the lot counts from this instant (pending before) */
} PlumLot;

/* a lot as 0.1.0 stored it (flags 0): available_at = issued_at */
typedef struct PlumLotV1
{
	int64		lot_id;
	TimestampTz issued_at;
	TimestampTz expires_at;
	int64		amount;
	int64		remaining;
} PlumLotV1;

/* flags: the lots carry available_at (48-byte PlumLot) */
#define PLUM_WALLET_AVAILABLE	0x0001
/* flags: the lots are packed (varints relative to the previous lot; wallet.c) */
#define PLUM_WALLET_PACKED		0x0002

typedef struct PlumWallet
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		scale;			/* decimals of the company's currency */
	int16		flags;			/* PLUM_WALLET_AVAILABLE (0 in 0.1.0's layout) */
	int32		nlots;
	int32		unused;			/* keeps lots[] 8-byte aligned; always 0 */
	PlumLot		lots[FLEXIBLE_ARRAY_MEMBER];
} PlumWallet;

#define PLUM_WALLET_SIZE(n)	(offsetof(PlumWallet, lots) + sizeof(PlumLot) * (n))
#define DatumGetPlumWalletP(X)	PlumWalletFromDatum(X)
#define PG_GETARG_PLUMWALLET_P(n) DatumGetPlumWalletP(PG_GETARG_DATUM(n))
#define PG_RETURN_PLUMWALLET_P(x) PG_RETURN_POINTER(WalletPack(x))
/* a wallet as a Datum to store (a parameter, a column of a row): packed */
#define PlumWalletGetDatum(x)	PointerGetDatum(WalletPack(x))

/* the most lots a wallet can hold: its size must stay under MaxAllocSize */
#define PLUM_WALLET_MAX_LOTS \
	((int) ((MaxAllocSize - offsetof(PlumWallet, lots)) / sizeof(PlumLot)))

/* the most lots a write may leave in a recipient's wallet (PU008; lots.c) */
#define PLUM_WALLET_LIMIT_LOTS 10000

/* a key of a lot (a position or a time) and where it came from, for sorting */
typedef struct KeyIndex
{
	int64		key;
	int			index;
} KeyIndex;

/* qsort comparator for KeyIndex: key, then index (lots.c) */
extern int	KeyIndexCmp(const void *a, const void *b);

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

/* Seal a wallet built in place: its size follows nlots */
static inline PlumWallet *
WalletFinish(PlumWallet *w)
{
	SET_VARSIZE(w, PLUM_WALLET_SIZE(w->nlots));
	return w;
}

/*
 * The stored form of a wallet (wallet.c): flags PLUM_WALLET_PACKED, then for
 * each lot six varints (LEB128 of zigzag-encoded int64) relative to the
 * previous lot (the first to zeros): lot_id and issued_at as deltas, the
 * validity (expires_at - issued_at) as a delta of the previous lot's,
 * available_at - issued_at, amount, amount - remaining.  Ten lots of a year's
 * validity issued an hour apart take about 150 bytes instead of 480.
 */
extern PlumWallet *WalletPack(const PlumWallet *w);

/* a wallet Datum, detoasted; a packed wallet or one in 0.1.0's layout is widened (wallet.c) */
extern PlumWallet *PlumWalletUpgrade(PlumWallet *w);
static inline PlumWallet *
PlumWalletFromDatum(Datum d)
{
	PlumWallet *w = (PlumWallet *) PG_DETOAST_DATUM(d);

	if (likely(w->flags == PLUM_WALLET_AVAILABLE))
		return w;
	return PlumWalletUpgrade(w);
}

/*
 * Lots merge when they share expires_at and this key: lots available from
 * their issue ("immediate", available_at = issued_at, every 0.1.0 lot) all
 * share one key, so equal-expiry grants merge as before; a pending lot's key
 * is its available_at, so it merges only with lots pending until the same
 * instant.  Merging keeps the smallest issued_at and available_at.
 */
static inline int64
LotMergeKey(const PlumLot *lot)
{
	return lot->available_at == lot->issued_at ? PG_INT64_MIN : lot->available_at;
}

static inline bool
LotsMerge(const PlumLot *a, const PlumLot *b)
{
	return a->expires_at == b->expires_at && LotMergeKey(a) == LotMergeKey(b);
}

/* is the lot pending (not yet available) at at? */
static inline bool
LotPending(const PlumLot *lot, TimestampTz at)
{
	return lot->available_at > at;
}

/* room for n + extra lots, or an error (54000) when a wallet cannot hold that many (lots.c) */
extern int	WalletCapacity(int n, int extra);

/* refuse two wallets of different scales with 22023 (lots.c) */
extern void WalletCheckSameScale(const PlumWallet *a, const PlumWallet *b);

/* an instant as ISO 8601 in UTC, as the text form writes it, for messages (wallet.c) */
extern char *IsoTimestampCString(TimestampTz ts);

/* an empty wallet of the given scale with room for nlots (nlots set to 0) */
extern PlumWallet *WalletNew(int scale, int capacity);

/* sum of remaining over lots with available_at <= at < expires_at (the live balance) */
extern int64 WalletLive(const PlumWallet *w, TimestampTz at);

/* sum of remaining over all lots, expired or not */
extern int64 WalletTotal(const PlumWallet *w);

/* sum of remaining over lots still pending at at (available_at > at) */
extern int64 WalletPending(const PlumWallet *w, TimestampTz at);

/*
 * Take back up to amount from the lot an award (issued_at, available_at,
 * expires_at) went into, possibly merged since (LotsMerge): never the part
 * of other grants merged into it (the lot's amount less amount); what was
 * spent from a merged lot counts against the award first.
 * Returns the new wallet; *took is what was taken (0 when the lot is gone).
 */
extern PlumWallet *WalletTakeBack(const PlumWallet *w, const PlumLot *award, int64 amount,
								  TimestampTz at, int64 *took);

/* earliest expires_at > at among lots with remaining > 0; false if none */
extern bool WalletNextExpiry(const PlumWallet *w, TimestampTz at,
									TimestampTz *next);

/*
 * Add a lot (a grant, or points restored to a lot).  A lot with the same
 * expires_at is merged into (amount and remaining added, earliest issued_at
 * and smallest lot_id kept); otherwise the lot is inserted in FIFO order.
 * Drops empty and expired lots (as of at); those expired are returned in
 * *expired (never NULL on return; an empty wallet when none).
 */
extern PlumWallet *WalletAdd(const PlumWallet *w, const PlumLot *lot,
								   TimestampTz at, PlumWallet **expired);

/*
 * FIFO consumption of amount (> 0) as of at: expired lots are never
 * consumed.  Returns false, touching nothing, when the live balance is
 * short.  Otherwise sets *result (the new wallet, empty and expired lots
 * dropped), *taken (one entry per lot consumed: lot_id, issued_at,
 * expires_at, amount = the lot's amount, remaining = the portion taken, in
 * FIFO order) and *expired (expired lots dropped by this write).
 */
extern bool WalletConsume(const PlumWallet *w, int64 amount,
								TimestampTz at, PlumWallet **result,
								PlumWallet **taken, PlumWallet **expired);

/*
 * The part of taken that is still reversible after already_reversed has
 * been given back: reversals restore the lots with the latest expires_at
 * first, so already_reversed is removed from the latest-expiring end.
 */
extern PlumWallet *WalletReversible(const PlumWallet *taken,
										  int64 already_reversed);

/*
 * Give amount back from a redemption's taken portions (already_reversed of
 * which were given back before), latest expires_at first.  Portions whose
 * lot is still live at at go back into the wallet (to the same lot_id,
 * issued_at, expires_at: merged into the lot if it is still there,
 * re-created otherwise); portions whose lot has expired are not added and
 * come back in *expired.  *restored holds every portion given back.
 * The caller has checked amount <= reversible total.
 */
extern PlumWallet *WalletRestore(const PlumWallet *w,
									   const PlumWallet *taken,
									   int64 already_reversed, int64 amount,
									   TimestampTz at, PlumWallet **restored,
									   PlumWallet **expired);

/* the live part of w (expired and empty lots dropped); expired part in *expired */
extern PlumWallet *WalletSplitExpired(const PlumWallet *w, TimestampTz at,
											 PlumWallet **expired);

#endif							/* PLUM_WALLET_H */
