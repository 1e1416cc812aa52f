/*
 * code.h — plum.code, the bearer gift code (code.c): an int64 whose low 60
 * bits are random, passed by value.
 */
#ifndef PLUM_CODE_H
#define PLUM_CODE_H

#include "plum.h"

#define DatumGetPlumCode(X)		DatumGetInt64(X)
#define PlumCodeGetDatum(X)		Int64GetDatum(X)
#define PG_GETARG_PLUMCODE(n)	DatumGetPlumCode(PG_GETARG_DATUM(n))
#define PG_RETURN_PLUMCODE(x)	return PlumCodeGetDatum(x)

/* canonical text of a code, XXXX-XXXX-XXXX-C, palloc'd */
extern char *CodeToCString(int64 code);

#endif							/* PLUM_CODE_H */
