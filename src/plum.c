/*
 * plum.c — module entry point.
 */
#include "plum.h"

#include "utils/inval.h"
#include "utils/syscache.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

uint64		plum_catalog_generation = 1;

/* A type was created, changed or dropped (DROP EXTENSION drops plum's): plans must be re-checked */
static void
PlumTypesInvalidated(Datum arg, int cacheid, uint32 hashvalue)
{
	plum_catalog_generation++;
}

/* Called once when the library is loaded into a backend */
void
_PG_init(void)
{
	plum_guc_init();
	CacheRegisterSyscacheCallback(TYPEOID, PlumTypesInvalidated, (Datum) 0);
}
