/*
 * spi_plans.c — the kept SPI plans of the C hot paths, the catalog facts
 * they are made for, and ledger ids (see spi_plans.h).
 *
 * A pg_type invalidation bumps generation; only then does PlumCatalogGet()
 * look the extension's objects up again, and only if one of their OIDs
 * changed (the extension was re-created) does the incarnation change, which
 * makes every hot path free its plans and prepare them again.
 */
#include "spi_plans.h"

#include "access/genam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

/* bumped on every pg_type invalidation */
static uint64 generation = 1;

/* the generation catalog was looked up in; 0: never */
static uint64 catalog_generation = 0;

static PlumCatalog catalog;

/* A type was created, changed or dropped: the catalog must be looked up again */
static void
TypesInvalidated(Datum arg, int cacheid, uint32 hashvalue)
{
	generation++;
}

/* Register the pg_type invalidation callback (once per backend, from _PG_init) */
void
SpiPlansInit(void)
{
	CacheRegisterSyscacheCallback(TYPEOID, TypesInvalidated, (Datum) 0);
}

/* OID of the type name in schema nsp, or an internal error */
static Oid
TypeOid(Oid nsp, const char *name)
{
	Oid			type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									   CStringGetDatum(name), ObjectIdGetDatum(nsp));

	if (!OidIsValid(type))
		elog(ERROR, "plum: type %s.%s not found", PLUM_SCHEMA_NAME, name);
	return type;
}

/* OID of the relation name in schema nsp, or an internal error */
static Oid
RelOid(Oid nsp, const char *name)
{
	Oid			rel = get_relname_relid(name, nsp);

	if (!OidIsValid(rel))
		elog(ERROR, "plum: relation %s%s not found", PLUM_INTERNAL, name);
	return rel;
}

/* Number of a relation's column, or an internal error */
static AttrNumber
ColumnNumber(Oid rel, const char *column)
{
	AttrNumber	attno = get_attnum(rel, column);

	if (attno == InvalidAttrNumber)
		elog(ERROR, "plum: column %s of %s not found", column, get_rel_name(rel));
	return attno;
}

/* OID of plum_internal's relation name (a table or an index), or an internal error */
Oid
PlumInternalRel(const char *name)
{
	return RelOid(get_namespace_oid(PLUM_INTERNAL_SCHEMA_NAME, false), name);
}

/* Number of a relation's column, or an internal error */
AttrNumber
PlumColumn(Oid rel, const char *column)
{
	return ColumnNumber(rel, column);
}

/* Whether two catalogs name the same objects */
static bool
SameObjects(const PlumCatalog *a, const PlumCatalog *b)
{
	return a->recipient_type == b->recipient_type && a->wallet_type == b->wallet_type &&
		a->code_type == b->code_type && a->code_array_type == b->code_array_type &&
		a->ledger_seq == b->ledger_seq && a->account_rel == b->account_rel &&
		a->company_rel == b->company_rel && a->issued_code_rel == b->issued_code_rel;
}

/* The catalog facts of the installed extension, looked up only after a pg_type invalidation */
const PlumCatalog *
PlumCatalogGet(void)
{
	uint64		gen = generation;
	PlumCatalog found;
	Oid			nsp;
	Oid			internal;

	if (likely(catalog_generation == gen))
		return &catalog;

	memset(&found, 0, sizeof(found));
	nsp = get_namespace_oid(PLUM_SCHEMA_NAME, false);
	internal = get_namespace_oid(PLUM_INTERNAL_SCHEMA_NAME, false);
	found.recipient_type = TypeOid(nsp, "recipient");
	found.wallet_type = TypeOid(nsp, "wallet");
	found.code_type = TypeOid(nsp, "code");
	found.code_array_type = get_array_type(found.code_type);
	if (!OidIsValid(found.code_array_type))
		elog(ERROR, "plum: type %s.code[] not found", PLUM_SCHEMA_NAME);
	get_typlenbyvalalign(found.code_type, &found.code_len, &found.code_byval,
						 &found.code_align);
	found.ledger_seq = get_relname_relid(PLUM_LEDGER_SEQ_NAME, internal);
	if (!OidIsValid(found.ledger_seq))
		elog(ERROR, "plum: sequence %s not found", PLUM_INTERNAL PLUM_LEDGER_SEQ_NAME);

	found.account_rel = RelOid(internal, "account");
	found.account_lots = ColumnNumber(found.account_rel, "lots");
	found.account_chain_head = ColumnNumber(found.account_rel, "chain_head");
	found.company_rel = RelOid(internal, "company");
	found.company_scale = ColumnNumber(found.company_rel, "scale");
	found.issued_code_rel = RelOid(internal, "issued_code");
	found.code_company = ColumnNumber(found.issued_code_rel, "company_id");
	found.code_campaign = ColumnNumber(found.issued_code_rel, "campaign_id");
	found.code_expires = ColumnNumber(found.issued_code_rel, "expires_at");
	found.code_cancelled = ColumnNumber(found.issued_code_rel, "cancelled_at");
	found.code_balance = ColumnNumber(found.issued_code_rel, "balance");
	found.code_chain_head = ColumnNumber(found.issued_code_rel, "chain_head");
	{
		TypeCacheEntry *tc = lookup_type_cache(found.recipient_type, TYPECACHE_EQ_OPR);

		if (!OidIsValid(tc->eq_opr))
			elog(ERROR, "plum: type %s.recipient has no = operator", PLUM_SCHEMA_NAME);
		fmgr_info_cxt(get_opcode(tc->eq_opr), &found.recipient_eq, TopMemoryContext);
		fmgr_info_cxt(F_INT8EQ, &found.int8_eq, TopMemoryContext);
		tc = lookup_type_cache(found.code_type, TYPECACHE_EQ_OPR);
		if (!OidIsValid(tc->eq_opr))
			elog(ERROR, "plum: type %s.code has no = operator", PLUM_SCHEMA_NAME);
		fmgr_info_cxt(get_opcode(tc->eq_opr), &found.code_eq, TopMemoryContext);
	}

	/* the same objects as before: the plans made for them stay valid */
	found.incarnation = catalog.incarnation;
	if (!SameObjects(&found, &catalog))
		found.incarnation = catalog.incarnation + 1;
	catalog = found;
	catalog_generation = gen;
	return &catalog;
}

