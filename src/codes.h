/*
 * codes.h — the parts of the codes hot path (codes.c) that checkout.c
 * shares: locking codes in code order, and writing drained codes with their
 * ledger rows.
 */
#ifndef PLUM_CODES_H
#define PLUM_CODES_H

#include "plum.h"

#include "storage/itemptr.h"
#include "utils/array.h"

/* One code as locked: the columns redeem_codes() reads */
typedef struct LockedCode
{
	ItemPointerData ctid;
	int64		code;
	int64		company_id;
	int64		campaign_id;
	bool		expires_null;
	TimestampTz expires_at;
	bool		cancelled_null;
	TimestampTz cancelled_at;
	Datum		balance;		/* numeric, as stored */
	int16		scale;
	bytea	   *head;			/* the code's chain head (NULL: none yet) */
} LockedCode;

/*
 * Lock the n codes of the list (elems, from codes) in code order and return
 * their rows in the order given; 22023 for a code given twice, PU005 for an
 * unknown code.  Inside SPI_connect.
 */
extern LockedCode **CodesLock(Datum *elems, int n);

/*
 * The 12 parameters of codes.c's statement writing the first n codes of
 * given drained by applied (remaining left on each) and their code_redeem
 * ledger rows, chained on each code's head: $1 at, $2 ctids, $3 balances
 * left, $4 company, $5 item, $6 reference, $7 idempotency key, $8 entry ids,
 * $9 amounts applied, $10 campaigns, $11 codes, $12 the rows' hashes (each
 * code's new chain head).  The first row's entry id is entry, the others are
 * drawn in order.  item, reference and key: NULL when *_null.
 */
extern void CodesStoreValues(LockedCode **given, int n, const int64 *applied, const int64 *remaining,
							 int64 company_id, int scale, TimestampTz now, int64 entry,
							 Datum item, bool item_null, Datum reference, bool reference_null,
							 Datum key, bool key_null, Datum *values, char *nulls);

#endif							/* PLUM_CODES_H */
