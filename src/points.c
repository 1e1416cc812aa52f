/*
 * points.c — the points hot path: redeem_points() and points_balance().
 *
 * A redemption is one locked read of the recipient's wallet row, FIFO
 * consumption in C (wallet.c), and one statement that writes the new wallet
 * and the ledger row together.  Plans are prepared once per backend and
 * kept (SPI_keepplan); they are prepared again if the extension is
 * re-created (its schema gets a new OID).
 */
#include "plum.h"
#include "wallet.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/* the plans of this file, valid for one incarnation of schema plum */
typedef struct PointsPlans
{
	Oid			wallet_type;	/* OID of plum.wallet the plans were made for */
	uint64		generation;		/* plum_catalog_generation when last checked */
	SPIPlanPtr	lock_wallet;	/* ctid, lots of one wallet, FOR UPDATE */
	SPIPlanPtr	read_wallet;	/* lots of one wallet */
	SPIPlanPtr	company_scale;	/* scale of a company */
	SPIPlanPtr	store;			/* new wallet + redemption ledger row */
	SPIPlanPtr	record_expiry;	/* ledger row for lots dropped as expired */
	SPIPlanPtr	next_entry;		/* nextval of the ledger's sequence */
	SPIPlanPtr	claim_key;		/* plum.claim_key() */
} PointsPlans;

static PointsPlans plans = {InvalidOid};

/* OID of a type in schema plum, or InvalidOid */
static Oid
PlumType(Oid nsp, const char *name)
{
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						   CStringGetDatum(name), ObjectIdGetDatum(nsp));
}

/* Prepare a plan and keep it for the life of the backend */
static SPIPlanPtr
PreparePlan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

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
 * its types always get new OIDs, so the wallet type's OID tells.
 */
static void
PreparePlans(void)
{
	Oid			nsp;
	Oid			recipient_type;
	Oid			wallet_type;

	/* no type changed since the last check: the plans are current */
	if (OidIsValid(plans.wallet_type) && plans.generation == plum_catalog_generation)
		return;
	nsp = get_namespace_oid("plum", false);
	wallet_type = PlumType(nsp, "wallet");
	if (OidIsValid(plans.wallet_type) && plans.wallet_type == wallet_type)
	{
		plans.generation = plum_catalog_generation;
		return;
	}

	/* the extension was (re)created: forget plans made for an older one */
	if (OidIsValid(plans.wallet_type))
	{
		SPIPlanPtr *all[] = {&plans.lock_wallet, &plans.read_wallet, &plans.company_scale,
		&plans.store, &plans.record_expiry, &plans.next_entry, &plans.claim_key};

		for (int i = 0; i < lengthof(all); i++)
		{
			if (*all[i] != NULL)
				SPI_freeplan(*all[i]);
			*all[i] = NULL;
		}
		plans.wallet_type = InvalidOid;
	}

	recipient_type = PlumType(nsp, "recipient");
	if (!OidIsValid(recipient_type) || !OidIsValid(wallet_type))
		elog(ERROR, "plum: types plum.recipient and plum.wallet not found");

	{
		Oid			args[] = {INT8OID, recipient_type};

		plans.lock_wallet = PreparePlan(
			"SELECT ctid, lots FROM plum.account"
			" WHERE company_id OPERATOR(pg_catalog.=) $1 AND recipient OPERATOR(plum.=) $2"
			" FOR UPDATE", 2, args);
		plans.read_wallet = PreparePlan(
			"SELECT lots FROM plum.account"
			" WHERE company_id OPERATOR(pg_catalog.=) $1 AND recipient OPERATOR(plum.=) $2",
			2, args);
	}
	{
		Oid			args[] = {INT8OID};

		plans.company_scale = PreparePlan(
			"SELECT scale FROM plum.company WHERE company_id OPERATOR(pg_catalog.=) $1",
			1, args);
	}
	{
		/* $1 ctid, $2 new wallet, $3 entry id or NULL, $4 company, $5 at, $6 amount,
		 * $7 recipient, $8 reference, $9 idempotency key, $10 lots taken */
		Oid			args[] = {TIDOID, wallet_type, INT8OID, INT8OID, TIMESTAMPTZOID,
		NUMERICOID, recipient_type, TEXTOID, TEXTOID, wallet_type};

		plans.store = PreparePlan(
			"WITH w AS (UPDATE plum.account SET lots = $2 WHERE ctid OPERATOR(pg_catalog.=) $1)"
			" INSERT INTO plum.journal (entry_id, company_id, at, kind, amount, recipient,"
			"   reference, idempotency_key, lots)"
			" VALUES (COALESCE($3, pg_catalog.nextval('plum.journal_entry_id_seq'::pg_catalog.regclass)),"
			"   $4, $5, 'redeem', $6, $7, $8, $9, $10)"
			" RETURNING entry_id", 10, args);
	}
	{
		Oid			args[] = {INT8OID, TIMESTAMPTZOID, NUMERICOID, recipient_type, wallet_type};

		plans.record_expiry = PreparePlan(
			"INSERT INTO plum.journal (company_id, at, kind, amount, recipient, lots)"
			" VALUES ($1, $2, 'expire', $3, $4, $5)", 5, args);
	}
	plans.next_entry = PreparePlan(
		"SELECT pg_catalog.nextval('plum.journal_entry_id_seq'::pg_catalog.regclass)", 0, NULL);
	{
		Oid			args[] = {INT8OID, TEXTOID, TEXTOID, INT8OID};

		plans.claim_key = PreparePlan(
			"SELECT plum.claim_key($1, $2, 'redeem_points', $3, $4)", 4, args);
	}
	plans.wallet_type = wallet_type;
	plans.generation = plum_catalog_generation;
}

