/*
 * bulkinsert.h — appending many rows to one of plum's tables without the
 * executor's per-row work (bulkinsert.c): what the bulk paths (give_points_bulk,
 * and any other that writes thousands of ledger rows) share.
 *
 * A PlumBulkInsert opens the table (RowExclusiveLock) with an executor state
 * of its own and writes the rows given in batches: stored generated columns
 * computed, CHECK and NOT NULL constraints evaluated, heap rows written with
 * table_multi_insert(), every index maintained (unique ones checked: a
 * duplicate is the usual unique_violation).  No row trigger fires: a table
 * with an INSERT row trigger is refused (elog) when opened, except the
 * foreign-key checks the caller names as done (allow_fk_checks: the caller
 * locked the referenced rows itself, as the check would have).
 *
 * Usage:
 *     PlumBulkInsert *b = BulkInsertBegin(relid, false, false);
 *     for each row:
 *         TupleTableSlot *slot = BulkInsertSlot(b);    -- cleared, all columns NULL
 *         slot->tts_values[attnum - 1] = ...; slot->tts_isnull[attnum - 1] = false;
 *         BulkInsertAdd(b);                           -- values allocated in
 *                                                     -- BulkInsertMemory(b) live until the flush
 *     BulkInsertEnd(b);
 */
#ifndef PLUM_BULKINSERT_H
#define PLUM_BULKINSERT_H

#include "plum.h"

#include "executor/executor.h"
#include "utils/rel.h"

/* ALLOCSET_DEFAULT_SIZES and ALLOCSET_SMALL_SIZES, spelled as Size (their int products trip clang-tidy) */
#define PLUM_ALLOCSET_DEFAULT_SIZES	0, (Size) 8192, (Size) 8388608
#define PLUM_ALLOCSET_SMALL_SIZES	0, (Size) 1024, (Size) 8192

/* rows written per table_multi_insert() */
#define PLUM_BULK_BATCH 1000

typedef struct PlumBulkInsert
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	CommandId	cid;
	MemoryContext batch;		/* the values of the rows not yet flushed */
	TupleTableSlot *slots[PLUM_BULK_BATCH];
	int			nslots;			/* slots filled */
	bool		filling;		/* BulkInsertSlot() handed out slots[nslots] */
	uint64		written;
} PlumBulkInsert;

/* open relid for bulk appends; speculative: indexes opened for ON CONFLICT-style checks */
extern PlumBulkInsert *BulkInsertBegin(Oid relid, bool speculative, bool allow_fk_checks);

/* the next row's slot (cleared, every column NULL) */
extern TupleTableSlot *BulkInsertSlot(PlumBulkInsert *b);

/* where the values of the row being filled may be allocated (reset after each flush) */
static inline MemoryContext
BulkInsertMemory(PlumBulkInsert *b)
{
	return b->batch;
}

/* queue the row filled in BulkInsertSlot()'s slot; writes a batch when full */
extern void BulkInsertAdd(PlumBulkInsert *b);

/* write what is queued, close the table (lock kept); returns the rows written */
extern uint64 BulkInsertEnd(PlumBulkInsert *b);

/* compute the stored generated columns of a filled slot and check its constraints
 * (BulkInsertAdd does it; for callers that insert single rows themselves) */
extern void BulkInsertPrepareRow(PlumBulkInsert *b, TupleTableSlot *slot);

/* refuse (elog) a table with an enabled row trigger on event (TRIGGER_TYPE_INSERT or
 * TRIGGER_TYPE_UPDATE), but foreign-key checks when allow_fk_checks */
extern void BulkCheckNoRowTriggers(Relation rel, int event, bool allow_fk_checks);

/* the attribute number of a column of rel by name, or elog */
extern AttrNumber BulkInsertColumn(PlumBulkInsert *b, const char *name);

#endif							/* PLUM_BULKINSERT_H */
