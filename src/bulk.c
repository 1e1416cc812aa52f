/*
 * bulk.c — plum.give_points_bulk(): many grants in one call, in C.
 *
 * The PL/pgSQL version (0.1.0) spent most of its time on per-row work: the
 * foreign-key check of every new wallet (an SPI query per row), SQL function
 * calls per row (nextval, entry_chain, wallet_add), hash joins and sorts of
 * the CTEs.  Here the arguments are checked once, the wallets and the hash
 * chains are built in C, the wallet rows are written with direct heap and
 * index insertion, and the ledger rows with the bulk path of bulkinsert.c.
 *
 * Guarantees (as the SQL version): all or nothing (one function call: any
 * error aborts everything written); wallets locked or created in recipient
 * order, the one canonical order, so bulks with overlapping recipients never
 * deadlock; the pool debited exactly (debit_pool); one ledger row per grant
 * (kind give), chained per wallet in entry-id order; one lot per recipient
 * per call (its grants merge; the lot's id is the first grant's entry id);
 * an existing wallet's expired lots recorded (an expire row) before its
 * grants; a wallet created concurrently (first-grant race) is locked and
 * gets its grants chained on its head.
 *
 * Entry ids: drawn wallet by wallet in recipient order, each wallet's rows
 * in a row (an existing wallet's expire row first, then its grants in
 * argument order), so that the ledger rows are written in entry-id order AND
 * recipient order: the journal's primary key and its recipient index are
 * both appended to, instead of one of them taking a million random inserts
 * (the SQL version numbered in argument order).  A wallet created by another
 * transaction between the look-up and the insert gets new ids when it is
 * locked (the first ones are skipped, as sequence values can be).
 */
#include "plum.h"
#include "bulkinsert.h"
#include "chain.h"
#include "money.h"
#include "recipient.h"
#include "spi_plans.h"
#include "wallet.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

/* one recipient's grants of the call */
typedef struct BulkGroup
{
	Datum		recipient;		/* as given in the array (normalised by its type) */
	int			first;			/* its first grant in order[] */
	int			count;			/* its grants */
	int64		total;			/* their sum, minor units */
	bool		known;			/* had a wallet when looked up */
	bool		inserted;		/* its wallet was created by this call */
	bool		held;			/* its wallet existed: locked, updated below */
	Datum		lots;			/* held: the locked wallet's lots */
	bytea	   *head;			/* held: its chain head; then the new head */
	PlumWallet *gone;			/* held: lots expired by now (an expire row when any) */
	int64		expire_entry;
	bytea	   *expire_hash;
} BulkGroup;

typedef struct BulkCall
{
	int64		admin_id;
	int64		company_id;
	int			scale;
	TimestampTz now;
	TimestampTz expiry;
	Datum		note;
	bool		note_null;
	Datum		campaign;
	bool		campaign_null;
	int			n;
	Datum	   *recipients;
	int64	   *minor;			/* amounts, minor units */
	int64	   *entry;			/* entry id of each grant */
	bytea	  **hash;			/* ledger hash of each grant */
	int		   *group;			/* each grant's group */
	int		   *order;			/* grants sorted by recipient, then position */
	BulkGroup  *groups;
	int			ngroups;
	Datum		kind_give;
	Datum		kind_expire;
	MemoryContext scratch;		/* reset after each hash */
	MemoryContext keep;			/* the call's context: what lives until the end */
} BulkCall;

/* sort grants by recipient, then by position (so a group's grants stay in argument order) */
static int
OrderCmp(const void *a, const void *b, void *arg)
{
	const BulkCall *c = (const BulkCall *) arg;
	int			i = *(const int *) a;
	int			j = *(const int *) b;
	int			cmp = RecipientCmp(DatumGetPlumRecipientPP(c->recipients[i]),
								   DatumGetPlumRecipientPP(c->recipients[j]));

	if (cmp != 0)
		return cmp;
	return i < j ? -1 : (i > j ? 1 : 0);
}

/*
 * An amount as minor units when it is a valid grant amount (finite, > 0,
 * at most scale decimals, under 10^18 minor units: what valid_amount()
 * accepts); false otherwise, raising nothing (the caller lets valid_amount()
 * say why, with its exact message).
 */
static bool
GrantMinor(Numeric amount, int scale, int64 *minor)
{
	char	   *text;
	const char *p;
	int64		result = 0;
	int			decimals = 0;
	bool		seen_point = false;
	bool		ok = true;

	if (numeric_is_nan(amount) || numeric_is_inf(amount))
		return false;
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(amount)));
	p = text;
	if (*p == '-')
		ok = false;
	for (; ok && *p; p++)
	{
		if (*p == '.')
		{
			seen_point = true;
			continue;
		}
		if (seen_point && ++decimals > scale)
		{
			if (*p != '0')
				ok = false;
			continue;
		}
		if (pg_mul_s64_overflow(result, 10, &result) ||
			pg_add_s64_overflow(result, *p - '0', &result) || result > PLUM_MAX_MINOR)
			ok = false;
	}
	for (; ok && decimals < scale; decimals++)
		if (pg_mul_s64_overflow(result, 10, &result) || result > PLUM_MAX_MINOR)
			ok = false;
	pfree(text);
	*minor = result;
	return ok && result > 0;
}

