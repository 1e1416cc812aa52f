/*
 * plum.h — declarations shared by plum's C files: SQLSTATEs, the clock,
 * money conversion and the recipient type.
 */
#ifndef PLUM_H
#define PLUM_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/numeric.h"
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

/* the largest number of decimals a currency may have (ISO 4217 uses 0-4) */
#define PLUM_MAX_SCALE 4

/*
 * plum.c: bumped whenever pg_type changes (a syscache invalidation), so the
 * C hot paths re-check their kept plans only then, not on every call
 */
extern uint64 plum_catalog_generation;

/* guc.c: the one clock every plum function reads */
extern void plum_guc_init(void);
extern TimestampTz plum_now(void);

/* money.c: exact numeric <-> int64 minor units */
extern int64 plum_numeric_to_minor(Numeric amount, int scale, const char *what);
extern Numeric plum_minor_to_numeric(int64 minor, int scale);
extern char *plum_minor_to_cstring(int64 minor, int scale);
extern void plum_check_positive(int64 minor, int scale, const char *what);

/* code.c: plum.code, an int64 passed by value */
#define DatumGetPlumCode(X)		DatumGetInt64(X)
#define PlumCodeGetDatum(X)		Int64GetDatum(X)
extern int64 plum_code_generate(void);
extern void plum_code_fill(int64 *codes, int n);
extern char *plum_code_to_cstring(int64 code);

/* recipient.c: the normalised recipient (email or E.164 phone), a varlena */
typedef struct varlena PlumRecipient;
#define DatumGetPlumRecipientPP(X)	((PlumRecipient *) PG_DETOAST_DATUM_PACKED(X))
#define PG_GETARG_PLUMRECIPIENT_PP(n) DatumGetPlumRecipientPP(PG_GETARG_DATUM(n))
extern char *plum_recipient_cstring(PlumRecipient *r);

#endif							/* PLUM_H */
