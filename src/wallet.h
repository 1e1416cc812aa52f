/*
 * wallet.h — plum.wallet, a recipient's live points lots packed in one varlena.
 *
 * A wallet is an array of lots ordered for FIFO consumption: by issued_at,
 * then lot_id.  Amounts are int64 in the currency's minor units (scale
 * decimals).  Invariants of a stored wallet (checked by wallet_in/recv):
 *   - 0 <= scale <= PLUM_MAX_SCALE, flags == 0, nlots >= 0
 *   - lots sorted by (issued_at, lot_id), lot_ids unique and > 0
 *   - 0 < remaining <= amount for every lot; issued_at < expires_at
 *   - no two lots share an expires_at (equal-expiry lots are merged)
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

typedef struct PlumLot
{
	int64		lot_id;			/* ledger entry id of the grant */
	TimestampTz issued_at;
	TimestampTz expires_at;		/* the lot stops counting at this instant */
	int64		amount;			/* original amount, minor units */
	int64		remaining;		/* what is left, minor units */
} PlumLot;

typedef struct PlumWallet
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		scale;			/* decimals of the company's currency */
	int16		flags;			/* reserved, always 0 */
	int32		nlots;
	int32		unused;			/* keeps lots[] 8-byte aligned; always 0 */
	PlumLot		lots[FLEXIBLE_ARRAY_MEMBER];
} PlumWallet;

#define PLUM_WALLET_SIZE(n)	(offsetof(PlumWallet, lots) + sizeof(PlumLot) * (n))
#define DatumGetPlumWalletP(X)	((PlumWallet *) PG_DETOAST_DATUM(X))
#define PG_GETARG_PLUMWALLET_P(n) DatumGetPlumWalletP(PG_GETARG_DATUM(n))
#define PG_RETURN_PLUMWALLET_P(x) PG_RETURN_POINTER(x)

/* an empty wallet of the given scale with room for nlots (nlots set to 0) */
extern PlumWallet *plum_wallet_new(int scale, int capacity);

/* sum of remaining over lots with expires_at > at (the live balance) */
extern int64 plum_wallet_live(const PlumWallet *w, TimestampTz at);

/* sum of remaining over all lots, expired or not */
extern int64 plum_wallet_total(const PlumWallet *w);

/* earliest expires_at > at among lots with remaining > 0; false if none */
extern bool plum_wallet_next_expiry(const PlumWallet *w, TimestampTz at,
									TimestampTz *next);

/*
 * Add a lot (a grant, or points restored to a lot).  A lot with the same
 * expires_at is merged into (amount and remaining added, earliest issued_at
 * and smallest lot_id kept); otherwise the lot is inserted in FIFO order.
 * Drops empty and expired lots (as of at); those expired are returned in
 * *expired (never NULL on return; an empty wallet when none).
 */
extern PlumWallet *plum_wallet_add(const PlumWallet *w, const PlumLot *lot,
								   TimestampTz at, PlumWallet **expired);

/*
 * FIFO consumption of amount (> 0) as of at: expired lots are never
 * consumed.  Returns false, touching nothing, when the live balance is
 * short.  Otherwise sets *result (the new wallet, empty and expired lots
 * dropped), *taken (one entry per lot consumed: lot_id, issued_at,
 * expires_at, amount = the lot's amount, remaining = the portion taken, in
 * FIFO order) and *expired (expired lots dropped by this write).
 */
extern bool plum_wallet_consume(const PlumWallet *w, int64 amount,
								TimestampTz at, PlumWallet **result,
								PlumWallet **taken, PlumWallet **expired);

/*
 * The part of taken that is still reversible after already_reversed has
 * been given back: reversals restore the lots with the latest expires_at
 * first, so already_reversed is removed from the latest-expiring end.
 */
extern PlumWallet *plum_wallet_reversible(const PlumWallet *taken,
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
extern PlumWallet *plum_wallet_restore(const PlumWallet *w,
									   const PlumWallet *taken,
									   int64 already_reversed, int64 amount,
									   TimestampTz at, PlumWallet **restored,
									   PlumWallet **expired);

/* the live part of w (expired and empty lots dropped); expired part in *expired */
extern PlumWallet *plum_wallet_split_expired(const PlumWallet *w, TimestampTz at,
											 PlumWallet **expired);

#endif							/* PLUM_WALLET_H */