/* Run sql (read_only or not) with the arguments given; the SPI result code */
static int
Run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, bool read_only)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);

	if (rc < 0)
		elog(ERROR, "plum: SPI_execute_with_args failed (%d): %s", rc, sql);
	return rc;
}

/* The first row's column (1-based) of the last SPI result */
static Datum
Column(int column, bool *isnull)
{
	if (SPI_processed < 1)
		elog(ERROR, "plum: a row was expected");
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, isnull);
}

/* a hash copied out of the scratch context */
static bytea *
CopyHash(BulkCall *c, const bytea *h)
{
	bytea	   *copy = MemoryContextAlloc(c->keep, VARSIZE(h));

	memcpy(copy, h, VARSIZE(h));
	return copy;
}

/* The ledger hash of a grant (kind give) following prev, allocated in the caller's context */
static bytea *
GrantHash(BulkCall *c, bytea *prev, int i)
{
	MemoryContext old = MemoryContextSwitchTo(c->scratch);
	Datum		v[PLUM_CHAIN_FIELDS];
	bool		isnull[PLUM_CHAIN_FIELDS];
	bytea	   *h;

	memset(isnull, true, sizeof(isnull));
	v[CHAIN_ENTRY_ID] = Int64GetDatum(c->entry[i]);
	v[CHAIN_COMPANY_ID] = Int64GetDatum(c->company_id);
	v[CHAIN_AT] = TimestampTzGetDatum(c->now);
	v[CHAIN_KIND] = c->kind_give;
	v[CHAIN_AMOUNT] = NumericGetDatum(MinorToNumeric(c->minor[i], c->scale));
	v[CHAIN_ADMIN_ID] = Int64GetDatum(c->admin_id);
	v[CHAIN_RECIPIENT] = c->recipients[i];
	v[CHAIN_LOT_ID] = Int64GetDatum(c->entry[i]);
	v[CHAIN_NOTE] = c->note;
	v[CHAIN_CAMPAIGN_ID] = c->campaign;
	isnull[CHAIN_ENTRY_ID] = isnull[CHAIN_COMPANY_ID] = isnull[CHAIN_AT] = isnull[CHAIN_KIND] = false;
	isnull[CHAIN_AMOUNT] = isnull[CHAIN_ADMIN_ID] = isnull[CHAIN_RECIPIENT] = isnull[CHAIN_LOT_ID] = false;
	isnull[CHAIN_NOTE] = c->note_null;
	isnull[CHAIN_CAMPAIGN_ID] = c->campaign_null;
	h = PlumEntryHash(prev, v, isnull);
	MemoryContextSwitchTo(old);
	h = CopyHash(c, h);
	MemoryContextReset(c->scratch);
	return h;
}

/* The ledger hash of a held wallet's expire row following its head */
static bytea *
ExpireHash(BulkCall *c, BulkGroup *g)
{
	MemoryContext old = MemoryContextSwitchTo(c->scratch);
	Datum		v[PLUM_CHAIN_FIELDS];
	bool		isnull[PLUM_CHAIN_FIELDS];
	bytea	   *h;

	memset(isnull, true, sizeof(isnull));
	v[CHAIN_ENTRY_ID] = Int64GetDatum(g->expire_entry);
	v[CHAIN_COMPANY_ID] = Int64GetDatum(c->company_id);
	v[CHAIN_AT] = TimestampTzGetDatum(c->now);
	v[CHAIN_KIND] = c->kind_expire;
	v[CHAIN_AMOUNT] = NumericGetDatum(MinorToNumeric(WalletTotal(g->gone), c->scale));
	v[CHAIN_RECIPIENT] = g->recipient;
	v[CHAIN_LOTS] = PlumWalletGetDatum(g->gone);
	isnull[CHAIN_ENTRY_ID] = isnull[CHAIN_COMPANY_ID] = isnull[CHAIN_AT] = isnull[CHAIN_KIND] = false;
	isnull[CHAIN_AMOUNT] = isnull[CHAIN_RECIPIENT] = isnull[CHAIN_LOTS] = false;
	h = PlumEntryHash(g->head, v, isnull);
	MemoryContextSwitchTo(old);
	h = CopyHash(c, h);
	MemoryContextReset(c->scratch);
	return h;
}

