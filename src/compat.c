/*
 * compat.c — the C symbols of release 0.1.0 that were renamed (RENAMES.txt),
 * kept as aliases: the frozen plum--0.1.0.sql and databases still at 0.1.0
 * name them in pg_proc.prosrc, and must keep working with this library
 * until ALTER EXTENSION plum UPDATE points them at the new names.
 */
#include "plum.h"

extern Datum plum_wallet_total(PG_FUNCTION_ARGS);
extern Datum plum_wallet_next_expiry(PG_FUNCTION_ARGS);
extern Datum plum_wallet_add(PG_FUNCTION_ARGS);
extern Datum plum_wallet_live(PG_FUNCTION_ARGS);
extern Datum plum_wallet_expired(PG_FUNCTION_ARGS);
extern Datum plum_wallet_consume(PG_FUNCTION_ARGS);
extern Datum plum_wallet_reversible(PG_FUNCTION_ARGS);
extern Datum plum_wallet_restore(PG_FUNCTION_ARGS);
extern Datum plum_now(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(plum_wallet_total_sql);
/* 0.1.0's name of plum_wallet_total() */
Datum
plum_wallet_total_sql(PG_FUNCTION_ARGS)
{
	return plum_wallet_total(fcinfo);
}

PG_FUNCTION_INFO_V1(plum_wallet_next_expiry_sql);
/* 0.1.0's name of plum_wallet_next_expiry() */
Datum
plum_wallet_next_expiry_sql(PG_FUNCTION_ARGS)
{
	return plum_wallet_next_expiry(fcinfo);
}

PG_FUNCTION_INFO_V1(plum_wallet_add_sql);
/* 0.1.0's name of plum_wallet_add() */
Datum
plum_wallet_add_sql(PG_FUNCTION_ARGS)
{
	return plum_wallet_add(fcinfo);
}

PG_FUNCTION_INFO_V1(plum_wallet_live_sql);
/* 0.1.0's name of plum_wallet_live() */
Datum
plum_wallet_live_sql(PG_FUNCTION_ARGS)
{
	return plum_wallet_live(fcinfo);
}

PG_FUNCTION_INFO_V1(plum_wallet_expired_sql);
/* 0.1.0's name of plum_wallet_expired() */
Datum
plum_wallet_expired_sql(PG_FUNCTION_ARGS)
{
	return plum_wallet_expired(fcinfo);
}

PG_FUNCTION_INFO_V1(plum_wallet_consume_sql);
/* 0.1.0's name of plum_wallet_consume() */
Datum
plum_wallet_consume_sql(PG_FUNCTION_ARGS)
{
	return plum_wallet_consume(fcinfo);
}

PG_FUNCTION_INFO_V1(plum_wallet_reversible_sql);
/* 0.1.0's name of plum_wallet_reversible() */
Datum
plum_wallet_reversible_sql(PG_FUNCTION_ARGS)
{
	return plum_wallet_reversible(fcinfo);
}

PG_FUNCTION_INFO_V1(plum_wallet_restore_sql);
/* 0.1.0's name of plum_wallet_restore() */
Datum
plum_wallet_restore_sql(PG_FUNCTION_ARGS)
{
	return plum_wallet_restore(fcinfo);
}

PG_FUNCTION_INFO_V1(plum_now_sql);
/* 0.1.0's name of plum_now() */
Datum
plum_now_sql(PG_FUNCTION_ARGS)
{
	return plum_now(fcinfo);
}
