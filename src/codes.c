/*
 * codes.c — the codes hot path: redeem_codes().
 *
 * A redemption locks every code given in code order (the one canonical
 * order, so calls never deadlock) and reads it with its company's scale
 * through the primary key, without SPI (PlumLockRow), checks them in C in the
 * order the codes were given, and writes the drained codes and their ledger
 * rows together in one statement.  Amounts are int64 minor units (money.c).  Plans are prepared
 * once per backend and kept (spi_plans.c).
 */
#include "plum.h"
#include "chain.h"
#include "code.h"
#include "codes.h"
#include "identity.h"
#include "money.h"
#include "spi_plans.h"

#include "access/table.h"
#include "access/stratnum.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

/* the kept plans of this file */
enum
{
	PLAN_ITEM_EXISTS,			/* whether an item exists */
	PLAN_CLAIM_KEY,				/* claim_key() */
	PLAN_PRIOR_ROWS,			/* a keyed retry's rows, from the ledger */
	PLAN_IN_CATALOG,			/* in_catalog() */
	PLAN_STORE					/* drained codes + their ledger rows */
};

static PlumPlans plans;


/* A code with its place in a list, for sorting by code */
typedef struct CodePlace
{
	int64		code;
	int			place;			/* 0-based */
} CodePlace;

/* Prepare the plans of this file for the catalog given (PlansReady) */
static void
PreparePlans(PlumPlans *p, const PlumCatalog *cat)
{
	{
		Oid			args[] = {INT8OID};

		PlanKeep(p, PLAN_ITEM_EXISTS,
			"SELECT 1 FROM " PLUM_INTERNAL "item WHERE item_id OPERATOR(pg_catalog.=) $1", 1, args);
	}
	{
		/* $1 company, $2 key, $3 codes, $4 amount, $5 item, $6 reference, $7 entry id */
		Oid			args[] = {INT8OID, TEXTOID, cat->code_array_type, NUMERICOID, INT8OID, TEXTOID, INT8OID};

		PlanKeep(p, PLAN_CLAIM_KEY,
			"SELECT " PLUM_INTERNAL "claim_key($1, $2, 'redeem_codes',"
			"   pg_catalog.format('%s, %s, %s, %s', $3, $4, COALESCE($5::pg_catalog.text, 'NULL'),"
			"     COALESCE(pg_catalog.quote_literal($6), 'NULL')),"
			"   $7)", 7, args);
	}
	{
		/* $1 codes, $2 company, $3 key, $4 scale */
		Oid			args[] = {cat->code_array_type, INT8OID, TEXTOID, INT4OID};

		PlanKeep(p, PLAN_PRIOR_ROWS,
			"SELECT j.code, pg_catalog.round(j.amount, $4), pg_catalog.round(j.balance_after, $4)"
			" FROM " PLUM_INTERNAL "journal j"
			" WHERE j.code " PLUM_OP_EQ " ANY ($1) AND j.kind OPERATOR(pg_catalog.=) 'code_redeem'"
			"   AND j.company_id OPERATOR(pg_catalog.=) $2 AND j.idempotency_key OPERATOR(pg_catalog.=) $3"
			" ORDER BY j.entry_id", 4, args);
	}
	{
		Oid			args[] = {INT8OID, INT8OID};

		PlanKeep(p, PLAN_IN_CATALOG, "SELECT " PLUM_INTERNAL "in_catalog($1, $2)", 2, args);
	}
	{
		/* $1 at, $2 ctids, $3 balances left, $4 company, $5 item, $6 reference,
		 * $7 idempotency key, $8 entry ids, $9 amounts applied, $10 campaigns, $11 codes,
		 * $12 the rows' hashes (each the code's new chain head) */
		Oid			args[] = {TIMESTAMPTZOID, TIDARRAYOID, NUMERICARRAYOID, INT8OID, INT8OID,
		TEXTOID, TEXTOID, INT8ARRAYOID, NUMERICARRAYOID, INT8ARRAYOID, cat->code_array_type, BYTEAARRAYOID};

		PlanKeep(p, PLAN_STORE,
			"WITH u AS (UPDATE " PLUM_INTERNAL "issued_code ic"
			"   SET balance = v.balance, distributed_at = COALESCE(ic.distributed_at, $1), chain_head = v.hash"
			"   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($12)) AS v(t, balance, hash)"
			"   WHERE ic.ctid OPERATOR(pg_catalog.=) v.t)"
			" INSERT INTO " PLUM_INTERNAL "journal (entry_id, company_id, at, kind, amount, campaign_id, item_id, code,"
			"   reference, idempotency_key, balance_after, hash)"
			" SELECT r.entry_id, $4, $1, 'code_redeem', r.applied, r.campaign_id, $5, r.code, $6, $7, r.balance, r.hash"
			" FROM ROWS FROM (pg_catalog.unnest($8), pg_catalog.unnest($9), pg_catalog.unnest($10),"
			"   pg_catalog.unnest($11), pg_catalog.unnest($3), pg_catalog.unnest($12))"
			"   AS r(entry_id, applied, campaign_id, code, balance, hash)",
			12, args);
	}
}

