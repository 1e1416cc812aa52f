/*
 * points.h — the part of the points hot path (points.c) that checkout.c
 * shares: taking points of a locked wallet, the rows to write computed and
 * chained, written by the caller.
 */
#ifndef PLUM_POINTS_H
#define PLUM_POINTS_H

#include "plum.h"
#include "wallet.h"

#include "storage/itemptr.h"
#include "utils/numeric.h"

/* What PointsTake() took: the wallet's new state and its ledger rows */
typedef struct PointsTaken
{
	ItemPointerData ctid;		/* the wallet row, locked */
	PlumWallet *remaining;		/* the wallet after */
	PlumWallet *taken;			/* the lots taken (the redeem row's lots) */
	PlumWallet *expired;		/* lots found expired (nlots 0: none) */
	int64		entry;			/* the redeem row */
	Numeric		amount;
	bytea	   *hash;
	int64		expiry_entry;	/* the expire row, when expired->nlots > 0 */
	Numeric		expired_amount;
	bytea	   *expiry_hash;
	bytea	   *head;			/* the wallet's new chain head */
} PointsTaken;

extern void PointsTake(int64 company_id, Datum recipient, int64 minor, int scale, TimestampTz at,
					   Datum reference, PointsTaken *out);

#endif							/* PLUM_POINTS_H */