/* Chain a group's grants on prev (in entry-id order = argument order); the last hash */
static bytea *
ChainGroup(BulkCall *c, BulkGroup *g, bytea *prev)
{
	for (int k = 0; k < g->count; k++)
	{
		int			i = c->order[g->first + k];

		c->hash[i] = GrantHash(c, prev, i);
		prev = c->hash[i];
	}
	return prev;
}

/* The lot of a group's grants: one lot, the first grant's id */
static PlumLot
GroupLot(BulkCall *c, BulkGroup *g)
{
	PlumLot		lot;

	lot.lot_id = c->entry[c->order[g->first]];
	lot.issued_at = c->now;
	lot.available_at = c->now;
	lot.expires_at = c->expiry;
	lot.amount = g->total;
	lot.remaining = g->total;
	return lot;
}

/* Number a group's grants (argument order) with new ledger ids */
static void
NumberGroup(BulkCall *c, BulkGroup *g)
{
	for (int k = 0; k < g->count; k++)
		c->entry[c->order[g->first + k]] = LedgerId();
}

/* Fill slot with a new wallet row of group g (ids drawn): lots, chain head */
static void
FillNewWallet(BulkCall *c, BulkGroup *g, TupleTableSlot *slot, AttrNumber *att)
{
	PlumLot		lot = GroupLot(c, g);
	PlumWallet *expired;
	PlumWallet *w = WalletAdd(WalletNew(c->scale, 1), &lot, c->now, &expired);

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	slot->tts_values[att[0] - 1] = Int64GetDatum(c->company_id);
	slot->tts_isnull[att[0] - 1] = false;
	slot->tts_values[att[1] - 1] = g->recipient;
	slot->tts_isnull[att[1] - 1] = false;
	slot->tts_values[att[2] - 1] = PlumWalletGetDatum(w);
	slot->tts_isnull[att[2] - 1] = false;
	slot->tts_values[att[3] - 1] = PointerGetDatum(ChainGroup(c, g, NULL));
	slot->tts_isnull[att[3] - 1] = false;
	ExecStoreVirtualTuple(slot);
}

/*
 * Insert the wallet row in slot unless (company, recipient) has a wallet,
 * as INSERT ... ON CONFLICT does (speculative insertion: a concurrent
 * inserter of the same key waits for this insertion only, and the loser
 * withdraws its row instead of failing).  true when inserted.
 */
static bool
TryInsertWallet(PlumBulkInsert *b, TupleTableSlot *slot, List *arbiter)
{
	TransactionId xid = GetCurrentTransactionId();
	uint32		token;
	bool		conflict = false;
	List	   *recheck;

	BulkInsertPrepareRow(b, slot);
	token = SpeculativeInsertionLockAcquire(xid);
	table_tuple_insert_speculative(b->rel, slot, b->cid, 0, NULL, token);
	recheck = ExecInsertIndexTuples(b->rri, slot, b->estate, false, true, &conflict, arbiter);
	table_tuple_complete_speculative(b->rel, slot, token, !conflict);
	SpeculativeInsertionLockRelease(xid);
	list_free(recheck);
	return !conflict;
}

/*
 * Lock the wallet of slot's (company, recipient) as ON CONFLICT DO UPDATE
 * locks the row it conflicts with (waiting for a concurrent inserter or
 * writer; REPEATABLE READ and SERIALIZABLE: a serialization failure when the
 * row is not the transaction snapshot's).  false when there is no wallet.
 * Sets g's lots and head from the locked version.
 */
static bool
LockExisting(PlumBulkInsert *b, TupleTableSlot *slot, TupleTableSlot *existing, List *arbiter,
			 AttrNumber *att, BulkGroup *g, MemoryContext keep)
{
	for (;;)
	{
		ItemPointerData conflict;
		TM_FailureData tmfd;
		TM_Result	result;
		bool		isnull;
		Datum		d;

		CHECK_FOR_INTERRUPTS();
		if (ExecCheckIndexConstraints(b->rri, slot, b->estate, &conflict, arbiter))
			return false;
		result = table_tuple_lock(b->rel, &conflict, b->estate->es_snapshot, existing, b->cid,
								  LockTupleExclusive, LockWaitBlock, 0, &tmfd);
		switch (result)
		{
			case TM_Ok:
				break;
			case TM_Updated:
			case TM_Deleted:
				if (IsolationUsesXactSnapshot())
					PlumSerializationFailure();
				continue;		/* look again: the latest version, or none */
			default:
				elog(ERROR, "plum: could not lock a wallet (%d)", (int) result);
		}
		if (IsolationUsesXactSnapshot() &&
			!table_tuple_satisfies_snapshot(b->rel, existing, b->estate->es_snapshot))
		{
			TransactionId xmin = DatumGetTransactionId(slot_getsysattr(existing, MinTransactionIdAttributeNumber, &isnull));

			if (!TransactionIdIsCurrentTransactionId(xmin))
				PlumSerializationFailure();
		}
		d = slot_getattr(existing, att[2], &isnull);
		if (isnull)
			elog(ERROR, "plum: a wallet without lots");
		{
			MemoryContext old = MemoryContextSwitchTo(keep);

			g->lots = PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
			d = slot_getattr(existing, att[3], &isnull);
			g->head = isnull ? NULL : DatumGetByteaPCopy(d);
			MemoryContextSwitchTo(old);
		}
		ExecClearTuple(existing);
		return true;
	}
}

