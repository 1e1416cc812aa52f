/*
 * codes.c — the codes hot path: redeem_codes().
 *
 * A redemption is one statement that locks every code given in code order
 * (the one canonical order, so calls never deadlock) and reads it with its
 * company's scale, the checks in C in the order the codes were given, and
 * one statement that writes the drained codes and their ledger rows
 * together.  Amounts are int64 minor units (money.c).  Plans are prepared
 * once per backend and kept (SPI_keepplan); they are prepared again if the
 * extension is re-created (plum.code gets a new OID).
 */
#include "plum.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "common/int.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

/* the plans of this file, valid for one incarnation of schema plum */
typedef struct CodesPlans
{
	Oid			code_type;		/* OID of plum.code the plans were made for */
	uint64		generation;		/* plum_catalog_generation when last checked */
	Oid			entry_seq;		/* OID of plum.journal_entry_id_seq */
	int16		code_len;		/* storage of plum.code, for arrays */
	bool		code_byval;
	char		code_align;
	SPIPlanPtr	lock_codes;		/* codes with their company's scale, FOR UPDATE */
	SPIPlanPtr	item_exists;	/* whether an item exists */
	SPIPlanPtr	claim_key;		/* plum.claim_key() */
	SPIPlanPtr	prior_rows;		/* a keyed retry's rows, from the ledger */
	SPIPlanPtr	in_catalog;		/* plum.in_catalog() */
	SPIPlanPtr	store;			/* drained codes + their ledger rows */
} CodesPlans;

static CodesPlans plans = {InvalidOid};

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
} LockedCode;

/* A code with its place in a list, for sorting by code */
typedef struct CodePlace
{
	int64		code;
	int			place;			/* 0-based */
} CodePlace;

/*
 * Prepare a generic plan and keep it for the life of the backend.  Generic:
 * the plan cache would otherwise plan each call again, because a custom plan
 * sees the real length of the arrays and always looks cheaper.
 */
static SPIPlanPtr
PreparePlan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL)
		elog(ERROR, "plum: SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "plum: SPI_keepplan failed");
	return plan;
}

/*
 * Make sure the plans exist for the current incarnation of the extension
 * (inside SPI_connect).  DROP EXTENSION may leave schema plum behind, but
 * its types always get new OIDs, so the code type's OID tells.
 */
