/*
 * bulkinsert.c — appending many rows to one of plum's tables without the
 * executor's per-row work (see bulkinsert.h).
 *
 * What an INSERT ... SELECT does for each row and this does too: stored
 * generated columns (ExecComputeStoredGenerated), NOT NULL and CHECK
 * constraints (ExecConstraints), the heap row, every index entry with
 * unique checks (ExecInsertIndexTuples).  What it does not: row triggers
 * (a table with an INSERT row trigger is refused when opened, but for the
 * foreign-key checks a caller says it has done), RETURNING, partition
 * routing (plum's tables are not partitioned), and per-row executor
 * start-up.  Rows go to the heap table_multi_insert() batches of
 * PLUM_BULK_BATCH, which log one WAL record per page instead of per row.
 */
#include "bulkinsert.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "miscadmin.h"
#include "commands/trigger.h"
#include "executor/nodeModifyTable.h"
#include "nodes/makefuncs.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

/*
 * Refuse a table whose inserts (event TRIGGER_TYPE_INSERT) or updates
 * (TRIGGER_TYPE_UPDATE) would fire a row trigger that a write without the
 * executor skips, but for the foreign-key checks the caller says it has done
 */
void
BulkCheckNoRowTriggers(Relation rel, int event, bool allow_fk_checks)
{
	TriggerDesc *td = rel->trigdesc;

	if (td == NULL)
		return;
	for (int i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (!TRIGGER_FOR_ROW(t->tgtype) || (t->tgtype & event) == 0)
			continue;
		if (t->tgenabled == TRIGGER_DISABLED)
			continue;
		if (allow_fk_checks && RI_FKey_trigger_type(t->tgfoid) == RI_TRIGGER_FK)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s%s has the row trigger %s, which plum's bulk paths would not fire",
						PLUM_INTERNAL, RelationGetRelationName(rel), t->tgname),
				 errdetail("give_points_bulk() and expire_points() write this table without the executor."),
				 errhint("plum_internal's tables are written only by plum: drop the trigger, and audit from plum.ledger.")));
	}
}

PlumBulkInsert *
BulkInsertBegin(Oid relid, bool speculative, bool allow_fk_checks)
{
	PlumBulkInsert *b = palloc0(sizeof(PlumBulkInsert));
	RangeTblEntry *rte;

	b->rel = table_open(relid, RowExclusiveLock);
	if (b->rel->rd_rel->relkind != RELKIND_RELATION)
		elog(ERROR, "plum: %s is not a plain table", RelationGetRelationName(b->rel));
	BulkCheckNoRowTriggers(b->rel, TRIGGER_TYPE_INSERT, allow_fk_checks);

	b->estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = b->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	ExecInitRangeTable(b->estate, list_make1(rte));
	b->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(b->rri, b->rel, 1, NULL, 0);
	b->estate->es_output_cid = b->cid = GetCurrentCommandId(true);
	b->estate->es_snapshot = GetActiveSnapshot();
	ExecOpenIndices(b->rri, speculative);

	b->batch = AllocSetContextCreate(CurrentMemoryContext, "plum bulk insert batch",
									 PLUM_ALLOCSET_DEFAULT_SIZES);
	return b;
}

TupleTableSlot *
BulkInsertSlot(PlumBulkInsert *b)
{
	TupleTableSlot *slot;

	if (b->slots[b->nslots] == NULL)
	{
		/* the slots live as long as the executor state, whatever the caller's context */
		MemoryContext old = MemoryContextSwitchTo(b->estate->es_query_cxt);

		b->slots[b->nslots] = ExecInitExtraTupleSlot(b->estate, RelationGetDescr(b->rel),
													  table_slot_callbacks(b->rel));
		MemoryContextSwitchTo(old);
	}
	slot = b->slots[b->nslots];
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	b->filling = true;
	return slot;
}

void
BulkInsertPrepareRow(PlumBulkInsert *b, TupleTableSlot *slot)
{
	TupleConstr *constr = RelationGetDescr(b->rel)->constr;

	if (constr && constr->has_generated_stored)
		ExecComputeStoredGenerated(b->rri, b->estate, slot, CMD_INSERT);
	if (constr)
		ExecConstraints(b->rri, slot, b->estate);
}

/* Write the queued rows and their index entries */
static void
BulkInsertFlush(PlumBulkInsert *b)
{
	MemoryContext old;

	if (b->nslots == 0)
		return;
	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(b->estate));
	table_multi_insert(b->rel, b->slots, b->nslots, b->cid, 0, NULL);
	for (int i = 0; i < b->nslots; i++)
	{
		List	   *recheck;

		if (b->rri->ri_NumIndices > 0)
		{
			recheck = ExecInsertIndexTuples(b->rri, b->slots[i], b->estate, false, false, NULL, NIL);
			list_free(recheck);
		}
		ExecClearTuple(b->slots[i]);
		ResetPerTupleExprContext(b->estate);
	}
	MemoryContextSwitchTo(old);
	b->written += b->nslots;
	b->nslots = 0;
	MemoryContextReset(b->batch);
}

void
BulkInsertAdd(PlumBulkInsert *b)
{
	TupleTableSlot *slot = b->slots[b->nslots];

	Assert(b->filling);
	b->filling = false;
	ExecStoreVirtualTuple(slot);
	BulkInsertPrepareRow(b, slot);
	b->nslots++;
	if (b->nslots == PLUM_BULK_BATCH)
	{
		CHECK_FOR_INTERRUPTS();
		BulkInsertFlush(b);
	}
}

uint64
BulkInsertEnd(PlumBulkInsert *b)
{
	uint64		written;

	BulkInsertFlush(b);
	written = b->written;
	ExecCloseIndices(b->rri);
	ExecResetTupleTable(b->estate->es_tupleTable, false);
	FreeExecutorState(b->estate);
	MemoryContextDelete(b->batch);
	table_close(b->rel, NoLock);
	pfree(b);
	return written;
}

AttrNumber
BulkInsertColumn(PlumBulkInsert *b, const char *name)
{
	AttrNumber	att = get_attnum(RelationGetRelid(b->rel), name);

	if (att == InvalidAttrNumber)
		elog(ERROR, "plum: %s has no column %s", RelationGetRelationName(b->rel), name);
	return att;
}
