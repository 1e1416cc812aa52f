/*
 * chain.h — the hash of a ledger row (chain.c): what the C hot paths call to
 * chain their ledger rows inside the statement that writes them.
 */
#ifndef PLUM_CHAIN_H
#define PLUM_CHAIN_H

#include "postgres.h"

/* the hashed fields of a ledger row, in this order */
enum
{
	CHAIN_ENTRY_ID,
	CHAIN_COMPANY_ID,
	CHAIN_AT,
	CHAIN_KIND,
	CHAIN_AMOUNT,
	CHAIN_ADMIN_ID,
	CHAIN_RECIPIENT,
	CHAIN_LOT_ID,
	CHAIN_REDEMPTION_ID,
	CHAIN_REFERENCE,
	CHAIN_NOTE,
	CHAIN_IDEMPOTENCY_KEY,
	CHAIN_LOTS,
	CHAIN_CAMPAIGN_ID,
	CHAIN_ITEM_ID,
	CHAIN_CODE,
	CHAIN_TOKEN,
	CHAIN_BALANCE_AFTER,
	PLUM_CHAIN_FIELDS
};

/* the hash of the row whose fields are values (NULL where isnull) following prev (NULL: first row) */
extern bytea *PlumEntryHash(bytea *prev, const Datum *values, const bool *isnull);

#endif							/* PLUM_CHAIN_H */