/* Column column of row row of the last SPI result; false when NULL */
static inline bool
GetValue(int row, int column, Datum *value)
{
	bool		isnull;

	*value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);
	return !isnull;
}

/* Order CodePlaces by code, then by place */
static int
CompareCodePlaces(const void *a, const void *b)
{
	const CodePlace *x = (const CodePlace *) a;
	const CodePlace *y = (const CodePlace *) b;

	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	return x->place < y->place ? -1 : (x->place > y->place ? 1 : 0);
}

/* A timestamptz as text for messages, as format('%s') shows it */
static char *
TimestampText(TimestampTz t)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)));
}

/* Refuse what is wrong with the list itself: NULL, empty, multidimensional, a NULL code */
static void
CheckCodeList(FunctionCallInfo fcinfo, ArrayType **codes, Datum **elems, int *n)
{
	const PlumCatalog *cat;
	ArrayType  *arr;
	bool	   *nulls;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("codes must not be null")));
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no codes given"),
				 errhint("Give at least one code.")));
	/* the PL/pgSQL version looked for a NULL with array_position(), which refuses these */
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("searching for elements in multidimensional arrays is not supported")));
	cat = PlumCatalogGet();
	deconstruct_array(arr, ARR_ELEMTYPE(arr), cat->code_len, cat->code_byval, cat->code_align,
					  elems, &nulls, n);
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("code #%d must not be null", ARR_LBOUND(arr)[0] + i)));
	}
	*codes = arr;
}

/*
 * Match the locked rows (nrows, any order) to the codes given: rowof[i] is
 * the row of code i.  Refuses a code given twice (22023) and an unknown code
 * (PU005), each the first in the order given.
 */
static void
MatchCodes(Datum *elems, int n, LockedCode *rows, int nrows, int *rowof)
{
	CodePlace  *given = palloc(sizeof(CodePlace) * n);
	CodePlace  *found = palloc(sizeof(CodePlace) * Max(nrows, 1));
	int			j = 0;
	int			dup = -1;
	int			unknown = -1;

	for (int i = 0; i < n; i++)
	{
		given[i].code = DatumGetPlumCode(elems[i]);
		given[i].place = i;
	}
	for (int i = 0; i < nrows; i++)
	{
		found[i].code = rows[i].code;
		found[i].place = i;
	}
	qsort(given, n, sizeof(CodePlace), CompareCodePlaces);
	qsort(found, nrows, sizeof(CodePlace), CompareCodePlaces);

	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		/* the first of a run of equal codes that has a second: the earliest such pair wins */
		if (i + 1 < n && given[i + 1].code == given[i].code &&
			(i == 0 || given[i - 1].code != given[i].code) &&
			(dup < 0 || given[i].place < given[dup].place))
			dup = i;
		while (j < nrows && found[j].code < given[i].code)
			j++;
		if (j < nrows && found[j].code == given[i].code)
			rowof[given[i].place] = found[j].place;
		else
		{
			rowof[given[i].place] = -1;
			if (unknown < 0 || given[i].place < unknown)
				unknown = given[i].place;
		}
	}

	if (dup >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duplicate code"),
				 errdetail("Code %s is given twice (#%d and #%d).",
						   CodeToCString(given[dup].code),
						   given[dup].place + 1, given[dup + 1].place + 1),
				 errhint("Give each code once.")));
	if (unknown >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown code"),
				 errdetail("Code #%d (%s) does not exist.", unknown + 1,
						   CodeToCString(DatumGetPlumCode(elems[unknown]))),
				 errhint("Check the code for typing mistakes.")));
	pfree(given);
	pfree(found);
}

