/*
 * links.c — reward link tokens and the link redemption hot path.
 *
 * A link token is 24 bytes (192 bits) from pg_strong_random(), written as
 * 32 characters of unpadded base64url (RFC 4648, section 5): the alphabet
 * A-Z a-z 0-9 - _, so a token needs no escaping in a URL, a path or a query
 * string.  24 bytes are exactly 32 symbols, so there is no padding and every
 * symbol carries 6 random bits.
 *
 * A redemption is one unlocked read of the link with everything its checks
 * need (campaign expiry, company scale, the item, whether it is in the
 * campaign's catalog and accepts the link's value), then one statement that
 * claims the link (UPDATE ... WHERE state = 'active') and writes its billing
 * row.  Of concurrent claims the first to update the row wins; a loser
 * rereads the link to say what happened.  Plans are prepared once per
 * backend and kept (spi_plans.c).
 */
#include "plum.h"
#include "identity.h"
#include "spi_plans.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#define LINK_TOKEN_BYTES	24
#define LINK_TOKEN_CHARS	(LINK_TOKEN_BYTES / 3 * 4)

static const char link_alphabet[64] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encode LINK_TOKEN_BYTES bytes as LINK_TOKEN_CHARS base64url symbols */
static void
LinkTokenEncode(const uint8 *bytes, char *out)
{
	int			i;

	for (i = 0; i < LINK_TOKEN_BYTES; i += 3)
	{
		uint32		group = ((uint32) bytes[i] << 16) |
			((uint32) bytes[i + 1] << 8) |
			(uint32) bytes[i + 2];

		*out++ = link_alphabet[(group >> 18) & 0x3F];
		*out++ = link_alphabet[(group >> 12) & 0x3F];
		*out++ = link_alphabet[(group >> 6) & 0x3F];
		*out++ = link_alphabet[group & 0x3F];
	}
}

PG_FUNCTION_INFO_V1(plum_link_token);
/* A new link token: 192 bits from the CSPRNG as 32 base64url characters */
Datum
plum_link_token(PG_FUNCTION_ARGS)
{
	uint8		bytes[LINK_TOKEN_BYTES];
	char		token[LINK_TOKEN_CHARS];
	int			shard;

	if (!pg_strong_random(bytes, sizeof(bytes)))
		elog(ERROR, "could not generate a random link token");
	/* on a shard, the first symbol's low 4 bits are its shard (188 random bits stay) */
	shard = PlumShard();
	if (shard >= 0)
		bytes[0] = (uint8) ((bytes[0] & 0xC3) | (shard << 2));
	LinkTokenEncode(bytes, token);
	explicit_bzero(bytes, sizeof(bytes));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(token, LINK_TOKEN_CHARS));
}

/* the kept plans of redeem_link() */
enum
{
	PLAN_READ,					/* the link and every fact its checks need */
	PLAN_CLAIM,					/* claim the link + its billing ledger row */
	PLAN_REREAD,				/* state of a link lost to another claim */
	PLAN_NOT_ACTIVE				/* link_not_active(): the error for a link no longer active */
};

static PlumPlans link_plans;

/* columns of the read plan */
enum
{
	READ_CAMPAIGN = 1,
	READ_VALUE,
	READ_STATE,
	READ_REDEEMED_AT,
	READ_CANCELLED_AT,
	READ_EXPIRES_AT,
	READ_SCALE,
	READ_ITEM_KNOWN,
	READ_PRICE,
	READ_MIN_VALUE,
	READ_MAX_VALUE,
	READ_IN_CATALOG,
	READ_ACCEPTS,
	READ_COMPANY
};

/*
 * The read.  in_catalog is in_catalog(l.campaign_id, $2) and accepts is
 * item_accepts($2, l.value) (sql/70_catalog.sql), written over the rows
 * already joined here (k is the link's campaign and i the item) so that the
 * hot path stays one statement; test/sql/rules_agree.sql proves that both
 * agree, so change them together.
 */