static void
PreparePlans(void)
{
	Oid			nsp;
	Oid			code_type;
	Oid			code_array;

	/* no type changed since the last check: the plans are current */
	if (OidIsValid(plans.code_type) && plans.generation == plum_catalog_generation)
		return;
	nsp = get_namespace_oid("plum", false);
	code_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								CStringGetDatum("code"), ObjectIdGetDatum(nsp));
	if (OidIsValid(plans.code_type) && plans.code_type == code_type)
	{
		plans.generation = plum_catalog_generation;
		return;
	}

	/* the extension was (re)created: forget plans made for an older one */
	if (OidIsValid(plans.code_type))
	{
		SPIPlanPtr *all[] = {&plans.lock_codes, &plans.item_exists, &plans.claim_key,
		&plans.prior_rows, &plans.in_catalog, &plans.store};

		for (int i = 0; i < lengthof(all); i++)
		{
			if (*all[i] != NULL)
				SPI_freeplan(*all[i]);
			*all[i] = NULL;
		}
		plans.code_type = InvalidOid;
	}

	if (!OidIsValid(code_type))
		elog(ERROR, "plum: type plum.code not found");
	code_array = get_array_type(code_type);
	if (!OidIsValid(code_array))
		elog(ERROR, "plum: type plum.code[] not found");
	plans.entry_seq = get_relname_relid("journal_entry_id_seq", nsp);
	if (!OidIsValid(plans.entry_seq))
		elog(ERROR, "plum: sequence plum.journal_entry_id_seq not found");
	get_typlenbyvalalign(code_type, &plans.code_len, &plans.code_byval, &plans.code_align);

	{
		Oid			args[] = {code_array};

		plans.lock_codes = PreparePlan(
			"SELECT x.ctid, x.code, x.company_id, x.campaign_id, x.expires_at, x.cancelled_at,"
			"   x.balance, c.scale"
			" FROM plum.issued_code x"
			" JOIN plum.company c ON c.company_id OPERATOR(pg_catalog.=) x.company_id"
			" WHERE x.code OPERATOR(plum.=) ANY ($1)"
			" ORDER BY x.code FOR UPDATE OF x", 1, args);
	}
	{
		Oid			args[] = {INT8OID};

		plans.item_exists = PreparePlan(
			"SELECT 1 FROM plum.item WHERE item_id OPERATOR(pg_catalog.=) $1", 1, args);
	}
	{
		/* $1 company, $2 key, $3 codes, $4 amount, $5 item, $6 reference, $7 entry id */
		Oid			args[] = {INT8OID, TEXTOID, code_array, NUMERICOID, INT8OID, TEXTOID, INT8OID};

		plans.claim_key = PreparePlan(
			"SELECT plum.claim_key($1, $2, 'redeem_codes',"
			"   pg_catalog.format('%s, %s, %s, %s', $3, $4, COALESCE($5::pg_catalog.text, 'NULL'),"
			"     COALESCE(pg_catalog.quote_literal($6), 'NULL')),"
			"   $7)", 7, args);
	}
	{
		/* $1 codes, $2 company, $3 key, $4 scale */
		Oid			args[] = {code_array, INT8OID, TEXTOID, INT4OID};

		plans.prior_rows = PreparePlan(
			"SELECT j.code, pg_catalog.round(j.amount, $4), pg_catalog.round(j.balance_after, $4)"
			" FROM plum.journal j"
			" WHERE j.code OPERATOR(plum.=) ANY ($1) AND j.kind OPERATOR(pg_catalog.=) 'code_redeem'"
			"   AND j.company_id OPERATOR(pg_catalog.=) $2 AND j.idempotency_key OPERATOR(pg_catalog.=) $3"
			" ORDER BY j.entry_id", 4, args);
	}
	{
		Oid			args[] = {INT8OID, INT8OID};

		plans.in_catalog = PreparePlan("SELECT plum.in_catalog($1, $2)", 2, args);
	}
	{
		/* $1 at, $2 ctids, $3 balances left, $4 company, $5 item, $6 reference,
		 * $7 idempotency key, $8 entry ids, $9 amounts applied, $10 campaigns, $11 codes */
		Oid			args[] = {TIMESTAMPTZOID, TIDARRAYOID, NUMERICARRAYOID, INT8OID, INT8OID,
		TEXTOID, TEXTOID, INT8ARRAYOID, NUMERICARRAYOID, INT8ARRAYOID, code_array};

		plans.store = PreparePlan(
			"WITH u AS (UPDATE plum.issued_code ic"
			"   SET balance = v.balance, distributed_at = COALESCE(ic.distributed_at, $1)"
			"   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) AS v(t, balance)"
			"   WHERE ic.ctid OPERATOR(pg_catalog.=) v.t)"
			" INSERT INTO plum.journal (entry_id, company_id, at, kind, amount, campaign_id, item_id, code,"
			"   reference, idempotency_key, balance_after)"
			" SELECT r.entry_id, $4, $1, 'code_redeem', r.applied, r.campaign_id, $5, r.code, $6, $7, r.balance"
			" FROM ROWS FROM (pg_catalog.unnest($8), pg_catalog.unnest($9), pg_catalog.unnest($10),"
			"   pg_catalog.unnest($11), pg_catalog.unnest($3)) AS r(entry_id, applied, campaign_id, code, balance)",
			11, args);
	}
	plans.code_type = code_type;
	plans.generation = plum_catalog_generation;
}

/* Run a kept plan, checking the SPI result */
static void
RunPlan(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, int expected)
{
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, 0);

	if (rc != expected)
		elog(ERROR, "plum: SPI_execute_plan returned %s", SPI_result_code_string(rc));
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
	deconstruct_array(arr, ARR_ELEMTYPE(arr), plans.code_len, plans.code_byval, plans.code_align,
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
						   plum_code_to_cstring(given[dup].code),
						   given[dup].place + 1, given[dup + 1].place + 1),
				 errhint("Give each code once.")));
	if (unknown >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown code"),
				 errdetail("Code #%d (%s) does not exist.", unknown + 1,
						   plum_code_to_cstring(DatumGetPlumCode(elems[unknown]))),
				 errhint("Check the code for typing mistakes.")));
	pfree(given);
	pfree(found);
}