/* Mark the groups whose recipient has a wallet in the company now (one query, only when it has any) */
static void
LookUpKnown(BulkCall *c, const PlumCatalog *cat)
{
	Oid			types[2] = {INT8OID, get_array_type(cat->recipient_type)};
	Datum		values[2];
	Datum	   *keys;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	bool		isnull;

	values[0] = Int64GetDatum(c->company_id);
	Run("SELECT EXISTS (SELECT FROM " PLUM_INTERNAL "account a WHERE a.company_id = $1)",
		1, types, values, NULL, true);
	if (!DatumGetBool(Column(1, &isnull)))
		return;
	keys = palloc(sizeof(Datum) * c->ngroups);
	for (int g = 0; g < c->ngroups; g++)
		keys[g] = c->groups[g].recipient;
	get_typlenbyvalalign(cat->recipient_type, &typlen, &typbyval, &typalign);
	values[1] = PointerGetDatum(construct_array(keys, c->ngroups, cat->recipient_type, typlen, typbyval, typalign));
	Run("SELECT a.recipient FROM " PLUM_INTERNAL "account a"
		" WHERE a.company_id = $1 AND a.recipient " PLUM_OP_EQ " ANY ($2)",
		2, types, values, NULL, true);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		Datum		key = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
		PlumRecipient *k = DatumGetPlumRecipientPP(key);
		int			lo = 0,
					hi = c->ngroups - 1;

		while (lo <= hi)
		{
			int			mid = lo + (hi - lo) / 2;
			int			cmp = RecipientCmp(DatumGetPlumRecipientPP(c->groups[mid].recipient), k);

			if (cmp == 0)
			{
				c->groups[mid].known = true;
				break;
			}
			if (cmp < 0)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
	}
}

/* Lock the company row as the foreign key's check of every new wallet would (once for all) */
static void
LockCompany(BulkCall *c)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(c->company_id)};

	Run("SELECT 1 FROM ONLY " PLUM_INTERNAL "company x WHERE x.company_id OPERATOR(pg_catalog.=) $1"
		" FOR KEY SHARE OF x", 1, types, values, NULL, false);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("insert or update on table \"account\" violates foreign key constraint \"account_company_id_fkey\""),
				 errdetail("Key (company_id)=(" INT64_FORMAT ") is not present in table \"company\".", c->company_id)));
}

/* the state of LockOrCreate() */
typedef struct WalletWriter
{
	BulkCall   *c;
	PlumBulkInsert *b;
	List	   *arbiter;		/* the primary key */
	AttrNumber	att[4];			/* company_id, recipient, lots, chain_head */
	TupleTableSlot *slot;		/* one row: keys to look up, a retried insert */
	TupleTableSlot *existing;	/* a locked wallet */
	TupleTableSlot *batch[PLUM_BULK_BATCH];	/* new wallets not written yet */
	int			pending[PLUM_BULK_BATCH];	/* their groups */
	int			npending;
	MemoryContext batch_memory;
} WalletWriter;

/*
 * Lock the wallet of group g, which exists or was created by another
 * transaction meanwhile (then g's row was withdrawn), or create it if there
 * is none by now (one row, as ON CONFLICT would).
 */
static void
LockOrCreateOne(WalletWriter *w, BulkGroup *g)
{
	BulkCall   *c = w->c;
	TupleTableSlot *slot = w->slot;
	MemoryContext old;

	ResetPerTupleExprContext(w->b->estate);
	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(w->b->estate));
	/* the key columns are what the conflict check reads */
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	slot->tts_values[w->att[0] - 1] = Int64GetDatum(c->company_id);
	slot->tts_isnull[w->att[0] - 1] = false;
	slot->tts_values[w->att[1] - 1] = g->recipient;
	slot->tts_isnull[w->att[1] - 1] = false;
	ExecStoreVirtualTuple(slot);
	for (;;)
	{
		if (LockExisting(w->b, slot, w->existing, w->arbiter, w->att, g, c->keep))
		{
			MemoryContext held = MemoryContextSwitchTo(c->keep);

			/* its expired lots are recorded first, then its grants */
			g->held = true;
			(void) WalletSplitExpired(DatumGetPlumWalletP(g->lots), c->now, &g->gone);
			if (g->gone->nlots > 0)
				g->expire_entry = LedgerId();
			NumberGroup(c, g);
			MemoryContextSwitchTo(held);
			break;
		}
		NumberGroup(c, g);
		FillNewWallet(c, g, slot, w->att);
		if (TryInsertWallet(w->b, slot, w->arbiter))
		{
			g->inserted = true;
			break;
		}
	}
	MemoryContextSwitchTo(old);
}

