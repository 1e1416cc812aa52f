/*
 * plum.c — module entry point.
 */
#include "plum.h"
#include "identity.h"
#include "spi_plans.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Called once when the library is loaded into a backend */
void
_PG_init(void)
{
	PlumGucInit();
	SpiPlansInit();
	IdentityInit();
}
