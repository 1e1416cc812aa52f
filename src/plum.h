/*
 * plum.h — what every plum C file shares: the SQLSTATEs, the schema names
 * that SQL text and catalog look-ups spell, and the clock.  Each type has
 * its own header (money.h, recipient.h, code.h, wallet.h); the kept SPI
 * plans of the hot paths are in spi_plans.h.
 */
#ifndef PLUM_H
#define PLUM_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/timestamp.h"

/* plum's own SQLSTATEs (SPEC, section Errors) */
#define ERRCODE_PLUM_INSUFFICIENT	MAKE_SQLSTATE('P','U','0','0','1')
#define ERRCODE_PLUM_EXPIRED		MAKE_SQLSTATE('P','U','0','0','2')
#define ERRCODE_PLUM_ALREADY_USED	MAKE_SQLSTATE('P','U','0','0','3')
#define ERRCODE_PLUM_THRESHOLD		MAKE_SQLSTATE('P','U','0','0','4')
#define ERRCODE_PLUM_UNKNOWN		MAKE_SQLSTATE('P','U','0','0','5')
#define ERRCODE_PLUM_IDEMPOTENCY	MAKE_SQLSTATE('P','U','0','0','6')
#define ERRCODE_PLUM_NOT_IN_CATALOG	MAKE_SQLSTATE('P','U','0','0','7')
#define ERRCODE_PLUM_INVALID_AMOUNT	MAKE_SQLSTATE('P','U','0','0','8')
#define ERRCODE_PLUM_NOT_PERMITTED	MAKE_SQLSTATE('P','U','0','0','9')
#define ERRCODE_PLUM_VOUCHER		MAKE_SQLSTATE('P','U','0','1','0')

/*
 * Schemas.  The public one holds SPEC's functions and the types
 * (plum.recipient, plum.wallet, plum.code, plum.catalog_item); the internal
 * one holds the tables, sequences and helper functions.  Every SQL text in C
 * names an internal object as PLUM_INTERNAL "name", and every look-up by
 * name uses PLUM_INTERNAL_SCHEMA_NAME.  (plum 0.1.0 kept everything in
 * schema plum; ALTER EXTENSION plum UPDATE moves the plumbing.)
 */
#define PLUM_SCHEMA_NAME			"plum"
#define PLUM_INTERNAL_SCHEMA_NAME	"plum_internal"
#define PLUM_INTERNAL				PLUM_INTERNAL_SCHEMA_NAME "."

/* the = operator of plum.recipient and plum.code (in pg_catalog since 0.2.0, so
 * that it resolves whatever the search_path), schema-qualified for SQL text */
#define PLUM_OP_EQ					"OPERATOR(pg_catalog.=)"

/* guc.c: the one clock every plum function reads */
extern void PlumGucInit(void);
extern TimestampTz PlumNow(void);

/* this database's shard, 0..15, or -1 on a single server (shard.c) */
extern int	PlumShard(void);

/* Refuse a NULL argument with 22004, as plum_internal.not_null() does in SQL */
static inline void
CheckNotNull(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

#endif							/* PLUM_H */