/* Ascending plum.code order (signed 64-bit, as the type's B-tree sorts) */
static int
CompareCodes(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Lock the n codes given in code order (the one canonical order, so calls
 * never deadlock) as SELECT ... FOR UPDATE would, and read them with their
 * company's scale: one primary-key probe and one tuple lock a code, no SPI
 * (PlumLockRow).  A code given twice is locked once; an unknown code is left
 * out (MatchCodes says which).
 */
static LockedCode *
LockCodes(Datum *elems, int n, int *nrows)
{
	const PlumCatalog *cat = PlumCatalogGet();
	int64	   *sorted = palloc(sizeof(int64) * Max(n, 1));
	LockedCode *rows = palloc(sizeof(LockedCode) * Max(n, 1));
	Relation	rel;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	int64		scale_company = 0;
	int			scale = -1;
	int			found = 0;

	for (int i = 0; i < n; i++)
		sorted[i] = DatumGetPlumCode(elems[i]);
	qsort(sorted, n, sizeof(int64), CompareCodes);

	snapshot = PlumStatementSnapshot();
	rel = table_open(cat->issued_code_rel, RowShareLock);
	slot = table_slot_create(rel, NULL);
	for (int i = 0; i < n; i++)
	{
		ScanKeyData key;
		LockedCode *r = &rows[found];
		bool		isnull;
		Datum		d;

		CHECK_FOR_INTERRUPTS();
		if (i > 0 && sorted[i] == sorted[i - 1])
			continue;
		ScanKeyEntryInitializeWithInfo(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
									   InvalidOid, (FmgrInfo *) &cat->code_eq,
									   PlumCodeGetDatum(sorted[i]));
		if (!PlumLockRow(rel, &key, 1, snapshot, slot, "code"))
			continue;
		ItemPointerCopy(&slot->tts_tid, &r->ctid);
		r->code = sorted[i];
		r->company_id = DatumGetInt64(slot_getattr(slot, cat->code_company, &isnull));
		r->campaign_id = DatumGetInt64(slot_getattr(slot, cat->code_campaign, &isnull));
		d = slot_getattr(slot, cat->code_expires, &r->expires_null);
		r->expires_at = r->expires_null ? 0 : DatumGetTimestampTz(d);
		d = slot_getattr(slot, cat->code_cancelled, &r->cancelled_null);
		r->cancelled_at = r->cancelled_null ? 0 : DatumGetTimestampTz(d);
		r->balance = PointerGetDatum(PG_DETOAST_DATUM_COPY(slot_getattr(slot, cat->code_balance, &isnull)));
		d = slot_getattr(slot, cat->code_chain_head, &isnull);
		r->head = isnull ? NULL : DatumGetByteaPCopy(d);
		if (scale < 0 || r->company_id != scale_company)
		{
			scale_company = r->company_id;
			scale = PlumCompanyScale(scale_company);
			if (scale < 0)
				elog(ERROR, "plum: code %s of an unknown company", CodeToCString(r->code));
		}
		r->scale = (int16) scale;
		found++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	PopActiveSnapshot();
	pfree(sorted);
	*nrows = found;
	return rows;
}

/* Lock the codes of a list in code order; their rows in the order given (codes.h) */
LockedCode **
CodesLock(Datum *elems, int n)
{
	LockedCode *rows;
	int			nrows;
	int		   *rowof;
	LockedCode **given;

	rows = LockCodes(elems, n, &nrows);
	rowof = palloc(sizeof(int) * n);
	MatchCodes(elems, n, rows, nrows, rowof);
	given = palloc(sizeof(LockedCode *) * n);
	for (int i = 0; i < n; i++)
		given[i] = &rows[rowof[i]];
	pfree(rowof);
	return given;
}

/* Refuse codes of more than one company */
static void
CheckOneCompany(LockedCode **given, int n)
{
	for (int i = 1; i < n; i++)
	{
		if (given[i]->company_id != given[0]->company_id)
			ereport(ERROR,
					(errcode(ERRCODE_PLUM_NOT_PERMITTED),
					 errmsg("codes of different companies"),
					 errdetail("Code #1 (%s) is company " INT64_FORMAT "'s; code #%d (%s) is company " INT64_FORMAT "'s.",
							   CodeToCString(given[0]->code), given[0]->company_id,
							   i + 1, CodeToCString(given[i]->code), given[i]->company_id),
					 errhint("Redeem the codes of each company in a separate call.")));
	}
}

/* Refuse an item that does not exist */
static void
CheckItemExists(int64 item_id)
{
	Datum		values[1] = {Int64GetDatum(item_id)};

	PlanRun(&plans, PLAN_ITEM_EXISTS, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown item"),
				 errdetail("There is no item " INT64_FORMAT ".", item_id)));
}

/* Refuse an item outside the catalog of a code's campaign */
static void
CheckInCatalog(int64 campaign_id, int64 item_id, int place, int64 code)
{
	Datum		values[2] = {Int64GetDatum(campaign_id), Int64GetDatum(item_id)};
	Datum		d;

	PlanRun(&plans, PLAN_IN_CATALOG, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed != 1 || !GetValue(0, 1, &d) || !DatumGetBool(d))
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_NOT_IN_CATALOG),
				 errmsg("item not in the campaign's catalog"),
				 errdetail("Item " INT64_FORMAT " is not in the catalog of campaign " INT64_FORMAT " (code #%d, %s).",
						   item_id, campaign_id, place, CodeToCString(code)),
				 errhint("Choose an item of the campaign's catalog (plum.campaign_catalog()).")));
}