static const char link_read_sql[] =
"SELECT l.campaign_id, l.value, l.state, l.redeemed_at, l.cancelled_at, k.expires_at, c.scale,"
"  i.item_id IS NOT NULL, i.price, i.min_value, i.max_value,"
"  i.item_id IS NOT NULL AND i.company_id OPERATOR(pg_catalog.=) k.company_id AND i.active"
"  AND (NOT EXISTS (SELECT 1 FROM " PLUM_INTERNAL "curation r"
"      WHERE r.campaign_id OPERATOR(pg_catalog.=) k.campaign_id AND r.include)"
"    OR EXISTS (SELECT 1 FROM " PLUM_INTERNAL "curation r"
"      WHERE r.campaign_id OPERATOR(pg_catalog.=) k.campaign_id AND r.include"
"      AND (r.item_id OPERATOR(pg_catalog.=) i.item_id"
"        OR pg_catalog.lower(r.brand) OPERATOR(pg_catalog.=) pg_catalog.lower(i.brand)"
"        OR pg_catalog.lower(r.category) OPERATOR(pg_catalog.=) pg_catalog.lower(i.category))))"
"  AND NOT EXISTS (SELECT 1 FROM " PLUM_INTERNAL "curation r"
"      WHERE r.campaign_id OPERATOR(pg_catalog.=) k.campaign_id AND NOT r.include"
"      AND (r.item_id OPERATOR(pg_catalog.=) i.item_id"
"        OR pg_catalog.lower(r.brand) OPERATOR(pg_catalog.=) pg_catalog.lower(i.brand)"
"        OR pg_catalog.lower(r.category) OPERATOR(pg_catalog.=) pg_catalog.lower(i.category))),"
"  COALESCE(CASE WHEN i.price IS NOT NULL THEN i.price OPERATOR(pg_catalog.=) l.value"
"    ELSE l.value OPERATOR(pg_catalog.>=) i.min_value AND l.value OPERATOR(pg_catalog.<=) i.max_value END,"
"    false),"
"  l.company_id"
" FROM " PLUM_INTERNAL "link l"
" JOIN " PLUM_INTERNAL "campaign k ON k.campaign_id OPERATOR(pg_catalog.=) l.campaign_id"
" JOIN " PLUM_INTERNAL "company c ON c.company_id OPERATOR(pg_catalog.=) l.company_id"
" LEFT JOIN " PLUM_INTERNAL "item i ON i.item_id OPERATOR(pg_catalog.=) $2"
" WHERE l.token OPERATOR(pg_catalog.=) $1";

/*
 * The claim: $1 token, $2 item, $3 at, $4 reference; returns the billing id, or no row.
 * The billing row chains on the link's head, which moves in the same UPDATE.
 */
static const char link_claim_sql[] =
"WITH claimed AS ("
"  UPDATE " PLUM_INTERNAL "link l SET state = 'redeemed', redeemed_at = $3, item_id = $2, reference = $4,"
"    billing_id = n.id,"
"    chain_head = " PLUM_INTERNAL "entry_hash(l.chain_head, n.id, l.company_id, $3, 'link_redeem', l.value, NULL,"
"      l.recipient, NULL, NULL, $4, NULL, NULL, NULL, l.campaign_id, $2, NULL, $1, NULL)"
"  FROM (SELECT " PLUM_SQL_NEXT_LEDGER_ID " AS id) n"
"  WHERE l.token OPERATOR(pg_catalog.=) $1 AND l.state OPERATOR(pg_catalog.=) 'active'"
"  RETURNING l.billing_id, l.company_id, l.campaign_id, l.value, l.recipient, l.chain_head)"
" INSERT INTO " PLUM_INTERNAL "journal (entry_id, company_id, at, kind, amount, recipient, reference,"
"   campaign_id, item_id, token, hash)"
" SELECT claimed.billing_id, claimed.company_id, $3, 'link_redeem', claimed.value, claimed.recipient,"
"   $4, claimed.campaign_id, $2, $1, claimed.chain_head"
" FROM claimed"
" RETURNING entry_id";

static void LinkNotActive(int state, int redeemed_at, int cancelled_at) pg_attribute_noreturn();
static void LinkReportMismatch(void) pg_attribute_noreturn();

