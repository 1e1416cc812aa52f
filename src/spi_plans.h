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
	FmgrInfo	recipient_eq;	/* = of plum.recipient, for index scan keys */
	FmgrInfo	int8_eq;		/* = of bigint, likewise */
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

/* a company's currency scale, read by its primary key without SPI; -1 when unknown (points.c) */
extern int	PlumCompanyScale(int64 company_id);

#endif							/* PLUM_SPI_PLANS_H */
