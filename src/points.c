/*
 * points.c — the points hot path: redeem_points() and points_balance().
 *
 * A redemption is one locked read of the recipient's wallet row, FIFO
 * consumption in C (lots.c), and one statement that writes the new wallet
 * and the ledger row together.  Plans are prepared once per backend and
 * kept (spi_plans.c).
 */
#include "plum.h"
#include "chain.h"
#include "points.h"
#include "identity.h"
#include "money.h"
#include "recipient.h"
#include "spi_plans.h"
#include "wallet.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"

/* the kept plans of this file */
enum
{
	PLAN_STORE,					/* new wallet + redemption ledger row */
	PLAN_RECORD_EXPIRY,			/* ledger row for lots dropped as expired */
	PLAN_CLAIM_KEY				/* claim_key() */
};

static PlumPlans plans;

/* Prepare the plans of this file for the catalog given (PlansReady) */
static void
PreparePlans(PlumPlans *p, const PlumCatalog *cat)
{
	{
		/* $1 ctid, $2 new wallet, $3 entry id, $4 company, $5 at, $6 amount,
		 * $7 recipient, $8 reference, $9 idempotency key, $10 lots taken,
		 * $11 the row's hash, $12 the wallet's new chain head */
		Oid			args[] = {TIDOID, cat->wallet_type, INT8OID, INT8OID, TIMESTAMPTZOID,
		NUMERICOID, cat->recipient_type, TEXTOID, TEXTOID, cat->wallet_type, BYTEAOID, BYTEAOID};

		PlanKeep(p, PLAN_STORE,
				 "WITH w AS (UPDATE " PLUM_INTERNAL "account SET lots = $2, chain_head = $12"
				 " WHERE ctid OPERATOR(pg_catalog.=) $1)"
				 " INSERT INTO " PLUM_INTERNAL "journal (entry_id, company_id, at, kind, amount, recipient,"
				 "   reference, idempotency_key, lots, hash)"
				 " VALUES ($3, $4, $5, 'redeem', $6, $7, $8, $9, $10, $11)"
				 " RETURNING entry_id", 12, args);
	}
	{
		/* $1 entry id, $2 company, $3 at, $4 amount, $5 recipient, $6 lots expired, $7 hash */
		Oid			args[] = {INT8OID, INT8OID, TIMESTAMPTZOID, NUMERICOID, cat->recipient_type,
		cat->wallet_type, BYTEAOID};

		PlanKeep(p, PLAN_RECORD_EXPIRY,
				 "INSERT INTO " PLUM_INTERNAL "journal (entry_id, company_id, at, kind, amount, recipient, lots, hash)"
				 " VALUES ($1, $2, $3, 'expire', $4, $5, $6, $7)", 7, args);
	}
	{
		Oid			args[] = {INT8OID, TEXTOID, TEXTOID, INT8OID};

		PlanKeep(p, PLAN_CLAIM_KEY,
				 "SELECT " PLUM_INTERNAL "claim_key($1, $2, 'redeem_points', $3, $4)", 4, args);
	}
}

/* The first column of the first row of the last SPI result, or false when no row */
static bool
FirstValue(int column, Datum *value)
{
	bool		isnull;

	if (SPI_processed == 0)
		return false;
	*value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, &isnull);
	return !isnull;
}

/* Refuse a redemption larger than the live balance */
static void
ReportInsufficient(int64 live, int64 requested, int scale, PlumRecipient *recipient)
{
	ereport(ERROR,
			(errcode(ERRCODE_PLUM_INSUFFICIENT),
			 errmsg("insufficient points"),
			 errdetail("The balance of %s is %s, requested %s.",
					   RecipientToCString(recipient),
					   MinorToCString(live, scale),
					   MinorToCString(requested, scale))));
}

/* The primary key of (company_id, recipient)'s wallet row, as index scan keys */
static void
WalletKeys(const PlumCatalog *cat, int64 company_id, Datum recipient, ScanKeyData *keys)
{
	ScanKeyEntryInitializeWithInfo(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
								   InvalidOid, (FmgrInfo *) &cat->int8_eq, Int64GetDatum(company_id));
	ScanKeyEntryInitializeWithInfo(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
								   InvalidOid, (FmgrInfo *) &cat->recipient_eq, recipient);
}

/*
 * The lots of one wallet (a private copy) as the active snapshot sees them:
 * the balance is one index probe.  false when the recipient has no wallet in
 * the company.
 */