/* Prepare the plans of redeem_link() for the catalog given (PlansReady) */
static void
LinkPreparePlans(PlumPlans *p, const PlumCatalog *cat)
{
	{
		Oid			args[] = {TEXTOID, INT8OID};

		PlanKeep(p, PLAN_READ, link_read_sql, 2, args);
	}
	{
		Oid			args[] = {TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID};

		PlanKeep(p, PLAN_CLAIM, link_claim_sql, 4, args);
	}
	{
		Oid			args[] = {TEXTOID};

		PlanKeep(p, PLAN_REREAD,
				 "SELECT l.state, l.redeemed_at, l.cancelled_at FROM " PLUM_INTERNAL "link l"
				 " WHERE l.token OPERATOR(pg_catalog.=) $1", 1, args);
	}
	{
		Oid			args[] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

		PlanKeep(p, PLAN_NOT_ACTIVE,
				 "SELECT " PLUM_INTERNAL "link_not_active($1, $2, $3)", 3, args);
	}
}

/*
 * Run a kept plan as a volatile statement (a fresh snapshot, like each
 * statement of a volatile PL/pgSQL function), checking the SPI result
 */
static void
LinkRunPlan(int which, Datum *values, const char *nulls, int expected)
{
	PlanRun(&link_plans, which, values, nulls, false, expected);
}

/* A column of the first row of the last SPI result; false when it is NULL */
static bool
LinkColumn(int column, Datum *value)
{
	bool		isnull;

	*value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, &isnull);
	return !isnull;
}

/* Whether a boolean column of the first row is false (NULL is not false, as in PL/pgSQL's IF) */
static bool
LinkColumnIsFalse(int column)
{
	Datum		d;

	return LinkColumn(column, &d) && !DatumGetBool(d);
}

/* A timestamptz column as format('%s') shows it: "" when NULL or when there is no row */
static char *
LinkTimestampCString(int column)
{
	Datum		d;

	if (SPI_processed == 0 || !LinkColumn(column, &d))
		return "";
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, d));
}

/* round(numeric column, scale) as format('%s') shows it: "" when NULL */
static char *
LinkRoundedCString(int column, int scale)
{
	Datum		d;

	if (!LinkColumn(column, &d))
		return "";
	d = DirectFunctionCall2(numeric_round, d, Int32GetDatum(scale));
	return DatumGetCString(DirectFunctionCall1(numeric_out, d));
}

/* Whether a text column of the first row equals a string (false when NULL or when there is no row) */
static bool
LinkColumnEquals(int column, const char *string)
{
	Datum		d;
	text	   *t;
	size_t		len = strlen(string);

	if (SPI_processed == 0 || !LinkColumn(column, &d))
		return false;
	t = DatumGetTextPP(d);
	return VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), string, len) == 0;
}

/*
 * Refuse a link that is no longer active (PU003) with link_not_active(), the
 * one rule for it (cancel_link uses it too); the first row of the last SPI
 * result has the link's state, redeemed_at and cancelled_at in the given
 * columns (no row reads as NULLs, as PL/pgSQL's SELECT INTO does).  Only on
 * this error path does it cost a call.
 */
static void
LinkNotActive(int state, int redeemed_at, int cancelled_at)
{
	int			columns[3] = {state, redeemed_at, cancelled_at};
	Datum		values[3];
	char		nulls[3];

	for (int i = 0; i < 3; i++)
	{
		bool		present = SPI_processed > 0 && LinkColumn(columns[i], &values[i]);

		if (!present)
			values[i] = (Datum) 0;
		nulls[i] = present ? ' ' : 'n';
	}
	/* the datums point into the last result, which the call does not free before reading them */
	LinkRunPlan(PLAN_NOT_ACTIVE, values, nulls, SPI_OK_SELECT);
	elog(ERROR, "plum: link_not_active() returned");
}

