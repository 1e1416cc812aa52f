/*
 * expire.c — the expiry sweep, plum.expire_points(), in C.
 *
 * The sweep walks the index account_next_expiry over next_expiry <= plum's
 * clock, and for each wallet found (of the caller's companies when the role
 * is confined) does what its SQL form did in one CTE statement, without an
 * executor plan and without SQL function calls per row:
 *
 *   - locks the wallet row as SELECT ... FOR UPDATE SKIP LOCKED would
 *     (table_tuple_lock, LockWaitSkip): a wallet a redemption holds is
 *     skipped, and that redemption drops and records its expired lots itself;
 *     in READ COMMITTED the latest version is locked and read (a wallet a
 *     redemption changed since the sweep's snapshot is swept as it is now,
 *     or not at all when nothing in it has expired any more); in REPEATABLE
 *     READ and SERIALIZABLE a wallet changed since the transaction's snapshot
 *     is a serialization failure, as FOR UPDATE raises;
 *   - splits the wallet into its live lots and those expired at the clock
 *     (lots.c), chains one 'expire' ledger row on the wallet's chain head
 *     (chain.c), and writes the wallet row with its new lots, next_expiry
 *     (the generated column's expression, computed by the same C function)
 *     and chain head;
 *   - appends the ledger rows in batches (bulkinsert.c: table_multi_insert,
 *     as COPY does, with their constraints and index entries).
 *
 * The rows written are exactly those the SQL statement wrote: one 'expire'
 * row per wallet with lots expired, lots = the expired lots, amount = their
 * total, the wallet's chain head = that row's hash.  A wallet with nothing
 * expired is never written, so a second sweep at the same instant finds
 * nothing (idempotent).  The wallet's update checks no constraint: account has
 * no CHECK, and its foreign key is not touched by an update that keeps
 * company_id; the ledger rows' constraints are checked as they are queued.
 */
#include "plum.h"
#include "bulkinsert.h"
#include "chain.h"
#include "identity.h"
#include "money.h"
#include "spi_plans.h"
#include "wallet.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_trigger.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* the journal's columns the sweep fills */
enum
{
	J_ENTRY_ID,
	J_COMPANY_ID,
	J_AT,
	J_KIND,
	J_AMOUNT,
	J_RECIPIENT,
	J_LOTS,
	J_HASH,
	J_COLUMNS
};

static const char *const journal_columns[J_COLUMNS] = {
	"entry_id", "company_id", "at", "kind", "amount", "recipient", "lots", "hash"
};

/* the account's columns the sweep reads or writes */
enum
{
	A_COMPANY_ID,
	A_RECIPIENT,
	A_LOTS,
	A_NEXT_EXPIRY,
	A_CHAIN_HEAD,
	A_COLUMNS
};

static const char *const account_columns[A_COLUMNS] = {
	"company_id", "recipient", "lots", "next_expiry", "chain_head"
};

typedef struct Sweep
{
	TimestampTz at;				/* plum's clock */
	Snapshot	snapshot;
	CommandId	cid;
	EState	   *estate;
	Relation	account;
	ResultRelInfo *account_info;
	PlumBulkInsert *journal;	/* the ledger rows, appended in batches */
	AttrNumber	acol[A_COLUMNS];	/* account's column numbers */
	AttrNumber	jcol[J_COLUMNS];	/* journal's */
	TupleTableSlot *locked;		/* the wallet row locked */
	TupleTableSlot *wallet;		/* its new version */
	MemoryContext row_cxt;		/* reset after each wallet */
	Datum		kind;			/* 'expire' */
	Numeric		total;			/* what expired, over every company (NULL: nothing) */
} Sweep;

/*
 * The numbers of a relation's columns named in names; an internal error when
 * one is missing, or when a column the sweep does not fill has a default or
 * is generated (a write that left it out would not be what INSERT or UPDATE
 * writes).  generated: the one generated column the sweep computes itself.
 */
