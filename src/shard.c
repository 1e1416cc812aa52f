/*
 * shard.c — this database's shard number (sql/06_shard.sql), for the code
 * and link token generators: -1 on a single server (plum.configure_shard()
 * never called), else 0..15.
 *
 * A configured shard never changes (configure_shard refuses to), so the
 * number is cached for the backend's life once found; an unconfigured
 * database is asked again at the next generation (one index-less read of a
 * one-row table per batch of codes or per link), so a backend that started
 * before configure_shard still stamps its codes.
 */
#include "plum.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

static int	plum_shard = -1;
static int	plum_shards = 1;
static Oid	plum_shard_relid = InvalidOid;
static bool plum_shard_callback = false;

/* relcache callback: forget the number when its table changes or goes */
static void
ShardInvalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == plum_shard_relid)
	{
		plum_shard = -1;
		plum_shards = 1;
		plum_shard_relid = InvalidOid;
	}
}

int
PlumShard(void)
{
	bool		isnull;
	Datum		d;
	Oid			nsp;
	HeapTuple	nsptup;
	Oid			owner;
	Oid			save_user;
	int			save_sec;

	if (plum_shard >= 0)
		return plum_shard;
	if (!plum_shard_callback)
	{
		CacheRegisterRelcacheCallback(ShardInvalidate, (Datum) 0);
		plum_shard_callback = true;
	}

	/* read as the owner of plum_internal: plum.shard_call() runs as its caller */
	nsp = get_namespace_oid(PLUM_INTERNAL_SCHEMA_NAME, false);
	nsptup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(nsptup))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(nsptup))->nspowner;
	ReleaseSysCache(nsptup);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT shard, shards FROM " PLUM_INTERNAL "shard_config", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read " PLUM_INTERNAL "shard_config");
	if (SPI_processed == 1)
	{
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
		{
			plum_shard = DatumGetInt32(d);
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
			plum_shards = isnull ? 1 : DatumGetInt32(d);
			plum_shard_relid = get_relname_relid("shard_config", nsp);
		}
	}
	SPI_finish();
	SetUserIdAndSecContext(save_user, save_sec);
	return plum_shard;
}

/*
 * plum.shard_call(shard, fn, args, clock): run the plum function fn (its
 * signature) with args (as text) as the caller, in a subtransaction, and
 * return its rows as jsonb, or one row with the refusal (state, message,
 * detail, hint): PL/Proxy drops a connection after a remote error, so the
 * proxy gets refusals as data and raises them itself.  The statement of each
 * function is planned once per backend (kept plan; re-planned when the
 * function is re-created).
 */
typedef struct ShardCallPlan
{
	char	   *fn;				/* the signature, as the proxy sends it */
	Oid			oid;
	int			nargs;
	SPIPlanPtr	plan;
	struct ShardCallPlan *next;
} ShardCallPlan;

static ShardCallPlan *shard_call_plans = NULL;