/* Lock the codes in code order and read them (inside SPI) */
static LockedCode *
LockCodes(ArrayType *codes, int *nrows)
{
	Datum		values[1] = {PointerGetDatum(codes)};
	LockedCode *rows;

	RunPlan(plans.lock_codes, values, NULL, false, SPI_OK_SELECT);
	*nrows = (int) SPI_processed;
	rows = palloc(sizeof(LockedCode) * Max(*nrows, 1));
	for (int i = 0; i < *nrows; i++)
	{
		LockedCode *r = &rows[i];
		Datum		d;

		CHECK_FOR_INTERRUPTS();
		(void) GetValue(i, 1, &d);
		ItemPointerCopy((ItemPointer) DatumGetPointer(d), &r->ctid);
		(void) GetValue(i, 2, &d);
		r->code = DatumGetPlumCode(d);
		(void) GetValue(i, 3, &d);
		r->company_id = DatumGetInt64(d);
		(void) GetValue(i, 4, &d);
		r->campaign_id = DatumGetInt64(d);
		r->expires_null = !GetValue(i, 5, &d);
		r->expires_at = r->expires_null ? 0 : DatumGetTimestampTz(d);
		r->cancelled_null = !GetValue(i, 6, &d);
		r->cancelled_at = r->cancelled_null ? 0 : DatumGetTimestampTz(d);
		(void) GetValue(i, 7, &r->balance);
		(void) GetValue(i, 8, &d);
		r->scale = DatumGetInt16(d);
	}
	return rows;
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
							   plum_code_to_cstring(given[0]->code), given[0]->company_id,
							   i + 1, plum_code_to_cstring(given[i]->code), given[i]->company_id),
					 errhint("Redeem the codes of each company in a separate call.")));
	}
}

/* Refuse an item that does not exist */
static void
CheckItemExists(int64 item_id)
{
	Datum		values[1] = {Int64GetDatum(item_id)};

	RunPlan(plans.item_exists, values, NULL, false, SPI_OK_SELECT);
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

	RunPlan(plans.in_catalog, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed != 1 || !GetValue(0, 1, &d) || !DatumGetBool(d))
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_NOT_IN_CATALOG),
				 errmsg("item not in the campaign's catalog"),
				 errdetail("Item " INT64_FORMAT " is not in the catalog of campaign " INT64_FORMAT " (code #%d, %s).",
						   item_id, campaign_id, place, plum_code_to_cstring(code)),
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
						   plum_code_to_cstring(r->code), TimestampText(r->cancelled_at))));
	if (!r->expires_null && r->expires_at <= now)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_EXPIRED),
				 errmsg("code expired"),
				 errdetail("Code #%d (%s) expired at %s.", place,
						   plum_code_to_cstring(r->code), TimestampText(r->expires_at))));
	balance = plum_numeric_to_minor(DatumGetNumeric(r->balance), scale, "balance");
	if (balance == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_ALREADY_USED),
				 errmsg("code already redeemed"),
				 errdetail("Code #%d (%s) has no balance left.", place,
						   plum_code_to_cstring(r->code))));
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