static void
SweepColumns(Relation rel, const char *const *names, int n, AttrNumber *attnums,
			 const char *generated, bool check_defaults)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < n; i++)
	{
		attnums[i] = get_attnum(RelationGetRelid(rel), names[i]);
		if (attnums[i] == InvalidAttrNumber)
			elog(ERROR, "plum: column %s of %s not found", names[i], RelationGetRelationName(rel));
	}
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, a);
		bool		ours = false;

		if (attr->attisdropped)
			continue;
		for (int i = 0; i < n; i++)
			ours |= (attnums[i] == attr->attnum);
		if (attr->attgenerated && (generated == NULL || strcmp(NameStr(attr->attname), generated) != 0))
			elog(ERROR, "plum: generated column %s of %s is not known to the expiry sweep",
				 NameStr(attr->attname), RelationGetRelationName(rel));
		if (check_defaults && !ours && attr->atthasdef)
			elog(ERROR, "plum: column %s of %s has a default the expiry sweep does not fill",
				 NameStr(attr->attname), RelationGetRelationName(rel));
	}
}

/* A result relation of the sweep's executor state, with its indexes open */
static ResultRelInfo *
SweepTarget(Relation rel, Index rti)
{
	ResultRelInfo *info = makeNode(ResultRelInfo);

	InitResultRelInfo(info, rel, rti, NULL, 0);
	ExecOpenIndices(info, false);
	return info;
}

/*
 * Lock the wallet whose visible version is in slot (SKIP LOCKED), leaving
 * the locked version in s->locked; false when it is skipped (held by another
 * transaction, or deleted since).
 */
static bool
LockDue(Sweep *s, TupleTableSlot *slot)
{
	ItemPointerData tid = slot->tts_tid;
	TM_FailureData tmfd;
	TM_Result	result;

	result = table_tuple_lock(s->account, &tid, s->snapshot, s->locked, s->cid,
							  LockTupleExclusive, LockWaitSkip,
							  IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
							  &tmfd);
	switch (result)
	{
		case TM_Ok:
			return true;
		case TM_WouldBlock:
			return false;
		case TM_Updated:
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				PlumSerializationFailure();
			if (result == TM_Deleted)
				return false;
			elog(ERROR, "plum: unexpected concurrent update of a wallet");
			break;
		case TM_SelfModified:
			/* changed by a later command of this transaction: not ours to sweep now */
			return false;
		default:
			elog(ERROR, "plum: could not lock a wallet (%d)", (int) result);
	}
	return false;
}

/*
 * Sweep the wallet locked in s->locked: nothing when no lot of it has
 * expired (a redemption swept it since the snapshot); otherwise its new
 * version and one ledger row.
 */