/*
 * Write the queued new wallets: their heap rows in one table_multi_insert(),
 * then each one's index entries in recipient order.  The primary key is
 * checked without waiting (UNIQUE_CHECK_PARTIAL, as the arbiter of ON
 * CONFLICT is): a wallet that another transaction created meanwhile makes
 * this call withdraw its row (deleted before anything else is done, so the
 * only rows others can meet are in recipient order, and a waiter on it finds
 * it gone) and lock that wallet instead (LockOrCreateOne), before the next
 * row's entries.  Rows queued after it have no index entry yet: nobody can
 * find them or wait for them.  So the canonical order holds as with one
 * INSERT ... ORDER BY ... ON CONFLICT, without a speculative insertion per row.
 */
static void
FlushNewWallets(WalletWriter *w)
{
	PlumBulkInsert *b = w->b;

	if (w->npending == 0)
		return;
	table_multi_insert(b->rel, w->batch, w->npending, b->cid, 0, NULL);
	for (int k = 0; k < w->npending; k++)
	{
		BulkGroup  *g = &w->c->groups[w->pending[k]];
		bool		conflict = false;
		List	   *recheck;

		recheck = ExecInsertIndexTuples(b->rri, w->batch[k], b->estate, false, true, &conflict, w->arbiter);
		list_free(recheck);
		ResetPerTupleExprContext(b->estate);
		if (!conflict)
		{
			g->inserted = true;
			continue;
		}
		/* our row must be visible to our delete: a new command */
		CommandCounterIncrement();
		simple_heap_delete(b->rel, &w->batch[k]->tts_tid);
		CommandCounterIncrement();
		b->cid = b->estate->es_output_cid = GetCurrentCommandId(true);
		LockOrCreateOne(w, g);
	}
	for (int k = 0; k < w->npending; k++)
		ExecClearTuple(w->batch[k]);
	w->npending = 0;
	MemoryContextReset(w->batch_memory);
}

/*
 * Lock or create every wallet, in recipient order.  A group predicted new
 * is numbered, built and queued, and written by FlushNewWallets() with the
 * other new wallets before it; one that exists is locked (after the queued
 * ones are written, to keep the order) and marked held.
 */
static void
LockOrCreate(BulkCall *c, const PlumCatalog *cat)
{
	WalletWriter w;

	/*
	 * The foreign key account.company_id -> company is checked here once for
	 * all the new wallets (the row's key share lock, as the check's query
	 * takes per row), not by its trigger per row: the rows are written by
	 * heap and index insertion without the executor (bulkinsert.c).
	 */
	LockCompany(c);
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.b = BulkInsertBegin(cat->account_rel, true, true);
	w.att[0] = BulkInsertColumn(w.b, "company_id");
	w.att[1] = BulkInsertColumn(w.b, "recipient");
	w.att[2] = BulkInsertColumn(w.b, "lots");
	w.att[3] = BulkInsertColumn(w.b, "chain_head");
	w.arbiter = list_make1_oid(RelationGetPrimaryKeyIndex(w.b->rel));
	w.slot = table_slot_create(w.b->rel, NULL);
	w.existing = table_slot_create(w.b->rel, NULL);
	w.batch_memory = AllocSetContextCreate(CurrentMemoryContext, "plum give_points_bulk wallets",
										   PLUM_ALLOCSET_DEFAULT_SIZES);

	for (int gi = 0; gi < c->ngroups; gi++)
	{
		BulkGroup  *g = &c->groups[gi];

		CHECK_FOR_INTERRUPTS();
		if (!g->known)
		{
			MemoryContext old;
			TupleTableSlot *slot;

			/* the slots live as long as the writer; the rows' values in batch_memory */
			if (w.batch[w.npending] == NULL)
				w.batch[w.npending] = table_slot_create(w.b->rel, NULL);
			slot = w.batch[w.npending];
			old = MemoryContextSwitchTo(w.batch_memory);
			NumberGroup(c, g);
			FillNewWallet(c, g, slot, w.att);
			BulkInsertPrepareRow(w.b, slot);
			MemoryContextSwitchTo(old);
			w.pending[w.npending++] = gi;
			if (w.npending == PLUM_BULK_BATCH)
				FlushNewWallets(&w);
			continue;
		}
		FlushNewWallets(&w);
		LockOrCreateOne(&w, g);
	}
	FlushNewWallets(&w);
	for (int k = 0; k < PLUM_BULK_BATCH && w.batch[k] != NULL; k++)
		ExecDropSingleTupleTableSlot(w.batch[k]);
	ExecDropSingleTupleTableSlot(w.slot);
	ExecDropSingleTupleTableSlot(w.existing);
	MemoryContextDelete(w.batch_memory);
	BulkInsertEnd(w.b);
	PopActiveSnapshot();
}