/* A keyed retry: return the first call's rows, rebuilt from its ledger entries */
static void
ReturnPriorRows(ReturnSetInfo *rsinfo, ArrayType *codes, int64 company_id, Datum key, int scale)
{
	Datum		values[4];

	values[0] = PointerGetDatum(codes);
	values[1] = Int64GetDatum(company_id);
	values[2] = key;
	values[3] = Int32GetDatum(scale);
	RunPlan(plans.prior_rows, values, NULL, false, SPI_OK_SELECT);
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
	TimestampTz now = plum_now();
	ArrayType  *codes = NULL;
	Datum	   *elems = NULL;
	int			n = 0;
	LockedCode *rows;
	int			nrows;
	int		   *rowof;
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
	PreparePlans();

	/* the list, then the codes, locked in code order and kept in the order given */
	CheckCodeList(fcinfo, &codes, &elems, &n);
	rows = LockCodes(codes, &nrows);
	rowof = palloc(sizeof(int) * n);
	MatchCodes(elems, n, rows, nrows, rowof);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("amount must not be null")));
	given = palloc(sizeof(LockedCode *) * n);
	scale = PG_INT16_MAX;
	for (int i = 0; i < n; i++)
	{
		given[i] = &rows[rowof[i]];
		scale = Min(scale, given[i]->scale);
	}
	CheckOneCompany(given, n);
	company_id = given[0]->company_id;

	amount = plum_numeric_to_minor(PG_GETARG_NUMERIC(1), scale, "amount");
	plum_check_positive(amount, scale, "amount");
	if (!PG_ARGISNULL(2))
		CheckItemExists(PG_GETARG_INT64(2));

	/* a keyed call claims its key first: a retry returns the first call's rows */
	entry = nextval_internal(plans.entry_seq, true);
	if (!PG_ARGISNULL(4))
	{
		Datum		values[7];
		char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
		Datum		d;

		values[0] = Int64GetDatum(company_id);
		values[1] = PG_GETARG_DATUM(4);
		values[2] = PointerGetDatum(codes);
		values[3] = NumericGetDatum(plum_minor_to_numeric(amount, scale));
		values[4] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
		nulls[4] = PG_ARGISNULL(2) ? 'n' : ' ';
		values[5] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
		nulls[5] = PG_ARGISNULL(3) ? 'n' : ' ';
		values[6] = Int64GetDatum(entry);
		RunPlan(plans.claim_key, values, nulls, false, SPI_OK_SELECT);
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
						   plum_minor_to_cstring(total, scale), plum_minor_to_cstring(amount, scale)) :
				 errdetail("Codes hold %s together, requested %s.",
						   plum_minor_to_cstring(total, scale), plum_minor_to_cstring(amount, scale))));

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
	{
		Datum	   *ctids = palloc(sizeof(Datum) * napplied);
		Datum	   *balances = palloc(sizeof(Datum) * napplied);
		Datum	   *entries = palloc(sizeof(Datum) * napplied);
		Datum	   *amounts = palloc(sizeof(Datum) * napplied);
		Datum	   *campaigns = palloc(sizeof(Datum) * napplied);
		Datum	   *used = palloc(sizeof(Datum) * napplied);
		Datum		values[11];
		char		nulls[11] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

		for (int i = 0; i < napplied; i++)
		{
			CHECK_FOR_INTERRUPTS();
			ctids[i] = PointerGetDatum(&given[i]->ctid);
			balances[i] = NumericGetDatum(plum_minor_to_numeric(remaining[i], scale));
			entries[i] = Int64GetDatum(i == 0 ? entry : nextval_internal(plans.entry_seq, true));
			amounts[i] = NumericGetDatum(plum_minor_to_numeric(applied[i], scale));
			campaigns[i] = Int64GetDatum(given[i]->campaign_id);
			used[i] = PlumCodeGetDatum(given[i]->code);
		}
		values[0] = TimestampTzGetDatum(now);
		values[1] = MakeArray(ctids, napplied, TIDOID, sizeof(ItemPointerData), false, TYPALIGN_SHORT);
		values[2] = MakeArray(balances, napplied, NUMERICOID, -1, false, TYPALIGN_INT);
		values[3] = Int64GetDatum(company_id);
		values[4] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
		nulls[4] = PG_ARGISNULL(2) ? 'n' : ' ';
		values[5] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
		nulls[5] = PG_ARGISNULL(3) ? 'n' : ' ';
		values[6] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
		nulls[6] = PG_ARGISNULL(4) ? 'n' : ' ';
		values[7] = MakeArray(entries, napplied, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
		values[8] = MakeArray(amounts, napplied, NUMERICOID, -1, false, TYPALIGN_INT);
		values[9] = MakeArray(campaigns, napplied, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
		values[10] = MakeArray(used, napplied, plans.code_type, plans.code_len, plans.code_byval,
							   plans.code_align);
		RunPlan(plans.store, values, nulls, false, SPI_OK_INSERT);
		if (SPI_processed != (uint64) napplied)
			elog(ERROR, "plum: %d ledger rows expected, " UINT64_FORMAT " written", napplied, SPI_processed);
	}

	/* the rows returned: each code used, with the amount applied and its balance left */
	for (int i = 0; i < napplied; i++)
	{
		Datum		out[3];
		bool		nulls[3] = {false, false, false};

		out[0] = PlumCodeGetDatum(given[i]->code);
		out[1] = NumericGetDatum(plum_minor_to_numeric(applied[i], scale));
		out[2] = NumericGetDatum(plum_minor_to_numeric(remaining[i], scale));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
	}

	SPI_finish();
	return (Datum) 0;
}