static void
SweepWallet(Sweep *s)
{
	TupleTableSlot *old = s->locked;
	TupleTableSlot *new = s->wallet;
	TupleDesc	desc = RelationGetDescr(s->account);
	PlumWallet *wallet;
	PlumWallet *live;
	PlumWallet *gone;
	Datum		lots;
	bytea	   *head;
	bytea	   *hash;
	int64		entry;
	Numeric		amount;
	TimestampTz next;
	bool		isnull;
	TM_Result	result;
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	bool		update_indexes;

	slot_getallattrs(old);
	if (old->tts_isnull[s->acol[A_LOTS] - 1])
		elog(ERROR, "plum: a wallet without lots");
	wallet = DatumGetPlumWalletP(old->tts_values[s->acol[A_LOTS] - 1]);
	live = WalletSplitExpired(wallet, s->at, &gone);
	if (gone->nlots == 0)
		return;

	entry = LedgerId();
	amount = MinorToNumeric(WalletTotal(gone), wallet->scale);
	head = old->tts_isnull[s->acol[A_CHAIN_HEAD] - 1] ? NULL :
		DatumGetByteaPP(old->tts_values[s->acol[A_CHAIN_HEAD] - 1]);

	/* the ledger row's hash, chained on the wallet's head */
	{
		Datum		fields[PLUM_CHAIN_FIELDS] = {0};
		bool		nulls[PLUM_CHAIN_FIELDS];

		for (int i = 0; i < PLUM_CHAIN_FIELDS; i++)
			nulls[i] = true;
		fields[CHAIN_ENTRY_ID] = Int64GetDatum(entry);
		fields[CHAIN_COMPANY_ID] = old->tts_values[s->acol[A_COMPANY_ID] - 1];
		fields[CHAIN_AT] = TimestampTzGetDatum(s->at);
		fields[CHAIN_KIND] = s->kind;
		fields[CHAIN_AMOUNT] = NumericGetDatum(amount);
		fields[CHAIN_RECIPIENT] = old->tts_values[s->acol[A_RECIPIENT] - 1];
		fields[CHAIN_LOTS] = PointerGetDatum(gone);
		nulls[CHAIN_ENTRY_ID] = nulls[CHAIN_COMPANY_ID] = nulls[CHAIN_AT] = nulls[CHAIN_KIND] =
			nulls[CHAIN_AMOUNT] = nulls[CHAIN_RECIPIENT] = nulls[CHAIN_LOTS] = false;
		hash = PlumEntryHash(head, fields, nulls);
	}

	/* the wallet's new version: every other column as it was */
	ExecClearTuple(new);
	memcpy(new->tts_values, old->tts_values, sizeof(Datum) * desc->natts);
	memcpy(new->tts_isnull, old->tts_isnull, sizeof(bool) * desc->natts);
	lots = PlumWalletGetDatum(live);
	new->tts_values[s->acol[A_LOTS] - 1] = lots;
	/* next_expiry GENERATED ALWAYS AS (wallet_next_expiry(lots, '-infinity')) */
	isnull = !WalletNextExpiry(live, DT_NOBEGIN, &next);
	new->tts_values[s->acol[A_NEXT_EXPIRY] - 1] = isnull ? (Datum) 0 : TimestampTzGetDatum(next);
	new->tts_isnull[s->acol[A_NEXT_EXPIRY] - 1] = isnull;
	new->tts_values[s->acol[A_CHAIN_HEAD] - 1] = PointerGetDatum(hash);
	new->tts_isnull[s->acol[A_CHAIN_HEAD] - 1] = false;
	ExecStoreVirtualTuple(new);

	result = table_tuple_update(s->account, &old->tts_tid, new, s->cid, s->snapshot,
								InvalidSnapshot, true, &tmfd, &lockmode, &update_indexes);
	if (result != TM_Ok)
		elog(ERROR, "plum: could not write a locked wallet (%d)", (int) result);
	/*
	 * A new version off the HOT chain needs its index entries.  Not flagged as
	 * an update: the bottom-up deletion that flag asks for looks for old
	 * versions to remove when a leaf page fills, and inside the sweep every
	 * old version it would find is the sweep's own, still live until commit.
	 */
	if (update_indexes && s->account_info->ri_NumIndices > 0)
		ExecInsertIndexTuples(s->account_info, new, s->estate, false, false, NULL, NIL);

	/* the ledger row, its values in the batch's memory until it is written */
	{
		TupleTableSlot *row = BulkInsertSlot(s->journal);
		MemoryContext oldcxt = MemoryContextSwitchTo(BulkInsertMemory(s->journal));

#define J(col, value) \
		(row->tts_values[s->jcol[col] - 1] = (value), row->tts_isnull[s->jcol[col] - 1] = false)
		J(J_ENTRY_ID, Int64GetDatum(entry));
		J(J_COMPANY_ID, old->tts_values[s->acol[A_COMPANY_ID] - 1]);
		J(J_AT, TimestampTzGetDatum(s->at));
		J(J_KIND, s->kind);
		J(J_AMOUNT, datumCopy(NumericGetDatum(amount), false, -1));
		J(J_RECIPIENT, datumCopy(old->tts_values[s->acol[A_RECIPIENT] - 1], false, -1));
		J(J_LOTS, PlumWalletGetDatum(gone));
		J(J_HASH, datumCopy(PointerGetDatum(hash), false, -1));
#undef J
		MemoryContextSwitchTo(oldcxt);
		BulkInsertAdd(s->journal);
	}

	/* the total, in the caller's memory context */
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(s->estate->es_query_cxt);
		Numeric		before = s->total;

		s->total = before == NULL ? DatumGetNumeric(datumCopy(NumericGetDatum(amount), false, -1)) :
			DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(before),
												NumericGetDatum(amount)));
		if (before != NULL)
			pfree(before);
		MemoryContextSwitchTo(oldcxt);
	}
}