/*
 * The held wallets (all locked now): their expired lots recorded, then their
 * grants chained on their heads, and the new wallets written in one UPDATE.
 */
static void
UpdateHeld(BulkCall *c, const PlumCatalog *cat)
{
	int			nheld = 0;
	Datum	   *keys;
	Datum	   *lots;
	Datum	   *heads;
	int			k = 0;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Oid			types[4] = {INT8OID, get_array_type(cat->recipient_type), get_array_type(cat->wallet_type), BYTEAARRAYOID};
	Datum		values[4];

	for (int gi = 0; gi < c->ngroups; gi++)
		if (c->groups[gi].held)
			nheld++;
	if (nheld == 0)
		return;

	keys = palloc(sizeof(Datum) * nheld);
	lots = palloc(sizeof(Datum) * nheld);
	heads = palloc(sizeof(Datum) * nheld);
	for (int gi = 0; gi < c->ngroups; gi++)
	{
		BulkGroup  *g = &c->groups[gi];
		PlumWallet *expired;
		PlumWallet *live;
		PlumLot		lot;

		if (!g->held)
			continue;
		CHECK_FOR_INTERRUPTS();
		live = WalletSplitExpired(DatumGetPlumWalletP(g->lots), c->now, &expired);
		if (g->gone->nlots > 0)
		{
			g->expire_hash = ExpireHash(c, g);
			g->head = g->expire_hash;
		}
		g->head = ChainGroup(c, g, g->head);
		lot = GroupLot(c, g);
		keys[k] = g->recipient;
		lots[k] = PlumWalletGetDatum(WalletAdd(live, &lot, c->now, &expired));
		heads[k] = PointerGetDatum(g->head);
		k++;
	}
	values[0] = Int64GetDatum(c->company_id);
	get_typlenbyvalalign(cat->recipient_type, &typlen, &typbyval, &typalign);
	values[1] = PointerGetDatum(construct_array(keys, nheld, cat->recipient_type, typlen, typbyval, typalign));
	get_typlenbyvalalign(cat->wallet_type, &typlen, &typbyval, &typalign);
	values[2] = PointerGetDatum(construct_array(lots, nheld, cat->wallet_type, typlen, typbyval, typalign));
	values[3] = PointerGetDatum(construct_array(heads, nheld, BYTEAOID, -1, false, TYPALIGN_INT));
	Run("UPDATE " PLUM_INTERNAL "account a SET lots = v.lots, chain_head = v.head"
		" FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4)) AS v(r, lots, head)"
		" WHERE a.company_id OPERATOR(pg_catalog.=) $1 AND a.recipient " PLUM_OP_EQ " v.r",
		4, types, values, NULL, false);
	if (SPI_processed != (uint64) nheld)
		elog(ERROR, "plum: %d wallets to update, " UINT64_FORMAT " updated", nheld, SPI_processed);
}

/*
 * Write the ledger rows: wallet by wallet in recipient order, its expire row
 * (if any) then its grants; that is entry-id order (see the head comment)
 */