/* one result row of shard_call */
static void
ShardCallRow(ReturnSetInfo *rsinfo, Datum result, bool result_null, const char *state,
			 const char *message, const char *detail, const char *hint)
{
	Datum		values[5];
	bool		nulls[5] = {result_null, state == NULL, message == NULL, detail == NULL, hint == NULL};

	values[0] = result;
	values[1] = state ? CStringGetTextDatum(state) : (Datum) 0;
	values[2] = message ? CStringGetTextDatum(message) : (Datum) 0;
	values[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	values[4] = hint ? CStringGetTextDatum(hint) : (Datum) 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* the plan of fn's statement, or NULL when fn is not a function plum_proxy may call */
static ShardCallPlan *
ShardCallLookup(const char *fn)
{
	ShardCallPlan *p;
	Oid			oid;
	HeapTuple	tup;
	Form_pg_proc proc;
	StringInfoData sql;
	Oid		   *argtypes;
	bool		record;
	char	   *name;

	for (p = shard_call_plans; p != NULL; p = p->next)
		if (strcmp(p->fn, fn) == 0)
			break;
	if (p != NULL && SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(p->oid)))
		return p;

	oid = DatumGetObjectId(DirectFunctionCall1(to_regprocedure, CStringGetTextDatum(fn)));
	if (!OidIsValid(oid))
		return NULL;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(oid));
	if (!HeapTupleIsValid(tup))
		return NULL;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	name = NameStr(proc->proname);
	if (proc->pronamespace != get_namespace_oid("plum", false) ||
		strcmp(name, "configure_shard") == 0 || strcmp(name, "shard_call") == 0 ||
		strcmp(name, "shard_view") == 0 || strcmp(name, "shard_catalog") == 0)
	{
		ReleaseSysCache(tup);
		return NULL;
	}
	record = proc->prorettype == RECORDOID || get_typtype(proc->prorettype) == TYPTYPE_COMPOSITE ||
		!heap_attisnull(tup, Anum_pg_proc_proargmodes, NULL);

	initStringInfo(&sql);
	if (proc->prorettype == VOIDOID)
		appendStringInfoString(&sql, "SELECT pg_catalog.array_agg(NULL::pg_catalog.jsonb) FROM ");
	else if (record)
		appendStringInfoString(&sql, "SELECT pg_catalog.array_agg(pg_catalog.to_jsonb(r)) FROM (SELECT * FROM ");
	else
		appendStringInfoString(&sql, "SELECT pg_catalog.array_agg(pg_catalog.to_jsonb(r.v::pg_catalog.text)) FROM ");
	appendStringInfo(&sql, "plum.%s(", quote_identifier(name));
	argtypes = palloc(sizeof(Oid) * Max(proc->pronargs, 1));
	for (int i = 0; i < proc->pronargs; i++)
	{
		if (i > 0)
			appendStringInfoString(&sql, ", ");
		if (OidIsValid(proc->provariadic) && i == proc->pronargs - 1)
			appendStringInfoString(&sql, "VARIADIC ");
		appendStringInfo(&sql, "$%d::%s", i + 1, format_type_be_qualified(proc->proargtypes.values[i]));
		argtypes[i] = TEXTOID;
	}
	if (proc->prorettype == VOIDOID)
		appendStringInfoString(&sql, ") AS r");
	else if (record)
		appendStringInfoString(&sql, ")) AS r");
	else
		appendStringInfoString(&sql, ") AS r(v)");

	if (p == NULL)
	{
		p = MemoryContextAllocZero(TopMemoryContext, sizeof(ShardCallPlan));
		p->fn = MemoryContextStrdup(TopMemoryContext, fn);
		p->next = shard_call_plans;
		shard_call_plans = p;
	}
	else if (p->plan != NULL)
	{
		SPI_freeplan(p->plan);
		p->plan = NULL;
	}
	p->oid = oid;
	p->nargs = proc->pronargs;
	ReleaseSysCache(tup);
	p->plan = SPI_prepare(sql.data, p->nargs, argtypes);
	if (p->plan == NULL)
		elog(ERROR, "plum: could not plan \"%s\": %s", sql.data, SPI_result_code_string(SPI_result));
	SPI_keepplan(p->plan);
	return p;
}