/*
 * Refuse a code that cannot be redeemed now: cancelled, expired, empty, or
 * (with an item) outside its campaign's catalog.  Returns its balance in
 * minor units.  checked/nchecked: the campaigns whose catalog was checked
 * for the item (has_item).
 */
static int64
CheckRedeemable(LockedCode *r, int place, TimestampTz now, int scale, bool has_item, int64 item_id,
				int64 *checked, int *nchecked)
{
	int64		balance;

	if (!r->cancelled_null)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_ALREADY_USED),
				 errmsg("code cancelled"),
				 errdetail("Code #%d (%s) was cancelled at %s.", place,
						   CodeToCString(r->code), TimestampText(r->cancelled_at))));
	if (!r->expires_null && r->expires_at <= now)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_EXPIRED),
				 errmsg("code expired"),
				 errdetail("Code #%d (%s) expired at %s.", place,
						   CodeToCString(r->code), TimestampText(r->expires_at))));
	balance = NumericToMinor(DatumGetNumeric(r->balance), scale, "balance");
	if (balance == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_ALREADY_USED),
				 errmsg("code already redeemed"),
				 errdetail("Code #%d (%s) has no balance left.", place,
						   CodeToCString(r->code))));
	if (has_item)
	{
		bool		seen = false;

		for (int k = 0; k < *nchecked && !seen; k++)
			seen = checked[k] == r->campaign_id;
		if (!seen)
		{
			CheckInCatalog(r->campaign_id, item_id, place, r->code);
			checked[(*nchecked)++] = r->campaign_id;
		}
	}
	return balance;
}

/* Build a one-dimensional array of n Datums of a built-in type */
static Datum
MakeArray(Datum *elems, int n, Oid type, int16 len, bool byval, char align)
{
	return PointerGetDatum(construct_array(elems, n, type, len, byval, align));
}