PG_FUNCTION_INFO_V1(plum_expire_points);
/*
 * SQL: plum.expire_points() RETURNS numeric — the expiry sweep: records the
 * lots expired by plum's clock as breakage, one ledger row per wallet, and
 * drops them from the wallets; the amount expired now (0 when nothing).
 * Wallets held by another transaction are skipped; a confined role sweeps
 * only its companies.
 */
Datum
plum_expire_points(PG_FUNCTION_ARGS)
{
	const PlumCatalog *cat = PlumCatalogGet();
	Sweep		s;
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;
	MemoryContext caller = CurrentMemoryContext;
	Numeric		result;

	memset(&s, 0, sizeof(s));
	s.at = PlumNow();
	s.kind = CStringGetTextDatum("expire");

	/* a statement's fresh snapshot, as the SQL form's statement had */
	s.snapshot = PlumStatementSnapshot();
	s.cid = GetCurrentCommandId(true);

	s.estate = CreateExecutorState();
	MemoryContextSwitchTo(s.estate->es_query_cxt);
	s.row_cxt = AllocSetContextCreate(CurrentMemoryContext, "plum sweep wallet", PLUM_ALLOCSET_DEFAULT_SIZES);

	s.account = table_open(cat->account_rel, RowExclusiveLock);
	/* its foreign key's update check fires only when company_id changes: never here */
	BulkCheckNoRowTriggers(s.account, TRIGGER_TYPE_UPDATE, true);
	SweepColumns(s.account, account_columns, A_COLUMNS, s.acol, "next_expiry", false);
	s.account_info = SweepTarget(s.account, 1);
	s.journal = BulkInsertBegin(PlumInternalRel("journal"), false, false);
	SweepColumns(s.journal->rel, journal_columns, J_COLUMNS, s.jcol, NULL, true);
	s.locked = table_slot_create(s.account, NULL);
	s.wallet = MakeSingleTupleTableSlot(RelationGetDescr(s.account), &TTSOpsVirtual);

	/* the wallets due: next_expiry <= at, in the index's order */
	index = index_open(PlumInternalRel("account_next_expiry"), AccessShareLock);
	if (index->rd_index->indnatts < 1 || index->rd_index->indkey.values[0] != s.acol[A_NEXT_EXPIRY])
		elog(ERROR, "plum: index account_next_expiry is not on next_expiry");
	ScanKeyInit(&key, 1, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE, TimestampTzGetDatum(s.at));
	scan = index_beginscan(s.account, index, s.snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	slot = table_slot_create(s.account, NULL);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		company;
		MemoryContext oldcxt;

		CHECK_FOR_INTERRUPTS();
		company = slot_getattr(slot, s.acol[A_COMPANY_ID], &isnull);
		if (isnull || !PlumCallerMayUse(DatumGetInt64(company)))
			continue;
		oldcxt = MemoryContextSwitchTo(s.row_cxt);
		if (LockDue(&s, slot))
			SweepWallet(&s);
		ExecClearTuple(s.locked);
		ExecClearTuple(s.wallet);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(s.row_cxt);
		ResetPerTupleExprContext(s.estate);
	}
	(void) BulkInsertEnd(s.journal);
	index_endscan(scan);
	index_close(index, AccessShareLock);

	result = s.total;
	MemoryContextSwitchTo(caller);
	result = result == NULL ? DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum("0"),
																   ObjectIdGetDatum(InvalidOid),
																   Int32GetDatum(-1))) :
		DatumGetNumeric(datumCopy(NumericGetDatum(result), false, -1));

	ExecDropSingleTupleTableSlot(slot);
	ExecDropSingleTupleTableSlot(s.locked);
	ExecDropSingleTupleTableSlot(s.wallet);
	ExecCloseIndices(s.account_info);
	table_close(s.account, NoLock);
	FreeExecutorState(s.estate);
	PopActiveSnapshot();
	CommandCounterIncrement();
	PG_RETURN_NUMERIC(result);
}