PG_FUNCTION_INFO_V1(plum_shard_call);
Datum
plum_shard_call(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		shard = PG_ARGISNULL(0) ? -1 : PG_GETARG_INT32(0);
	char	   *fn = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	ArrayType  *args = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	char	   *clock = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	MemoryContext callcxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ShardCallPlan *volatile p;
	Datum	   *values = NULL;
	bool	   *isnull = NULL;
	int			nvalues = 0;
	char	   *nulls;
	volatile Datum rows = (Datum) 0;
	volatile bool rows_null = true;
	int			here;

	InitMaterializedSRF(fcinfo, 0);

	/* the proxy maps shard numbers to partitions as number & (partitions - 1): so must we */
	here = PlumShard();
	if (shard >= 0 && (shard & (plum_shards - 1)) != (here < 0 ? 0 : here))
	{
		ShardCallRow(rsinfo, (Datum) 0, true, "F0000", "the proxy routed a call to the wrong shard",
					 psprintf("This database is shard %s; the call was for shard %d.",
							  here < 0 ? "none" : psprintf("%d", here), shard),
					 "The option p<N> of the proxy's server plum_shards must name the database configured as shard N.");
		return (Datum) 0;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	p = fn ? ShardCallLookup(fn) : NULL;
	if (p == NULL)
	{
		SPI_finish();
		ShardCallRow(rsinfo, (Datum) 0, true, "42883", "no such plum function on this shard",
					 psprintf("%s does not exist in schema plum of this shard.", fn ? fn : "NULL"),
					 "The shard runs another plum version than the proxy was built from: ALTER EXTENSION plum UPDATE on every shard, then re-create plum_proxy.");
		return (Datum) 0;
	}
	if (args != NULL)
		deconstruct_array(args, TEXTOID, -1, false, TYPALIGN_INT, &values, &isnull, &nvalues);
	nulls = palloc(Max(p->nargs, 1));
	{
		Datum	   *params = palloc0(sizeof(Datum) * Max(p->nargs, 1));

		for (int i = 0; i < p->nargs; i++)
		{
			nulls[i] = (i < nvalues && !isnull[i]) ? ' ' : 'n';
			if (nulls[i] == ' ')
				params[i] = values[i];
		}
		values = params;
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(callcxt);
	PG_TRY();
	{
		if (clock != NULL && clock[0] != '\0')
		{
			Datum		a[1] = {CStringGetTextDatum(clock)};

			if (SPI_execute_with_args("SELECT pg_catalog.set_config('plum.now', $1, true)", 1,
									  (Oid[]) {TEXTOID}, a, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "plum: could not set plum.now");
		}
		if (SPI_execute_plan(p->plan, values, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "plum: shard_call of %s failed", fn);
		if (SPI_processed == 1)
		{
			bool		n;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n);

			if (!n)
			{
				MemoryContext old = MemoryContextSwitchTo(callcxt);

				rows = PointerGetDatum(DatumGetArrayTypePCopy(d));
				rows_null = false;
				MemoryContextSwitchTo(old);
			}
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callcxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(callcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callcxt);
		CurrentResourceOwner = owner;
		/* a cancel or a shutdown is not a refusal */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		ShardCallRow(rsinfo, (Datum) 0, true, unpack_sql_state(edata->sqlerrcode), edata->message,
					 edata->detail, edata->hint);
		SPI_finish();
		return (Datum) 0;
	}
	PG_END_TRY();
	SPI_finish();

	if (!rows_null)
	{
		Datum	   *elems;
		bool	   *enulls;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(rows), JSONBOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
		for (int i = 0; i < n; i++)
			ShardCallRow(rsinfo, elems[i], enulls[i], NULL, NULL, NULL, NULL);
	}
	return (Datum) 0;
}

/*
 * plum_internal.px_call(shard, fn, args, gather) on the proxy (plum_proxy):
 * call plum.shard_call() on the shard through PL/Proxy (on every shard when
 * shard is NULL and gather, else on shard 0), with this session's plum.now;
 * return the rows' jsonb; raise the first refusal with its own SQLSTATE,
 * message, detail and hint; turn a shard that cannot be reached (PL/Proxy's
 * connection errors, a shard shut down or crashed) into 08006 with a hint.
 */
static SPIPlanPtr px_plans[2];

PG_FUNCTION_INFO_V1(plum_px_call);
Datum
plum_px_call(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all = PG_ARGISNULL(0) && !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	int32		shard = PG_ARGISNULL(0) ? (all ? -1 : 0) : PG_GETARG_INT32(0);
	const char *clock = GetConfigOption("plum.now", true, false);
	MemoryContext callcxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Datum		params[4];
	char		nulls[4] = {' ', PG_ARGISNULL(1) ? 'n' : ' ', PG_ARGISNULL(2) ? 'n' : ' ', ' '};
	ErrorData  *volatile failure = NULL;
	int			refusal = -1;

	/* SETOF jsonb: the caller's expected descriptor (px_call is called in FROM) */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	params[0] = Int32GetDatum(shard);
	params[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	params[2] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	if (clock != NULL && clock[0] != '\0')
		params[3] = CStringGetTextDatum(clock);
	else
		nulls[3] = 'n';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (px_plans[all] == NULL)
	{
		Oid			types[4] = {INT4OID, TEXTOID, TEXTARRAYOID, TEXTOID};
		SPIPlanPtr	plan = SPI_prepare(all ?
									   "SELECT result, state, message, detail, hint FROM plum_internal.remote_all($1, $2, $3, $4)" :
									   "SELECT result, state, message, detail, hint FROM plum_internal.remote_call($1, $2, $3, $4)",
									   4, types);

		if (plan == NULL)
			elog(ERROR, "plum: could not plan the PL/Proxy call: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		px_plans[all] = plan;
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(callcxt);
	PG_TRY();
	{
		if (SPI_execute_plan(px_plans[all], params, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "plum: the PL/Proxy call failed");
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callcxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(callcxt);
		failure = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callcxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();

	if (failure != NULL)
	{
		int			class = ERRCODE_TO_CATEGORY(failure->sqlerrcode);

		/*
		 * A shard that cannot be reached: PL/Proxy reports a lost or refused
		 * connection as a connection exception or, for some failures, as an
		 * internal error (XX000).  Either way the caller gets 08006 with a hint,
		 * never the XX000; anything else is the shard's own error, re-thrown.
		 */
		if (class == ERRCODE_CONNECTION_EXCEPTION || class == ERRCODE_INTERNAL_ERROR ||
			class == ERRCODE_OPERATOR_INTERVENTION || class == ERRCODE_SYSTEM_ERROR ||
			class == ERRCODE_INSUFFICIENT_RESOURCES)
		{
			char	   *which = NULL;

			if (!all && SPI_execute("SELECT plum_internal.shard_count()", true, 1) == SPI_OK_SELECT && SPI_processed == 1)
			{
				bool		n;
				Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n);
				int			count = n ? 1 : Max(DatumGetInt32(d), 1);

				which = psprintf("shard p%d is unreachable", shard & (count - 1));
			}
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg_internal("%s", which ? which : "a shard is unreachable"),
					 errdetail_internal("PL/Proxy: %s", failure->message),
					 errhint("Only the companies of that shard are affected. Retry later with the same idempotency_key: a call in flight when the shard failed may or may not have committed there.")));
		}
		ReThrowError(failure);
	}

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		bool		n;
		Datum		d;

		(void) SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &n);
		if (!n)
		{
			if (refusal < 0)
				refusal = (int) i;
			continue;
		}
		d = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &n);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &d, &n);
	}
	if (refusal >= 0)
	{
		HeapTuple	row = SPI_tuptable->vals[refusal];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *state = SPI_getvalue(row, desc, 2);
		char	   *message = SPI_getvalue(row, desc, 3);
		char	   *detail = SPI_getvalue(row, desc, 4);
		char	   *hint = SPI_getvalue(row, desc, 5);

		/* plum.shard_call() always returns the refusal's 5-character SQLSTATE */
		if (state == NULL || strlen(state) != 5)
			elog(ERROR, "plum: a shard returned a refusal without a valid SQLSTATE");
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])),
				 errmsg_internal("%s", message ? message : "refused by the shard"),
				 detail ? errdetail_internal("%s", detail) : 0,
				 hint ? errhint("%s", hint) : 0));
	}
	SPI_finish();
	return (Datum) 0;
}