/* Make sure plans exist for the current incarnation of the extension (inside SPI_connect) */
void
PlansReady(PlumPlans *plans, PlumPlansPrepare prepare)
{
	const PlumCatalog *current = PlumCatalogGet();

	if (likely(plans->incarnation == current->incarnation))
		return;

	/* the extension was (re)created: forget plans made for an older one */
	for (int i = 0; i < PLUM_MAX_PLANS; i++)
	{
		if (plans->plan[i] != NULL)
			SPI_freeplan(plans->plan[i]);
		plans->plan[i] = NULL;
	}
	plans->incarnation = 0;
	prepare(plans, current);
	plans->incarnation = current->incarnation;
}

/*
 * Prepare a generic plan and keep it for the life of the backend.  Generic:
 * the plan cache would otherwise plan the first calls again (and every call
 * whose arrays' real length makes a custom plan look cheaper).
 */
void
PlanKeep(PlumPlans *plans, int which, const char *sql, int nargs, const Oid *argtypes)
{
	SPIPlanPtr	plan;

	Assert(which >= 0 && which < PLUM_MAX_PLANS && plans->plan[which] == NULL);
	plan = SPI_prepare_cursor(sql, nargs, (Oid *) argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "plum: SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "plum: SPI_keepplan failed");
	plans->plan[which] = plan;
}

/* Run a kept plan, checking the SPI result */
void
PlanRun(PlumPlans *plans, int which, Datum *values, const char *nulls, bool read_only,
		int expected)
{
	int			rc = SPI_execute_plan(plans->plan[which], values, nulls, read_only, 0);

	if (rc != expected)
		elog(ERROR, "plum: SPI_execute_plan returned %s", SPI_result_code_string(rc));
}

/* A new ledger entry id, drawn from the ledger's sequence */
int64
LedgerId(void)
{
	return nextval_internal(PlumCatalogGet()->ledger_seq, true);
}

/*
 * The version of the row of rel whose primary key equals keys (one per key
 * column, attribute numbers of the index) that snapshot sees, found through
 * the primary key with no SPI and no executor, stored in slot (which keeps
 * its buffer pinned); false when there is none.
 */
bool
PlumProbe(Relation rel, ScanKey keys, int nkeys, Snapshot snapshot, TupleTableSlot *slot)
{
	Relation	idx = index_open(RelationGetPrimaryKeyIndex(rel), AccessShareLock);
	IndexScanDesc scan;
	bool		found;

	scan = index_beginscan(rel, idx, snapshot, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	index_close(idx, AccessShareLock);
	return found;
}

/*
 * The error of a row that changed since the snapshot of a REPEATABLE READ or
 * SERIALIZABLE transaction, worded as SELECT ... FOR UPDATE words it (40001:
 * the application retries the transaction)
 */
void
PlumSerializationFailure(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not serialize access due to concurrent update")));
}

/*
 * Lock a row as SELECT ... FOR UPDATE would, without SPI and an executor: one
 * probe of the primary key with the statement's snapshot
 * (PlumStatementSnapshot), then the row locked in its latest version (READ COMMITTED:
 * waiting for a concurrent writer and following its update; REPEATABLE READ
 * and SERIALIZABLE: a serialization failure when the row changed since the
 * transaction's snapshot, as FOR UPDATE raises).  plum never changes a
 * primary key, so the latest version is the same row.  rel must be open with
 * RowShareLock.  The locked version is left in slot; false when there is no
 * such row (or it was deleted meanwhile).  what names the row in errors.
 */
bool
PlumLockRow(Relation rel, ScanKey keys, int nkeys, Snapshot snapshot, TupleTableSlot *slot,
			const char *what)
{
	bool		found = PlumProbe(rel, keys, nkeys, snapshot, slot);

	if (found)
	{
		TM_FailureData tmfd;
		ItemPointerData tid = slot->tts_tid;
		TM_Result	result;

		result = table_tuple_lock(rel, &tid, snapshot, slot, GetCurrentCommandId(false),
								  LockTupleExclusive, LockWaitBlock,
								  IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
								  &tmfd);
		switch (result)
		{
			case TM_Ok:
				break;
			case TM_Updated:
			case TM_Deleted:
				if (IsolationUsesXactSnapshot())
					PlumSerializationFailure();
				if (result == TM_Deleted)
				{
					found = false;
					break;
				}
				elog(ERROR, "plum: unexpected concurrent update of a %s", what);
				break;
			default:
				elog(ERROR, "plum: could not lock a %s (%d)", what, (int) result);
		}
	}
	return found;
}

/*
 * A fresh snapshot that sees this transaction's earlier writes, pushed as the
 * active one, as SPI takes for each statement of a volatile function: what a
 * read or lock without SPI uses (PlumProbe, PlumLockRow).  The caller pops it
 * (PopActiveSnapshot) when done.
 */
Snapshot
PlumStatementSnapshot(void)
{
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	return GetActiveSnapshot();
}