/* Refuse an item whose value is not exactly the link's (PU007), in the company's decimals */
static void
LinkReportMismatch(void)
{
	Datum		d;
	int			scale = LinkColumn(READ_SCALE, &d) ? DatumGetInt16(d) : 0;

	if (LinkColumn(READ_PRICE, &d))
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_NOT_IN_CATALOG),
				 errmsg("item does not match the link's value"),
				 errdetail("The link is worth %s; the item costs %s.",
						   LinkRoundedCString(READ_VALUE, scale),
						   LinkRoundedCString(READ_PRICE, scale)),
				 errhint("A link is redeemed whole for one item of exactly its value.")));
	ereport(ERROR,
			(errcode(ERRCODE_PLUM_NOT_IN_CATALOG),
			 errmsg("item does not match the link's value"),
			 errdetail("The link is worth %s; the item accepts %s to %s.",
					   LinkRoundedCString(READ_VALUE, scale),
					   LinkRoundedCString(READ_MIN_VALUE, scale),
					   LinkRoundedCString(READ_MAX_VALUE, scale)),
			 errhint("A link is redeemed whole for one item of exactly its value.")));
}

PG_FUNCTION_INFO_V1(plum_redeem_link);
/*
 * SQL: plum.redeem_link(token text, item_id bigint, reference text)
 * RETURNS bigint — the billing id (the entry id of the link_redeem row).
 */
Datum
plum_redeem_link(PG_FUNCTION_ARGS)
{
	TimestampTz now = PlumNow();
	int64		item_id;
	int64		campaign_id;
	int64		billing;
	Datum		d = (Datum) 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("token must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("item_id must not be null")));
	item_id = PG_GETARG_INT64(1);

	SPI_connect();
	PlansReady(&link_plans, LinkPreparePlans);

	/* one read, without a lock: only the state changes after creation, and the claim rechecks it */
	{
		Datum		values[2] = {PG_GETARG_DATUM(0), Int64GetDatum(item_id)};

		LinkRunPlan(PLAN_READ, values, NULL, SPI_OK_SELECT);
	}
	if (SPI_processed == 0)
		/* a malformed token is simply unknown; the detail never echoes it */
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown link"),
				 errdetail("No link has this token."),
				 errhint("Check that the whole link was copied.")));
	/* another company's link: refused before anything about it is told */
	if (LinkColumn(READ_COMPANY, &d))
		PlumCheckCompany(DatumGetInt64(d));
	if (LinkColumn(READ_STATE, &d) && !LinkColumnEquals(READ_STATE, "active"))
		LinkNotActive(READ_STATE, READ_REDEEMED_AT, READ_CANCELLED_AT);
	campaign_id = LinkColumn(READ_CAMPAIGN, &d) ? DatumGetInt64(d) : 0;
	if (LinkColumn(READ_EXPIRES_AT, &d) && DatumGetTimestampTz(d) <= now)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_EXPIRED),
				 errmsg("link expired"),
				 errdetail("The link's campaign " INT64_FORMAT " expired at %s.", campaign_id,
						   LinkTimestampCString(READ_EXPIRES_AT))));
	if (LinkColumnIsFalse(READ_ITEM_KNOWN))
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown item"),
				 errdetail("There is no item " INT64_FORMAT ".", item_id)));
	if (LinkColumnIsFalse(READ_IN_CATALOG))
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_NOT_IN_CATALOG),
				 errmsg("item not in the campaign's catalog"),
				 errdetail("Item " INT64_FORMAT " is not in the catalog of campaign " INT64_FORMAT ".",
						   item_id, campaign_id),
				 errhint("Choose an item from plum.campaign_catalog() of the link's campaign.")));
	if (LinkColumnIsFalse(READ_ACCEPTS))
		LinkReportMismatch();

	/* the claim: of concurrent redemptions and cancellations, the first to update the row wins */
	{
		Datum		values[4] = {PG_GETARG_DATUM(0), Int64GetDatum(item_id), TimestampTzGetDatum(now),
		PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2)};
		char		nulls[4] = {' ', ' ', ' ', PG_ARGISNULL(2) ? 'n' : ' '};

		LinkRunPlan(PLAN_CLAIM, values, nulls, SPI_OK_INSERT_RETURNING);
	}
	if (SPI_processed == 0 || !LinkColumn(1, &d))
	{
		/* another transaction redeemed or cancelled the link since we read it */
		Datum		values[1] = {PG_GETARG_DATUM(0)};

		LinkRunPlan(PLAN_REREAD, values, NULL, SPI_OK_SELECT);
		LinkNotActive(1, 2, 3);
	}
	billing = DatumGetInt64(d);

	SPI_finish();
	PG_RETURN_INT64(billing);
}