/* Refuse a NULL argument with 22004 */
static inline void
CheckNotNull(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/* Run a kept plan, checking the SPI result */
static void
RunPlan(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, int expected)
{
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, 0);

	if (rc != expected)
		elog(ERROR, "plum: SPI_execute_plan returned %s", SPI_result_code_string(rc));
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

/* The company's currency scale; PU005 when the company does not exist */
static int
CompanyScale(int64 company_id)
{
	Datum		values[1] = {Int64GetDatum(company_id)};
	Datum		scale;

	RunPlan(plans.company_scale, values, NULL, true, SPI_OK_SELECT);
	if (!FirstValue(1, &scale))
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown company"),
				 errdetail("There is no company " INT64_FORMAT ".", company_id)));
	return DatumGetInt16(scale);
}

/* Refuse a redemption larger than the live balance */
static void
ReportInsufficient(int64 live, int64 requested, int scale, PlumRecipient *recipient)
{
	ereport(ERROR,
			(errcode(ERRCODE_PLUM_INSUFFICIENT),
			 errmsg("insufficient points"),
			 errdetail("The balance of %s is %s, requested %s.",
					   plum_recipient_cstring(recipient),
					   plum_minor_to_cstring(live, scale),
					   plum_minor_to_cstring(requested, scale))));
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
	TimestampTz at = plum_now();
	int64		minor = 0;
	int			scale = -1;
	Datum		entry = (Datum) 0;
	char		entry_null = 'n';
	Datum		result;
	PlumWallet *wallet;
	PlumWallet *remaining;
	PlumWallet *taken;
	PlumWallet *expired;
	ItemPointerData ctid;
	Datum		d;

	CheckNotNull(fcinfo, 0, "company_id");
	CheckNotNull(fcinfo, 1, "recipient");
	CheckNotNull(fcinfo, 2, "amount");
	company_id = PG_GETARG_INT64(0);
	recipient = PG_GETARG_DATUM(1);
	amount = PG_GETARG_NUMERIC(2);

	SPI_connect();
	PreparePlans();

	/* a keyed call claims its key first: a retry returns the first result */
	if (!PG_ARGISNULL(4))
	{
		Datum		values[4];
		char		nulls[4] = {' ', ' ', ' ', ' '};
		char	   *arguments;

		scale = CompanyScale(company_id);
		minor = plum_numeric_to_minor(amount, scale, "amount");
		plum_check_positive(minor, scale, "amount");
		RunPlan(plans.next_entry, NULL, NULL, false, SPI_OK_SELECT);
		(void) FirstValue(1, &entry);
		entry_null = ' ';
		arguments = psprintf("%s, %s, %s",
							 plum_recipient_cstring(DatumGetPlumRecipientPP(recipient)),
							 plum_minor_to_cstring(minor, scale),
							 PG_ARGISNULL(3) ? "NULL" :
							 quote_literal_cstr(text_to_cstring(PG_GETARG_TEXT_PP(3))));
		values[0] = Int64GetDatum(company_id);
		values[1] = PG_GETARG_DATUM(4);
		values[2] = CStringGetTextDatum(arguments);
		values[3] = entry;
		RunPlan(plans.claim_key, values, nulls, false, SPI_OK_SELECT);
		if (FirstValue(1, &d))
		{
			SPI_finish();
			PG_RETURN_DATUM(d);
		}
	}

	/* lock the wallet row */
	{
		Datum		values[2] = {Int64GetDatum(company_id), recipient};

		RunPlan(plans.lock_wallet, values, NULL, false, SPI_OK_SELECT);
	}
	if (SPI_processed == 0)
	{
		/* no wallet: a balance of 0, unless the company is unknown */
		if (scale < 0)
		{
			scale = CompanyScale(company_id);
			minor = plum_numeric_to_minor(amount, scale, "amount");
			plum_check_positive(minor, scale, "amount");
		}
		ReportInsufficient(0, minor, scale, DatumGetPlumRecipientPP(recipient));
	}
	(void) FirstValue(1, &d);
	ItemPointerCopy((ItemPointer) DatumGetPointer(d), &ctid);
	(void) FirstValue(2, &d);
	wallet = DatumGetPlumWalletP(d);
	if (scale < 0)
	{
		scale = wallet->scale;
		minor = plum_numeric_to_minor(amount, scale, "amount");
		plum_check_positive(minor, scale, "amount");
	}

	if (!plum_wallet_consume(wallet, minor, at, &remaining, &taken, &expired))
		ReportInsufficient(plum_wallet_live(wallet, at), minor, scale,
						   DatumGetPlumRecipientPP(recipient));

	/* write the wallet and the ledger row in one statement */
	{
		Datum		values[10];
		char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

		values[0] = PointerGetDatum(&ctid);
		values[1] = PointerGetDatum(remaining);
		values[2] = entry;
		nulls[2] = entry_null;
		values[3] = Int64GetDatum(company_id);
		values[4] = TimestampTzGetDatum(at);
		values[5] = NumericGetDatum(plum_minor_to_numeric(minor, scale));
		values[6] = recipient;
		values[7] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
		nulls[7] = PG_ARGISNULL(3) ? 'n' : ' ';
		values[8] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
		nulls[8] = PG_ARGISNULL(4) ? 'n' : ' ';
		values[9] = PointerGetDatum(taken);
		RunPlan(plans.store, values, nulls, false, SPI_OK_INSERT_RETURNING);
		if (!FirstValue(1, &result))
			elog(ERROR, "plum: redemption ledger row not written");
	}

	/* lots found expired on this write are breakage: record it */
	if (expired->nlots > 0)
	{
		Datum		values[5];

		values[0] = Int64GetDatum(company_id);
		values[1] = TimestampTzGetDatum(at);
		values[2] = NumericGetDatum(plum_minor_to_numeric(plum_wallet_total(expired), scale));
		values[3] = recipient;
		values[4] = PointerGetDatum(expired);
		RunPlan(plans.record_expiry, values, NULL, false, SPI_OK_INSERT);
	}

	SPI_finish();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(plum_points_balance);
/*
 * SQL: plum.points_balance(company_id, recipient) RETURNS numeric —
 * the live balance at plum's clock; 0 without a wallet.
 */
Datum
plum_points_balance(PG_FUNCTION_ARGS)
{
	int64		company_id;
	TimestampTz at = plum_now();
	int64		live = 0;
	int			scale;
	Datum		d;

	CheckNotNull(fcinfo, 0, "company_id");
	CheckNotNull(fcinfo, 1, "recipient");
	company_id = PG_GETARG_INT64(0);

	SPI_connect();
	PreparePlans();
	{
		Datum		values[2] = {Int64GetDatum(company_id), PG_GETARG_DATUM(1)};

		RunPlan(plans.read_wallet, values, NULL, true, SPI_OK_SELECT);
	}
	if (FirstValue(1, &d))
	{
		PlumWallet *wallet = DatumGetPlumWalletP(d);

		scale = wallet->scale;
		live = plum_wallet_live(wallet, at);
	}
	else
		scale = CompanyScale(company_id);
	SPI_finish();

	PG_RETURN_NUMERIC(plum_minor_to_numeric(live, scale));
}
