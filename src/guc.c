/*
 * guc.c — plum.now, the one clock every plum function reads.
 *
 * plum.now is a superuser-only (PGC_SUSET) setting holding a timestamp with
 * time zone.  When it is empty, "now" is the transaction timestamp, as for
 * now(); when set, it is that instant, for tests, demos and backfills.
 */
#include "plum.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"

static char *plum_now_setting = NULL;

static bool plum_now_is_set = false;
static TimestampTz plum_now_value = 0;

/* Parse a plum.now value without throwing; false if it is not a finite instant */
static bool
NowParse(const char *value, TimestampTz *result)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz;

	if (strlen(value) >= MAXDATELEN)
		return false;
	if (ParseDateTime(value, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0 ||
		DecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz) != 0 ||
		dtype != DTK_DATE ||
		tm2timestamp(&tt, fsec, &tz, result) != 0 ||
		TIMESTAMP_NOT_FINITE(*result))
		return false;
	return true;
}

/* GUC check hook: refuse anything but '' or a finite timestamp */
static bool
NowCheckHook(char **newval, void **extra, GucSource source)
{
	TimestampTz ts;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!NowParse(*newval, &ts))
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("invalid value for parameter \"plum.now\": \"%s\"", *newval);
		GUC_check_errhint("Give a finite timestamp with time zone such as '2026-01-01 09:00:00+00', or '' for the transaction timestamp.");
		return false;
	}
	return true;
}

/* GUC assign hook: remember the instant (the value was checked already) */
static void
NowAssignHook(const char *newval, void *extra)
{
	plum_now_is_set = (newval != NULL && newval[0] != '\0' &&
					   NowParse(newval, &plum_now_value));
}

/* Define plum's settings and reserve the "plum." prefix */
void
PlumGucInit(void)
{
	DefineCustomStringVariable("plum.now",
							   "The instant plum treats as now (empty: the transaction timestamp).",
							   "Superuser only; for tests, demos and backfills.",
							   &plum_now_setting,
							   "",
							   PGC_SUSET,
							   0,
							   NowCheckHook,
							   NowAssignHook,
							   NULL);
	MarkGUCPrefixReserved("plum");
}

/* plum's clock: plum.now when set, else the transaction timestamp */
TimestampTz
PlumNow(void)
{
	if (plum_now_is_set)
		return plum_now_value;
	return GetCurrentTransactionStartTimestamp();
}

PG_FUNCTION_INFO_V1(plum_now);
/* SQL: plum.now() */
Datum
plum_now(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(PlumNow());
}