static void
WriteLedger(BulkCall *c, const PlumCatalog *cat)
{
	PlumBulkInsert *b;
	enum
	{
		J_ENTRY, J_COMPANY, J_AT, J_KIND, J_AMOUNT, J_ADMIN, J_RECIPIENT, J_LOT, J_NOTE,
		J_LOTS, J_CAMPAIGN, J_HASH, J_COLUMNS
	};
	static const char *const names[J_COLUMNS] = {
		"entry_id", "company_id", "at", "kind", "amount", "admin_id", "recipient", "lot_id", "note",
		"lots", "campaign_id", "hash"
	};
	AttrNumber	att[J_COLUMNS];

	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	b = BulkInsertBegin(PlumInternalRel("journal"), false, false);
	for (int k = 0; k < J_COLUMNS; k++)
		att[k] = BulkInsertColumn(b, names[k]);
	for (int gi = 0, k = -1; gi < c->ngroups;)
	{
		BulkGroup  *g = &c->groups[gi];
		TupleTableSlot *slot;
		MemoryContext old;
		Datum	   *v;
		bool	   *isnull;
		int			i;

		/* k: -1 the group's expire row (if any), then 0 .. count - 1 its grants */
		if (k == -1 && !(g->held && g->gone->nlots > 0))
			k = 0;
		if (k == g->count)
		{
			gi++;
			k = -1;
			continue;
		}
		i = k >= 0 ? c->order[g->first + k] : -1;
		k++;
		slot = BulkInsertSlot(b);
		old = MemoryContextSwitchTo(BulkInsertMemory(b));
		v = slot->tts_values;
		isnull = slot->tts_isnull;

#define SET(col, value) (v[att[col] - 1] = (value), isnull[att[col] - 1] = false)
		SET(J_ENTRY, Int64GetDatum(i >= 0 ? c->entry[i] : g->expire_entry));
		SET(J_COMPANY, Int64GetDatum(c->company_id));
		SET(J_AT, TimestampTzGetDatum(c->now));
		if (i >= 0)
		{
			SET(J_KIND, c->kind_give);
			SET(J_AMOUNT, NumericGetDatum(MinorToNumeric(c->minor[i], c->scale)));
			SET(J_ADMIN, Int64GetDatum(c->admin_id));
			SET(J_RECIPIENT, c->recipients[i]);
			SET(J_LOT, Int64GetDatum(c->entry[i]));
			if (!c->note_null)
				SET(J_NOTE, c->note);
			if (!c->campaign_null)
				SET(J_CAMPAIGN, c->campaign);
			SET(J_HASH, PointerGetDatum(c->hash[i]));
		}
		else
		{
			SET(J_KIND, c->kind_expire);
			SET(J_AMOUNT, NumericGetDatum(MinorToNumeric(WalletTotal(g->gone), c->scale)));
			SET(J_RECIPIENT, g->recipient);
			SET(J_LOTS, PlumWalletGetDatum(g->gone));
			SET(J_HASH, PointerGetDatum(g->expire_hash));
		}
#undef SET
		MemoryContextSwitchTo(old);
		BulkInsertAdd(b);
	}
	BulkInsertEnd(b);
	PopActiveSnapshot();
	(void) cat;
}

/* The sum of the grants as a numeric (it may pass int64: the pool then refuses it) */
static Datum
TotalNumeric(BulkCall *c)
{
	Datum		total = NumericGetDatum(int64_to_numeric(0));
	int64		part = 0;

	for (int i = 0; i < c->n; i++)
	{
		int64		sum;

		if (pg_add_s64_overflow(part, c->minor[i], &sum))
		{
			total = DirectFunctionCall2(numeric_add, total, NumericGetDatum(MinorToNumeric(part, c->scale)));
			sum = c->minor[i];
		}
		part = sum;
	}
	return DirectFunctionCall2(numeric_add, total, NumericGetDatum(MinorToNumeric(part, c->scale)));
}

PG_FUNCTION_INFO_V1(plum_give_points_bulk);
/*
 * SQL: plum.give_points_bulk(admin_id bigint, recipients plum.recipient[],
 * amounts numeric[], note text DEFAULT NULL, campaign_id bigint DEFAULT NULL)
 * RETURNS integer — the number of grants made.  Checks in the SQL version's
 * order, with its messages (the helpers that raise them are called).
 */
