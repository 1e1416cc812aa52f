/*
 * spi_plans.h — the kept SPI plans of the C hot paths (points.c, codes.c,
 * links.c) and the one way they draw ledger ids (spi_plans.c).
 *
 * A hot path keeps its plans for the life of the backend.  They stay valid
 * while the extension is not re-created; whether it was is looked up again
 * only after a pg_type invalidation (DROP/CREATE EXTENSION drops and creates
 * plum's types), never on an ordinary call.
 */
#ifndef PLUM_SPI_PLANS_H
#define PLUM_SPI_PLANS_H

#include "plum.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "access/skey.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

/* the ledger's sequence: its name, and SQL that draws from it */
#define PLUM_LEDGER_SEQ_NAME	"journal_entry_id_seq"
#define PLUM_SQL_NEXT_LEDGER_ID \
	"pg_catalog.nextval('" PLUM_INTERNAL PLUM_LEDGER_SEQ_NAME "'::pg_catalog.regclass)"

/* what the hot paths need of the installed extension, by OID */
typedef struct PlumCatalog
{
	uint64		incarnation;	/* changes whenever an OID below does */
	Oid			recipient_type; /* plum.recipient */
	Oid			wallet_type;	/* plum.wallet */
	Oid			code_type;		/* plum.code */
	Oid			code_array_type;	/* plum.code[] */
	int16		code_len;		/* storage of plum.code, for arrays */
	bool		code_byval;
	char		code_align;
	Oid			ledger_seq;		/* the ledger's sequence */
	Oid			account_rel;	/* plum_internal.account */
	AttrNumber	account_lots;	/* its column lots */
	AttrNumber	account_chain_head;	/* its column chain_head */
	Oid			company_rel;	/* plum_internal.company */
	AttrNumber	company_scale;	/* its column scale */
	Oid			issued_code_rel;	/* plum_internal.issued_code */
	AttrNumber	code_company;	/* its columns company_id, campaign_id, expires_at, */
	AttrNumber	code_campaign;	/* cancelled_at, balance, chain_head */
	AttrNumber	code_expires;
	AttrNumber	code_cancelled;
	AttrNumber	code_balance;
	AttrNumber	code_chain_head;
	FmgrInfo	recipient_eq;	/* = of plum.recipient, for index scan keys */
	FmgrInfo	int8_eq;		/* = of bigint, likewise */
	FmgrInfo	code_eq;		/* = of plum.code, likewise */
} PlumCatalog;

/* the most plans one hot path keeps */
#define PLUM_MAX_PLANS 12

/* one hot path's kept plans, valid for one incarnation of the extension */
typedef struct PlumPlans
{
	uint64		incarnation;	/* of the catalog they were made for; 0: none */
	SPIPlanPtr	plan[PLUM_MAX_PLANS];
} PlumPlans;

/* prepares a hot path's plans with PlanKeep(), for the catalog given */
typedef void (*PlumPlansPrepare) (PlumPlans *plans, const PlumCatalog *catalog);

/* called from _PG_init: watch pg_type for re-created extensions */
extern void SpiPlansInit(void);

/* the current catalog (looked up again only after a pg_type invalidation) */
extern const PlumCatalog *PlumCatalogGet(void);

/* make sure plans exist for the current catalog (inside SPI_connect) */
extern void PlansReady(PlumPlans *plans, PlumPlansPrepare prepare);

/* prepare a generic plan of sql with nargs $n parameters, kept as plans->plan[which] */
extern void PlanKeep(PlumPlans *plans, int which, const char *sql, int nargs,
					 const Oid *argtypes);

/* run a kept plan, refusing any SPI result but expected */
extern void PlanRun(PlumPlans *plans, int which, Datum *values, const char *nulls,
					bool read_only, int expected);

/* a new ledger entry id (the journal's entry_id) */
extern int64 LedgerId(void);

/*
 * Rows read and locked without SPI and an executor (spi_plans.c).  PlumProbe:
 * the version of the row whose primary key equals keys that snapshot sees,
 * into slot (which keeps its buffer pinned); false when there is none.
 * PlumLockRow: one probe with snapshot, then the row locked as SELECT ...
 * FOR UPDATE would lock it (rel must be open with RowShareLock); false when
 * there is none.  PlumStatementSnapshot: the fresh snapshot a statement would
 * take, pushed as the active one (the caller pops it).
 */
extern bool PlumProbe(Relation rel, ScanKey keys, int nkeys, Snapshot snapshot,
					  TupleTableSlot *slot);
/* the error of a row changed since a REPEATABLE READ or SERIALIZABLE transaction's snapshot (40001) */
extern void PlumSerializationFailure(void) pg_attribute_noreturn();
extern bool PlumLockRow(Relation rel, ScanKey keys, int nkeys, Snapshot snapshot,
						TupleTableSlot *slot, const char *what);
extern Snapshot PlumStatementSnapshot(void);
/* OID of plum_internal's relation name, and the number of a relation's column (internal errors when missing) */
extern Oid	PlumInternalRel(const char *name);
extern AttrNumber PlumColumn(Oid rel, const char *column);
/* a company's currency scale, read by its primary key without SPI; -1 when unknown (points.c) */
extern int	PlumCompanyScale(int64 company_id);

#endif							/* PLUM_SPI_PLANS_H */