/* The 12 parameters of the statement writing drained codes and their ledger rows (codes.h) */
void
CodesStoreValues(LockedCode **given, int napplied, const int64 *applied, const int64 *remaining,
				 int64 company_id, int scale, TimestampTz now, int64 entry,
				 Datum item, bool item_null, Datum reference, bool reference_null,
				 Datum key, bool key_null, Datum *values, char *nulls)
{
	const PlumCatalog *cat = PlumCatalogGet();
	Datum	   *ctids = palloc(sizeof(Datum) * napplied);
	Datum	   *balances = palloc(sizeof(Datum) * napplied);
	Datum	   *entries = palloc(sizeof(Datum) * napplied);
	Datum	   *amounts = palloc(sizeof(Datum) * napplied);
	Datum	   *campaigns = palloc(sizeof(Datum) * napplied);
	Datum	   *used = palloc(sizeof(Datum) * napplied);
	Datum	   *hashes = palloc(sizeof(Datum) * napplied);
	Datum		fields[PLUM_CHAIN_FIELDS] = {0};
	bool		isnull[PLUM_CHAIN_FIELDS];

	for (int i = 0; i < 12; i++)
		nulls[i] = ' ';

	/* each code's row chains on the code's head (the codes are locked) */
	for (int f = 0; f < PLUM_CHAIN_FIELDS; f++)
		isnull[f] = true;
	fields[CHAIN_COMPANY_ID] = Int64GetDatum(company_id);
	fields[CHAIN_AT] = TimestampTzGetDatum(now);
	fields[CHAIN_KIND] = CStringGetTextDatum("code_redeem");
	isnull[CHAIN_ENTRY_ID] = isnull[CHAIN_COMPANY_ID] = isnull[CHAIN_AT] = isnull[CHAIN_KIND] =
		isnull[CHAIN_AMOUNT] = isnull[CHAIN_CAMPAIGN_ID] = isnull[CHAIN_CODE] = isnull[CHAIN_BALANCE_AFTER] = false;
	fields[CHAIN_ITEM_ID] = item;
	isnull[CHAIN_ITEM_ID] = item_null;
	fields[CHAIN_REFERENCE] = reference;
	isnull[CHAIN_REFERENCE] = reference_null;
	fields[CHAIN_IDEMPOTENCY_KEY] = key;
	isnull[CHAIN_IDEMPOTENCY_KEY] = key_null;

	for (int i = 0; i < napplied; i++)
	{
		CHECK_FOR_INTERRUPTS();
		ctids[i] = PointerGetDatum(&given[i]->ctid);
		balances[i] = NumericGetDatum(MinorToNumeric(remaining[i], scale));
		entries[i] = Int64GetDatum(i == 0 ? entry : LedgerId());
		amounts[i] = NumericGetDatum(MinorToNumeric(applied[i], scale));
		campaigns[i] = Int64GetDatum(given[i]->campaign_id);
		used[i] = PlumCodeGetDatum(given[i]->code);
		fields[CHAIN_ENTRY_ID] = entries[i];
		fields[CHAIN_AMOUNT] = amounts[i];
		fields[CHAIN_CAMPAIGN_ID] = campaigns[i];
		fields[CHAIN_CODE] = used[i];
		fields[CHAIN_BALANCE_AFTER] = balances[i];
		hashes[i] = PointerGetDatum(PlumEntryHash(given[i]->head, fields, isnull));
	}
	values[0] = TimestampTzGetDatum(now);
	values[1] = MakeArray(ctids, napplied, TIDOID, sizeof(ItemPointerData), false, TYPALIGN_SHORT);
	values[2] = MakeArray(balances, napplied, NUMERICOID, -1, false, TYPALIGN_INT);
	values[3] = Int64GetDatum(company_id);
	values[4] = item;
	nulls[4] = item_null ? 'n' : ' ';
	values[5] = reference;
	nulls[5] = reference_null ? 'n' : ' ';
	values[6] = key;
	nulls[6] = key_null ? 'n' : ' ';
	values[7] = MakeArray(entries, napplied, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	values[8] = MakeArray(amounts, napplied, NUMERICOID, -1, false, TYPALIGN_INT);
	values[9] = MakeArray(campaigns, napplied, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	values[10] = MakeArray(used, napplied, cat->code_type, cat->code_len, cat->code_byval,
						   cat->code_align);
	values[11] = MakeArray(hashes, napplied, BYTEAOID, -1, false, TYPALIGN_INT);
}

/* Write drained codes and their ledger rows in one statement */
static void
CodesStore(LockedCode **given, int napplied, const int64 *applied, const int64 *remaining,
		   int64 company_id, int scale, TimestampTz now, int64 entry,
		   Datum item, bool item_null, Datum reference, bool reference_null,
		   Datum key, bool key_null)
{
	Datum		values[12];
	char		nulls[12];

	CodesStoreValues(given, napplied, applied, remaining, company_id, scale, now, entry,
					 item, item_null, reference, reference_null, key, key_null, values, nulls);
	PlanRun(&plans, PLAN_STORE, values, nulls, false, SPI_OK_INSERT);
	if (SPI_processed != (uint64) napplied)
		elog(ERROR, "plum: %d ledger rows expected, " UINT64_FORMAT " written", napplied, SPI_processed);
}

/* A keyed retry: return the first call's rows, rebuilt from its ledger entries */
static void
ReturnPriorRows(ReturnSetInfo *rsinfo, ArrayType *codes, int64 company_id, Datum key, int scale)
{
	Datum		values[4];

	values[0] = PointerGetDatum(codes);
	values[1] = Int64GetDatum(company_id);
	values[2] = key;
	values[3] = Int32GetDatum(scale);
	PlanRun(&plans, PLAN_PRIOR_ROWS, values, NULL, false, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		out[3];
		bool		nulls[3];

		CHECK_FOR_INTERRUPTS();
		for (int c = 0; c < 3; c++)
			nulls[c] = !GetValue((int) i, c + 1, &out[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
	}
}

PG_FUNCTION_INFO_V1(plum_redeem_codes);
/*
 * SQL: plum.redeem_codes(codes, amount, item_id, reference, idempotency_key)
 * RETURNS TABLE(code, applied, remaining) — each code used, in the order given.
 */
Datum
plum_redeem_codes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now = PlumNow();
	ArrayType  *codes = NULL;
	Datum	   *elems = NULL;
	int			n = 0;
	LockedCode **given;
	int			scale;
	int64		company_id;
	int64		amount;
	int64		total = 0;
	int64		left;
	int64		entry;
	int64	   *checked;
	int			nchecked = 0;
	int			napplied = 0;
	int64	   *applied;
	int64	   *remaining;

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	PlansReady(&plans, PreparePlans);

	/* the list, then the codes, locked in code order and kept in the order given */
	CheckCodeList(fcinfo, &codes, &elems, &n);
	given = CodesLock(elems, n);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("amount must not be null")));
	scale = PG_INT16_MAX;
	for (int i = 0; i < n; i++)
		scale = Min(scale, given[i]->scale);
	/* another company's codes: refused before anything about them is told */
	for (int i = 0; i < n; i++)
		PlumCheckCompany(given[i]->company_id);
	CheckOneCompany(given, n);
	company_id = given[0]->company_id;

	amount = CheckAmount(PG_GETARG_NUMERIC(1), scale, "amount");
	if (!PG_ARGISNULL(2))
		CheckItemExists(PG_GETARG_INT64(2));

	/* a keyed call claims its key first: a retry returns the first call's rows */
	entry = LedgerId();
	if (!PG_ARGISNULL(4))
	{
		Datum		values[7];
		char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
		Datum		d;

		values[0] = Int64GetDatum(company_id);
		values[1] = PG_GETARG_DATUM(4);
		values[2] = PointerGetDatum(codes);
		values[3] = NumericGetDatum(MinorToNumeric(amount, scale));
		values[4] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
		nulls[4] = PG_ARGISNULL(2) ? 'n' : ' ';
		values[5] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
		nulls[5] = PG_ARGISNULL(3) ? 'n' : ' ';
		values[6] = Int64GetDatum(entry);
		PlanRun(&plans, PLAN_CLAIM_KEY, values, nulls, false, SPI_OK_SELECT);
		if (SPI_processed == 1 && GetValue(0, 1, &d))
		{
			ReturnPriorRows(rsinfo, codes, company_id, PG_GETARG_DATUM(4), scale);
			SPI_finish();
			return (Datum) 0;
		}
	}

	/* every code must be redeemable, and together hold enough */
	checked = palloc(sizeof(int64) * n);
	applied = palloc(sizeof(int64) * n);
	remaining = palloc(sizeof(int64) * n);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		remaining[i] = CheckRedeemable(given[i], i + 1, now, scale, !PG_ARGISNULL(2),
									   PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2), checked, &nchecked);
		/* a sum beyond int64 holds more than any amount: saturate */
		if (pg_add_s64_overflow(total, remaining[i], &total))
			total = PG_INT64_MAX;
	}
	if (total < amount)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_INSUFFICIENT),
				 errmsg("insufficient balance"),
				 n == 1 ?
				 errdetail("The code holds %s, requested %s.",
						   MinorToCString(total, scale), MinorToCString(amount, scale)) :
				 errdetail("Codes hold %s together, requested %s.",
						   MinorToCString(total, scale), MinorToCString(amount, scale))));

	/* drain the codes in the order given, only as far as the amount needs */
	left = amount;
	for (int i = 0; i < n && left > 0; i++)
	{
		CHECK_FOR_INTERRUPTS();
		applied[i] = Min(remaining[i], left);
		remaining[i] -= applied[i];
		left -= applied[i];
		napplied++;
	}

	/* write the codes and their ledger rows in one statement */
	CodesStore(given, napplied, applied, remaining, company_id, scale, now, entry,
			   PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2), PG_ARGISNULL(2),
			   PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3), PG_ARGISNULL(3),
			   PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), PG_ARGISNULL(4));

	/* the rows returned: each code used, with the amount applied and its balance left */
	for (int i = 0; i < napplied; i++)
	{
		Datum		out[3];
		bool		nulls[3] = {false, false, false};

		out[0] = PlumCodeGetDatum(given[i]->code);
		out[1] = NumericGetDatum(MinorToNumeric(applied[i], scale));
		out[2] = NumericGetDatum(MinorToNumeric(remaining[i], scale));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
	}

	SPI_finish();
	return (Datum) 0;
}