Datum
plum_give_points_bulk(PG_FUNCTION_ARGS)
{
	const PlumCatalog *cat;
	BulkCall	c;
	ArrayType  *ra;
	ArrayType  *aa;
	bool	   *rnulls;
	Datum	   *amounts;
	bool	   *anulls;
	int			na;
	Datum		max_grant;
	bool		isnull;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	CheckNotNull(fcinfo, 0, "admin_id");
	CheckNotNull(fcinfo, 1, "recipients");
	CheckNotNull(fcinfo, 2, "amounts");
	memset(&c, 0, sizeof(c));
	c.admin_id = PG_GETARG_INT64(0);
	c.note_null = PG_ARGISNULL(3);
	c.note = c.note_null ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(3)));
	c.campaign_null = PG_ARGISNULL(4);
	c.campaign = c.campaign_null ? (Datum) 0 : PG_GETARG_DATUM(4);
	c.now = PlumNow();
	ra = PG_GETARG_ARRAYTYPE_P(1);
	aa = PG_GETARG_ARRAYTYPE_P(2);

	SPI_connect();
	cat = PlumCatalogGet();
	{
		Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
		Datum		values[2] = {Int64GetDatum(c.admin_id), TimestampTzGetDatum(c.now)};

		Run("SELECT c.company_id, c.scale, c.max_grant, " PLUM_INTERNAL "expiry_of($2, c.points_validity)"
			" FROM " PLUM_INTERNAL "admin_company($1) c", 2, types, values, NULL, true);
		c.company_id = DatumGetInt64(Column(1, &isnull));
		c.scale = DatumGetInt16(Column(2, &isnull));
		max_grant = datumCopy(Column(3, &isnull), false, -1);
		c.expiry = DatumGetTimestampTz(Column(4, &isnull));
	}
	if (ARR_NDIM(ra) > 1 || ARR_NDIM(aa) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recipients and amounts must be one-dimensional arrays")));
	c.n = ArrayGetNItems(ARR_NDIM(ra), ARR_DIMS(ra));
	na = ArrayGetNItems(ARR_NDIM(aa), ARR_DIMS(aa));
	if (c.n != na)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recipients and amounts differ in length"),
				 errdetail("There are %d recipients and %d amounts.", c.n, na)));
	if (c.n == 0)
	{
		SPI_finish();
		PG_RETURN_INT32(0);
	}
	get_typlenbyvalalign(ARR_ELEMTYPE(ra), &typlen, &typbyval, &typalign);
	deconstruct_array(ra, ARR_ELEMTYPE(ra), typlen, typbyval, typalign, &c.recipients, &rnulls, &c.n);
	for (int i = 0; i < c.n; i++)
		if (rnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("recipient #%d must not be null", i + 1)));
	deconstruct_array(aa, NUMERICOID, -1, false, TYPALIGN_INT, &amounts, &anulls, &na);
	c.minor = palloc(sizeof(int64) * c.n);
	for (int i = 0; i < c.n; i++)
	{
		if (anulls[i] || !GrantMinor(DatumGetNumeric(amounts[i]), c.scale, &c.minor[i]))
		{
			/* valid_amount() says why, as the SQL version let it */
			Oid			types[3] = {NUMERICOID, INT2OID, TEXTOID};
			Datum		values[3] = {amounts[i], Int16GetDatum(c.scale),
			CStringGetTextDatum(psprintf("amount #%d", i + 1))};

			Run("SELECT " PLUM_INTERNAL "valid_amount($1, $2, $3)", 3, types, values,
				anulls[i] ? "n  " : "   ", true);
			elog(ERROR, "plum: amount #%d was refused but valid_amount() accepts it", i + 1);
		}
	}
	for (int i = 0; i < c.n; i++)
	{
		if (DatumGetBool(DirectFunctionCall2(numeric_gt, amounts[i], max_grant)))
		{
			Oid			types[5] = {INT8OID, INT2OID, NUMERICOID, NUMERICOID, INT8OID};
			Datum		values[5] = {Int64GetDatum(c.company_id), Int16GetDatum(c.scale), max_grant,
			amounts[i], Int64GetDatum(i + 1)};

			Run("SELECT " PLUM_INTERNAL "check_grant($1, $2, $3, $4, $5)", 5, types, values, NULL, true);
			elog(ERROR, "plum: amount #%d is over the largest grant but check_grant() accepts it", i + 1);
		}
	}
	if (!c.campaign_null)
	{
		Oid			types[2] = {INT8OID, INT8OID};
		Datum		values[2] = {Int64GetDatum(c.admin_id), c.campaign};

		Run("SELECT FROM " PLUM_INTERNAL "check_campaign($1, $2, 'points')", 2, types, values, NULL, true);
	}
	{
		Oid			types[4] = {INT8OID, NUMERICOID, INT2OID, TEXTOID};
		Datum		values[4] = {Int64GetDatum(c.admin_id), TotalNumeric(&c), Int16GetDatum(c.scale),
		CStringGetTextDatum(psprintf(" in %d grants", c.n))};

		Run("SELECT " PLUM_INTERNAL "debit_pool($1, $2, $3, $4)", 4, types, values, NULL, false);
	}

	/* the grants by recipient, then argument order; one group per recipient */
	c.order = palloc(sizeof(int) * c.n);
	for (int i = 0; i < c.n; i++)
		c.order[i] = i;
	qsort_arg(c.order, c.n, sizeof(int), OrderCmp, &c);
	c.group = palloc(sizeof(int) * c.n);
	c.groups = palloc0(sizeof(BulkGroup) * c.n);
	for (int k = 0; k < c.n; k++)
	{
		int			i = c.order[k];
		BulkGroup  *g;

		if (k == 0 || RecipientCmp(DatumGetPlumRecipientPP(c.recipients[c.order[k - 1]]),
								   DatumGetPlumRecipientPP(c.recipients[i])) != 0)
		{
			g = &c.groups[c.ngroups++];
			g->recipient = c.recipients[i];
			g->first = k;
		}
		else
			g = &c.groups[c.ngroups - 1];
		g->count++;
		g->total = MoneyAdd(g->total, c.minor[i], c.scale);
		c.group[i] = c.ngroups - 1;
	}

	c.entry = palloc0(sizeof(int64) * c.n);
	c.hash = palloc0(sizeof(bytea *) * c.n);
	c.kind_give = CStringGetTextDatum("give");
	c.kind_expire = CStringGetTextDatum("expire");
	c.keep = CurrentMemoryContext;
	c.scratch = AllocSetContextCreate(CurrentMemoryContext, "plum give_points_bulk hash", PLUM_ALLOCSET_SMALL_SIZES);

	LookUpKnown(&c, cat);
	LockOrCreate(&c, cat);
	UpdateHeld(&c, cat);
	WriteLedger(&c, cat);
	SPI_finish();
	PG_RETURN_INT32(c.n);
}