static bool
ReadWallet(const PlumCatalog *cat, int64 company_id, Datum recipient, Datum *lots)
{
	Relation	rel = table_open(cat->account_rel, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData keys[2];
	bool		found = false;

	WalletKeys(cat, company_id, recipient, keys);
	if (PlumProbe(rel, keys, 2, GetActiveSnapshot(), slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, cat->account_lots, &isnull);

		if (!isnull)
		{
			*lots = PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
			found = true;
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Lock a recipient's wallet row as SELECT ... FOR UPDATE would, without SPI
 * and an executor (PlumLockRow).  Sets the locked version's ctid, its lots (a
 * private copy) and chain head (NULL when none); false when the recipient has
 * no wallet in the company.
 */
static bool
LockWallet(const PlumCatalog *cat, int64 company_id, Datum recipient,
		   ItemPointer ctid, Datum *lots, bytea **head)
{
	Relation	rel = table_open(cat->account_rel, RowShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData keys[2];
	bool		found;

	WalletKeys(cat, company_id, recipient, keys);
	found = PlumLockRow(rel, keys, 2, PlumStatementSnapshot(), slot, "wallet");
	if (found)
	{
		bool		isnull;
		Datum		d;

		ItemPointerCopy(&slot->tts_tid, ctid);
		d = slot_getattr(slot, cat->account_lots, &isnull);
		if (isnull)
			elog(ERROR, "plum: a wallet without lots");
		*lots = PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
		d = slot_getattr(slot, cat->account_chain_head, &isnull);
		*head = isnull ? NULL : DatumGetByteaPCopy(d);
	}
	PopActiveSnapshot();
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	return found;
}

/* The company's currency scale read by its primary key without SPI; -1 when unknown (spi_plans.h) */
int
PlumCompanyScale(int64 company_id)
{
	const PlumCatalog *cat = PlumCatalogGet();
	Relation	rel = table_open(cat->company_rel, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData key;
	int			scale = -1;

	ScanKeyEntryInitializeWithInfo(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
								   InvalidOid, (FmgrInfo *) &cat->int8_eq, Int64GetDatum(company_id));
	if (PlumProbe(rel, &key, 1, GetActiveSnapshot(), slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, cat->company_scale, &isnull);

		if (!isnull)
			scale = DatumGetInt16(d);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	return scale;
}

/* The company's currency scale; PU005 when unknown */
static int
ReadCompanyScale(const PlumCatalog *cat, int64 company_id)
{
	int			scale = PlumCompanyScale(company_id);

	if (scale < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown company"),
				 errdetail("There is no company " INT64_FORMAT ".", company_id)));
	return scale;
}

PG_FUNCTION_INFO_V1(plum_redeem_points);
/*
 * SQL: plum.redeem_points(company_id, recipient, amount, reference, idempotency_key)
 * RETURNS bigint — the redemption id (its ledger entry).
 */
Datum
plum_redeem_points(PG_FUNCTION_ARGS)
{
	int64		company_id;
	Datum		recipient;
	Numeric		amount;
	TimestampTz at = PlumNow();
	int64		minor = 0;
	int			scale = -1;
	Datum		entry = (Datum) 0;
	Datum		result;
	PlumWallet *wallet;
	PlumWallet *remaining;
	PlumWallet *taken;
	PlumWallet *expired;
	ItemPointerData ctid;
	Datum		d;
	bytea	   *head = NULL;
	bytea	   *hash;
	Datum		expiry_entry = (Datum) 0;
	Datum		expired_amount = (Datum) 0;

	CheckNotNull(fcinfo, 0, "company_id");
	CheckNotNull(fcinfo, 1, "recipient");
	CheckNotNull(fcinfo, 2, "amount");
	company_id = PG_GETARG_INT64(0);
	recipient = PG_GETARG_DATUM(1);
	amount = PG_GETARG_NUMERIC(2);
	PlumCheckCompany(company_id);

	SPI_connect();
	PlansReady(&plans, PreparePlans);

	/* a keyed call claims its key first: a retry returns the first result */
	if (!PG_ARGISNULL(4))
	{
		Datum		values[4];
		char		nulls[4] = {' ', ' ', ' ', ' '};
		char	   *arguments;

		scale = ReadCompanyScale(PlumCatalogGet(), company_id);
		minor = CheckAmount(amount, scale, "amount");
		entry = Int64GetDatum(LedgerId());
		arguments = psprintf("%s, %s, %s",
							 RecipientToCString(DatumGetPlumRecipientPP(recipient)),
							 MinorToCString(minor, scale),
							 PG_ARGISNULL(3) ? "NULL" :
							 quote_literal_cstr(text_to_cstring(PG_GETARG_TEXT_PP(3))));
		values[0] = Int64GetDatum(company_id);
		values[1] = PG_GETARG_DATUM(4);
		values[2] = CStringGetTextDatum(arguments);
		values[3] = entry;
		PlanRun(&plans, PLAN_CLAIM_KEY, values, nulls, false, SPI_OK_SELECT);
		if (FirstValue(1, &d))
		{
			SPI_finish();
			PG_RETURN_DATUM(d);
		}
	}

	/* lock the wallet row */
	if (!LockWallet(PlumCatalogGet(), company_id, recipient, &ctid, &d, &head))
	{
		/* no wallet: a balance of 0, unless the company is unknown */
		if (scale < 0)
		{
			scale = ReadCompanyScale(PlumCatalogGet(), company_id);
			minor = CheckAmount(amount, scale, "amount");
		}
		ReportInsufficient(0, minor, scale, DatumGetPlumRecipientPP(recipient));
	}
	wallet = DatumGetPlumWalletP(d);
	if (scale < 0)
	{
		scale = wallet->scale;
		minor = CheckAmount(amount, scale, "amount");
	}

	if (!WalletConsume(wallet, minor, at, &remaining, &taken, &expired))
		ReportInsufficient(WalletLive(wallet, at), minor, scale,
						   DatumGetPlumRecipientPP(recipient));

	/* write the wallet and the ledger row in one statement */
	{
		Datum		values[12];
		char		nulls[12] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
		Datum		fields[PLUM_CHAIN_FIELDS] = {0};
		bool		isnull[PLUM_CHAIN_FIELDS];
		int			i;

		values[0] = PointerGetDatum(&ctid);
		values[1] = PlumWalletGetDatum(remaining);
		/* a keyed call drew its entry id before claiming the key */
		values[2] = PG_ARGISNULL(4) ? Int64GetDatum(LedgerId()) : entry;
		values[3] = Int64GetDatum(company_id);
		values[4] = TimestampTzGetDatum(at);
		values[5] = NumericGetDatum(MinorToNumeric(minor, scale));
		values[6] = recipient;
		values[7] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
		nulls[7] = PG_ARGISNULL(3) ? 'n' : ' ';
		values[8] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
		nulls[8] = PG_ARGISNULL(4) ? 'n' : ' ';
		values[9] = PlumWalletGetDatum(taken);

		/* chain the redemption (and the expiry found, if any) on the locked wallet's head */
		for (i = 0; i < PLUM_CHAIN_FIELDS; i++)
			isnull[i] = true;
		fields[CHAIN_ENTRY_ID] = values[2];
		fields[CHAIN_COMPANY_ID] = values[3];
		fields[CHAIN_AT] = values[4];
		fields[CHAIN_KIND] = CStringGetTextDatum("redeem");
		fields[CHAIN_AMOUNT] = values[5];
		fields[CHAIN_RECIPIENT] = values[6];
		fields[CHAIN_REFERENCE] = values[7];
		fields[CHAIN_IDEMPOTENCY_KEY] = values[8];
		fields[CHAIN_LOTS] = PointerGetDatum(taken);
		isnull[CHAIN_ENTRY_ID] = isnull[CHAIN_COMPANY_ID] = isnull[CHAIN_AT] = isnull[CHAIN_KIND] =
			isnull[CHAIN_AMOUNT] = isnull[CHAIN_RECIPIENT] = isnull[CHAIN_LOTS] = false;
		isnull[CHAIN_REFERENCE] = PG_ARGISNULL(3);
		isnull[CHAIN_IDEMPOTENCY_KEY] = PG_ARGISNULL(4);
		hash = PlumEntryHash(head, fields, isnull);
		values[10] = PointerGetDatum(hash);
		values[11] = values[10];
		if (expired->nlots > 0)
		{
			expiry_entry = Int64GetDatum(LedgerId());
			expired_amount = NumericGetDatum(MinorToNumeric(WalletTotal(expired), scale));
			fields[CHAIN_ENTRY_ID] = expiry_entry;
			fields[CHAIN_KIND] = CStringGetTextDatum("expire");
			fields[CHAIN_AMOUNT] = expired_amount;
			fields[CHAIN_LOTS] = PointerGetDatum(expired);
			isnull[CHAIN_REFERENCE] = isnull[CHAIN_IDEMPOTENCY_KEY] = true;
			values[11] = PointerGetDatum(PlumEntryHash(hash, fields, isnull));
		}
		PlanRun(&plans, PLAN_STORE, values, nulls, false, SPI_OK_INSERT_RETURNING);
		if (!FirstValue(1, &result))
			elog(ERROR, "plum: redemption ledger row not written");
		if (expired->nlots > 0)
			hash = DatumGetByteaPP(values[11]);
	}

	/* lots found expired on this write are breakage: record it */
	if (expired->nlots > 0)
	{
		Datum		values[7];

		values[0] = expiry_entry;
		values[1] = Int64GetDatum(company_id);
		values[2] = TimestampTzGetDatum(at);
		values[3] = expired_amount;
		values[4] = recipient;
		values[5] = PlumWalletGetDatum(expired);
		values[6] = PointerGetDatum(hash);
		PlanRun(&plans, PLAN_RECORD_EXPIRY, values, NULL, false, SPI_OK_INSERT);
	}

	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * Take minor units of a wallet for checkout.c (points.h): lock the wallet
 * row, consume FIFO, and chain the redemption (and the expiry found, if any)
 * on the wallet's head, as plum_redeem_points() does for an unkeyed call;
 * the caller writes the rows.  PU001 when the wallet holds too little.
 * Inside SPI_connect.
 */
void
PointsTake(int64 company_id, Datum recipient, int64 minor, int scale, TimestampTz at,
		   Datum reference, PointsTaken *out)
{
	Datum		d;
	bytea	   *head = NULL;
	PlumWallet *wallet;
	Datum		fields[PLUM_CHAIN_FIELDS] = {0};
	bool		isnull[PLUM_CHAIN_FIELDS];

	if (!LockWallet(PlumCatalogGet(), company_id, recipient, &out->ctid, &d, &head))
		ReportInsufficient(0, minor, scale, DatumGetPlumRecipientPP(recipient));
	wallet = DatumGetPlumWalletP(d);
	if (wallet->scale != scale)
		minor = CheckAmount(MinorToNumeric(minor, scale), wallet->scale, "amount");
	if (!WalletConsume(wallet, minor, at, &out->remaining, &out->taken, &out->expired))
		ReportInsufficient(WalletLive(wallet, at), minor, wallet->scale,
						   DatumGetPlumRecipientPP(recipient));

	out->entry = LedgerId();
	out->amount = MinorToNumeric(minor, wallet->scale);
	for (int i = 0; i < PLUM_CHAIN_FIELDS; i++)
		isnull[i] = true;
	fields[CHAIN_ENTRY_ID] = Int64GetDatum(out->entry);
	fields[CHAIN_COMPANY_ID] = Int64GetDatum(company_id);
	fields[CHAIN_AT] = TimestampTzGetDatum(at);
	fields[CHAIN_KIND] = CStringGetTextDatum("redeem");
	fields[CHAIN_AMOUNT] = NumericGetDatum(out->amount);
	fields[CHAIN_RECIPIENT] = recipient;
	fields[CHAIN_REFERENCE] = reference;
	fields[CHAIN_LOTS] = PointerGetDatum(out->taken);
	isnull[CHAIN_ENTRY_ID] = isnull[CHAIN_COMPANY_ID] = isnull[CHAIN_AT] = isnull[CHAIN_KIND] =
		isnull[CHAIN_AMOUNT] = isnull[CHAIN_RECIPIENT] = isnull[CHAIN_LOTS] =
		isnull[CHAIN_REFERENCE] = false;
	out->hash = PlumEntryHash(head, fields, isnull);
	out->head = out->hash;
	out->expiry_hash = NULL;
	if (out->expired->nlots > 0)
	{
		out->expiry_entry = LedgerId();
		out->expired_amount = MinorToNumeric(WalletTotal(out->expired), wallet->scale);
		fields[CHAIN_ENTRY_ID] = Int64GetDatum(out->expiry_entry);
		fields[CHAIN_KIND] = CStringGetTextDatum("expire");
		fields[CHAIN_AMOUNT] = NumericGetDatum(out->expired_amount);
		fields[CHAIN_LOTS] = PointerGetDatum(out->expired);
		isnull[CHAIN_REFERENCE] = true;
		out->expiry_hash = PlumEntryHash(out->hash, fields, isnull);
		out->head = out->expiry_hash;
	}
}

PG_FUNCTION_INFO_V1(plum_points_balance);
/*
 * SQL: plum.points_balance(company_id, recipient) RETURNS numeric — the live
 * balance at plum's clock; 0 without a wallet, PU005 for an unknown company.
 * Reads the tables directly (no SPI, not SECURITY DEFINER: a C function's
 * reads need no table privilege), so a balance costs one index probe.
 */
Datum
plum_points_balance(PG_FUNCTION_ARGS)
{
	const PlumCatalog *cat;
	int64		company_id;
	TimestampTz at = PlumNow();
	int64		live = 0;
	int			scale;
	Datum		d;

	CheckNotNull(fcinfo, 0, "company_id");
	CheckNotNull(fcinfo, 1, "recipient");
	company_id = PG_GETARG_INT64(0);
	PlumCheckCompany(company_id);

	cat = PlumCatalogGet();
	if (ReadWallet(cat, company_id, PG_GETARG_DATUM(1), &d))
	{
		PlumWallet *wallet = DatumGetPlumWalletP(d);

		scale = wallet->scale;
		live = WalletLive(wallet, at);
	}
	else
		scale = ReadCompanyScale(cat, company_id);

	PG_RETURN_NUMERIC(MinorToNumeric(live, scale));
}
