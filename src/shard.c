/*
 * shard.c — this database's shard number (sql/06_shard.sql), for the code
 * and link token generators: -1 on a single server (plum.configure_shard()
 * never called), else 0..15.
 *
 * A configured shard never changes (configure_shard refuses to), so the
 * number is cached for the backend's life once found; an unconfigured
 * database is asked again at the next generation (one index-less read of a
 * one-row table per batch of codes or per link), so a backend that started
 * before configure_shard still stamps its codes.
 */
#include "plum.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

static int	plum_shard = -1;
static Oid	plum_shard_relid = InvalidOid;
static bool plum_shard_callback = false;

/* relcache callback: forget the number when its table changes or goes */
static void
ShardInvalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == plum_shard_relid)
	{
		plum_shard = -1;
		plum_shard_relid = InvalidOid;
	}
}

int
PlumShard(void)
{
	bool		isnull;
	Datum		d;

	if (plum_shard >= 0)
		return plum_shard;
	if (!plum_shard_callback)
	{
		CacheRegisterRelcacheCallback(ShardInvalidate, (Datum) 0);
		plum_shard_callback = true;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT shard FROM " PLUM_INTERNAL "shard_config", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read " PLUM_INTERNAL "shard_config");
	if (SPI_processed == 1)
	{
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
		{
			plum_shard = DatumGetInt32(d);
			plum_shard_relid = get_relname_relid("shard_config",
												 get_namespace_oid(PLUM_INTERNAL_SCHEMA_NAME, false));
		}
	}
	SPI_finish();
	return plum_shard;
}
