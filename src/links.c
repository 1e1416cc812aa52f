/*
 * links.c — reward link tokens and the link redemption hot path.
 *
 * A link token is 24 bytes (192 bits) from pg_strong_random(), written as
 * 32 characters of unpadded base64url (RFC 4648, section 5): the alphabet
 * A-Z a-z 0-9 - _, so a token needs no escaping in a URL, a path or a query
 * string.  24 bytes are exactly 32 symbols, so there is no padding and every
 * symbol carries 6 random bits.
 *
 * A redemption is one unlocked read, through primary keys and without SPI,
 * of the link and everything its checks need (campaign expiry, company
 * scale, the item, whether it is in the campaign's catalog and accepts the
 * link's value: LinkRead), then the claim: the link locked as SELECT ... FOR
 * UPDATE would (PlumLockRow: of concurrent claims and cancellations the first
 * wins, the others wait and find it no longer active), and one statement that
 * writes it redeemed with its billing row, chained in C (LinkClaim).  The
 * plans are prepared once per backend and kept (spi_plans.c).
 */
#include "plum.h"
#include "chain.h"
#include "identity.h"
#include "spi_plans.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

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
	PLAN_WRITE,					/* the claimed link + its billing ledger row */
	PLAN_NOT_ACTIVE				/* link_not_active(): the error for a link no longer active */
};

static PlumPlans link_plans;

/*
 * What redeem_link() checks before its claim, read without SPI (LinkRead):
 * the link, its campaign's expiry, its company's scale, the item and whether
 * the campaign's curated catalog holds it.
 */
typedef struct LinkFacts
{
	int64		company_id;
	int64		campaign_id;
	Datum		value;			/* numeric */
	text	   *state;
	TimestampTz redeemed_at;
	TimestampTz cancelled_at;
	TimestampTz expires_at;
	Datum		price;			/* numerics of the item, when not NULL */
	Datum		min_value;
	Datum		max_value;
	int			scale;
	bool		redeemed_null;
	bool		cancelled_null;
	bool		expires_null;
	bool		item_known;		/* the item exists (in any company) */
	bool		in_catalog;		/* ... and the campaign's catalog holds it */
	bool		accepts;		/* ... and its price or range takes the link's value */
	bool		price_null;
	bool		min_null;
	bool		max_null;
} LinkFacts;

/* The relations and columns LinkRead() reads, for one incarnation of the extension */
typedef struct LinkRels
{
	uint64		incarnation;	/* of the catalog they were looked up for; 0: none */
	Oid			link;
	Oid			token_collation;	/* of the link's primary key */
	AttrNumber	link_company, link_campaign, link_value, link_state, link_redeemed, link_cancelled,
				link_recipient, link_chain_head;
	Oid			campaign;
	AttrNumber	campaign_expires, campaign_company;
	Oid			item;
	AttrNumber	item_company, item_active, item_price, item_min, item_max, item_brand, item_category;
	Oid			curation;
	Oid			curation_rule;	/* its index on (campaign_id, include, ...) */
	AttrNumber	curation_include, curation_item, curation_brand, curation_category;
	FmgrInfo	text_eq;
} LinkRels;

static LinkRels link_rels;

/*
 * The claim's writes, the link locked (LinkClaim): $1 at, $2 item, $3
 * reference, $4 the billing row's entry id, $5 its hash (the link's new chain
 * head), $6 the link's ctid, $7 company, $8 value, $9 recipient, $10
 * campaign, $11 token.
 */
static const char link_write_sql[] =
"WITH claimed AS ("
"  UPDATE " PLUM_INTERNAL "link SET state = 'redeemed', redeemed_at = $1, item_id = $2, reference = $3,"
"    billing_id = $4, chain_head = $5"
"  WHERE ctid OPERATOR(pg_catalog.=) $6)"
" INSERT INTO " PLUM_INTERNAL "journal (entry_id, company_id, at, kind, amount, recipient, reference,"
"   campaign_id, item_id, token, hash)"
" VALUES ($4, $7, $1, 'link_redeem', $8, $9, $3, $10, $2, $11, $5)";

static void LinkNotActive(Datum state, bool state_null, Datum redeemed_at, bool redeemed_null,
						  Datum cancelled_at, bool cancelled_null) pg_attribute_noreturn();
static void LinkReportMismatch(const LinkFacts *f) pg_attribute_noreturn();

/* Prepare the plans of redeem_link() for the catalog given (PlansReady) */
static void
LinkPreparePlans(PlumPlans *p, const PlumCatalog *cat)
{
	{
		Oid			args[] = {TIMESTAMPTZOID, INT8OID, TEXTOID, INT8OID, BYTEAOID, TIDOID, INT8OID,
			NUMERICOID, cat->recipient_type, INT8OID, TEXTOID};

		PlanKeep(p, PLAN_WRITE, link_write_sql, 11, args);
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

/* round(numeric, scale) as format('%s') shows it: "" when NULL */
static char *
LinkRoundedCString(bool isnull, Datum d, int scale)
{
	if (isnull)
		return "";
	d = DirectFunctionCall2(numeric_round, d, Int32GetDatum(scale));
	return DatumGetCString(DirectFunctionCall1(numeric_out, d));
}

/*
 * Refuse a link that is no longer active (PU003) with link_not_active(), the
 * one rule for it (cancel_link uses it too), given the link's state,
 * redeemed_at and cancelled_at (NULLs when there is no row, as PL/pgSQL's
 * SELECT INTO reads it).  Only on this error path does it cost a call.
 */
static void
LinkNotActive(Datum state, bool state_null, Datum redeemed_at, bool redeemed_null,
			  Datum cancelled_at, bool cancelled_null)
{
	Datum		values[3] = {state, redeemed_at, cancelled_at};
	char		nulls[3] = {state_null ? 'n' : ' ', redeemed_null ? 'n' : ' ', cancelled_null ? 'n' : ' '};

	LinkRunPlan(PLAN_NOT_ACTIVE, values, nulls, SPI_OK_SELECT);
	elog(ERROR, "plum: link_not_active() returned");
}

/* Refuse an item whose value is not exactly the link's (PU007), in the company's decimals */
static void
LinkReportMismatch(const LinkFacts *f)
{
	if (!f->price_null)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_NOT_IN_CATALOG),
				 errmsg("item does not match the link's value"),
				 errdetail("The link is worth %s; the item costs %s.",
						   LinkRoundedCString(false, f->value, f->scale),
						   LinkRoundedCString(false, f->price, f->scale)),
				 errhint("A link is redeemed whole for one item of exactly its value.")));
	ereport(ERROR,
			(errcode(ERRCODE_PLUM_NOT_IN_CATALOG),
			 errmsg("item does not match the link's value"),
			 errdetail("The link is worth %s; the item accepts %s to %s.",
					   LinkRoundedCString(false, f->value, f->scale),
					   LinkRoundedCString(f->min_null, f->min_value, f->scale),
					   LinkRoundedCString(f->max_null, f->max_value, f->scale)),
			 errhint("A link is redeemed whole for one item of exactly its value.")));
}

/* Look up the relations and columns LinkRead() reads, once per incarnation of the extension */
static const LinkRels *
LinkRelsGet(void)
{
	const PlumCatalog *cat = PlumCatalogGet();
	LinkRels	r;

	if (link_rels.incarnation == cat->incarnation)
		return &link_rels;
	memset(&r, 0, sizeof(r));
	r.link = PlumInternalRel("link");
	r.link_company = PlumColumn(r.link, "company_id");
	r.link_campaign = PlumColumn(r.link, "campaign_id");
	r.link_value = PlumColumn(r.link, "value");
	r.link_state = PlumColumn(r.link, "state");
	r.link_redeemed = PlumColumn(r.link, "redeemed_at");
	r.link_cancelled = PlumColumn(r.link, "cancelled_at");
	r.link_recipient = PlumColumn(r.link, "recipient");
	r.link_chain_head = PlumColumn(r.link, "chain_head");
	{
		Relation	rel = table_open(r.link, AccessShareLock);
		Relation	idx = index_open(RelationGetPrimaryKeyIndex(rel), AccessShareLock);

		r.token_collation = idx->rd_indcollation[0];
		index_close(idx, AccessShareLock);
		table_close(rel, AccessShareLock);
	}
	r.campaign = PlumInternalRel("campaign");
	r.campaign_expires = PlumColumn(r.campaign, "expires_at");
	r.campaign_company = PlumColumn(r.campaign, "company_id");
	r.item = PlumInternalRel("item");
	r.item_company = PlumColumn(r.item, "company_id");
	r.item_active = PlumColumn(r.item, "active");
	r.item_price = PlumColumn(r.item, "price");
	r.item_min = PlumColumn(r.item, "min_value");
	r.item_max = PlumColumn(r.item, "max_value");
	r.item_brand = PlumColumn(r.item, "brand");
	r.item_category = PlumColumn(r.item, "category");
	r.curation = PlumInternalRel("curation");
	r.curation_rule = PlumInternalRel("curation_rule");
	r.curation_include = PlumColumn(r.curation, "include");
	r.curation_item = PlumColumn(r.curation, "item_id");
	r.curation_brand = PlumColumn(r.curation, "brand");
	r.curation_category = PlumColumn(r.curation, "category");
	fmgr_info_cxt(F_TEXTEQ, &r.text_eq, TopMemoryContext);
	r.incarnation = cat->incarnation;
	link_rels = r;
	return &link_rels;
}

/* The link's primary key equal to token, as an index scan key */
static void
LinkTokenKey(const LinkRels *r, Datum token, ScanKey key)
{
	ScanKeyEntryInitializeWithInfo(key, 0, 1, BTEqualStrategyNumber, InvalidOid,
								   r->token_collation, (FmgrInfo *) &r->text_eq, token);
}

/* A text column as lower() gives it (the database's collation); NULL when the column is */
static text *
LinkLower(TupleTableSlot *slot, AttrNumber column)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, column, &isnull);

	if (isnull)
		return NULL;
	return DatumGetTextPP(DirectFunctionCall1Coll(lower, DEFAULT_COLLATION_OID, d));
}

/* Whether two texts (either NULL: no) are equal */
static bool
LinkTextEqual(text *a, text *b)
{
	return a != NULL && b != NULL &&
		DatumGetBool(DirectFunctionCall2Coll(texteq, DEFAULT_COLLATION_OID,
											 PointerGetDatum(a), PointerGetDatum(b)));
}

/*
 * Whether the item (in slot, of the campaign's company and active) is in the
 * campaign's curated catalog, as plum_internal.in_catalog() says: no include
 * rule or one that names it (by item, or brand or category case-blind), and
 * no exclude rule that names it.  The rules are read through curation_rule,
 * whose first column is the campaign.
 */
static bool
LinkInCatalog(const LinkRels *r, Snapshot snapshot, int64 campaign_id, int64 item_id,
			  TupleTableSlot *item)
{
	const PlumCatalog *cat = PlumCatalogGet();
	Relation	rel = table_open(r->curation, AccessShareLock);
	Relation	idx = index_open(r->curation_rule, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	ScanKeyData key;
	text	   *brand = LinkLower(item, r->item_brand);
	text	   *category = LinkLower(item, r->item_category);
	bool		includes = false;
	bool		included = false;
	bool		excluded = false;

	ScanKeyEntryInitializeWithInfo(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
								   InvalidOid, (FmgrInfo *) &cat->int8_eq, Int64GetDatum(campaign_id));
	scan = index_beginscan(rel, idx, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while (!excluded && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		bool		include = DatumGetBool(slot_getattr(slot, r->curation_include, &isnull));
		Datum		d = slot_getattr(slot, r->curation_item, &isnull);
		bool		names = (!isnull && DatumGetInt64(d) == item_id) ||
			LinkTextEqual(LinkLower(slot, r->curation_brand), brand) ||
			LinkTextEqual(LinkLower(slot, r->curation_category), category);

		CHECK_FOR_INTERRUPTS();
		if (include)
		{
			includes = true;
			included = included || names;
		}
		else
			excluded = names;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return (!includes || included) && !excluded;
}

/*
 * Read what redeem_link() checks, without a lock (only the state changes
 * after creation, and the claim rechecks it), through primary keys with a
 * fresh snapshot (as each statement of a volatile function takes): false when
 * no link has the token.
 */
static bool
LinkRead(Datum token, int64 item_id, LinkFacts *f)
{
	const PlumCatalog *cat = PlumCatalogGet();
	const LinkRels *r = LinkRelsGet();
	Snapshot	snapshot;
	Relation	rel;
	TupleTableSlot *slot;
	ScanKeyData key;
	bool		found;
	bool		isnull;
	Datum		d;
	int64		campaign_company = 0;

	memset(f, 0, sizeof(*f));
	snapshot = PlumStatementSnapshot();

	/* the link */
	rel = table_open(r->link, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	LinkTokenKey(r, token, &key);
	found = PlumProbe(rel, &key, 1, snapshot, slot);
	if (found)
	{
		f->company_id = DatumGetInt64(slot_getattr(slot, r->link_company, &isnull));
		f->campaign_id = DatumGetInt64(slot_getattr(slot, r->link_campaign, &isnull));
		f->value = PointerGetDatum(PG_DETOAST_DATUM_COPY(slot_getattr(slot, r->link_value, &isnull)));
		f->state = DatumGetTextPCopy(slot_getattr(slot, r->link_state, &isnull));
		d = slot_getattr(slot, r->link_redeemed, &f->redeemed_null);
		f->redeemed_at = f->redeemed_null ? 0 : DatumGetTimestampTz(d);
		d = slot_getattr(slot, r->link_cancelled, &f->cancelled_null);
		f->cancelled_at = f->cancelled_null ? 0 : DatumGetTimestampTz(d);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	if (!found)
	{
		PopActiveSnapshot();
		return false;
	}

	/* its campaign (the link's foreign key: it exists) and company */
	rel = table_open(r->campaign, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	ScanKeyEntryInitializeWithInfo(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
								   InvalidOid, (FmgrInfo *) &cat->int8_eq, Int64GetDatum(f->campaign_id));
	if (!PlumProbe(rel, &key, 1, snapshot, slot))
		elog(ERROR, "plum: campaign " INT64_FORMAT " of a link not found", f->campaign_id);
	d = slot_getattr(slot, r->campaign_expires, &f->expires_null);
	f->expires_at = f->expires_null ? 0 : DatumGetTimestampTz(d);
	campaign_company = DatumGetInt64(slot_getattr(slot, r->campaign_company, &isnull));
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	f->scale = PlumCompanyScale(f->company_id);
	if (f->scale < 0)
		elog(ERROR, "plum: company " INT64_FORMAT " of a link not found", f->company_id);

	/* the item, in any company, and whether the campaign's catalog holds it */
	rel = table_open(r->item, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	ScanKeyEntryInitializeWithInfo(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
								   InvalidOid, (FmgrInfo *) &cat->int8_eq, Int64GetDatum(item_id));
	f->item_known = PlumProbe(rel, &key, 1, snapshot, slot);
	f->price_null = f->min_null = f->max_null = true;
	if (f->item_known)
	{
		int64		company = DatumGetInt64(slot_getattr(slot, r->item_company, &isnull));
		bool		active = DatumGetBool(slot_getattr(slot, r->item_active, &isnull));

		d = slot_getattr(slot, r->item_price, &f->price_null);
		f->price = f->price_null ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
		d = slot_getattr(slot, r->item_min, &f->min_null);
		f->min_value = f->min_null ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
		d = slot_getattr(slot, r->item_max, &f->max_null);
		f->max_value = f->max_null ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
		f->in_catalog = company == campaign_company && active &&
			LinkInCatalog(r, snapshot, f->campaign_id, item_id, slot);
		if (!f->price_null)
			f->accepts = DatumGetBool(DirectFunctionCall2(numeric_eq, f->price, f->value));
		else if (!f->min_null && !f->max_null)
			f->accepts = DatumGetBool(DirectFunctionCall2(numeric_ge, f->value, f->min_value)) &&
				DatumGetBool(DirectFunctionCall2(numeric_le, f->value, f->max_value));
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	return true;
}

/*
 * Claim the link: lock it as SELECT ... FOR UPDATE would (PlumLockRow: of
 * concurrent redemptions and cancellations the first to lock it wins, the
 * others wait and find it no longer active), refuse it when it is not active
 * any more (PU003), then write it redeemed with its billing ledger row,
 * chained on its head, in one statement.  The billing id.
 */
static int64
LinkClaim(Datum token, int64 item_id, TimestampTz now, Datum reference, bool reference_null)
{
	const LinkRels *r = LinkRelsGet();
	Relation	rel = table_open(r->link, RowShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData key;
	Datum		fields[PLUM_CHAIN_FIELDS] = {0};
	bool		fnulls[PLUM_CHAIN_FIELDS];
	Datum		values[11];
	char		nulls[11];
	Datum		d;
	bool		isnull;
	bytea	   *head;
	int64		entry;

	LinkTokenKey(r, token, &key);
	if (!PlumLockRow(rel, &key, 1, PlumStatementSnapshot(), slot, "link"))
		elog(ERROR, "plum: a link vanished");
	d = slot_getattr(slot, r->link_state, &isnull);
	if (VARSIZE_ANY_EXHDR(DatumGetTextPP(d)) != strlen("active") ||
		memcmp(VARDATA_ANY(DatumGetTextPP(d)), "active", strlen("active")) != 0)
	{
		/* another transaction redeemed or cancelled the link since we read it */
		Datum		redeemed,
					cancelled;
		bool		redeemed_null,
					cancelled_null;

		redeemed = slot_getattr(slot, r->link_redeemed, &redeemed_null);
		cancelled = slot_getattr(slot, r->link_cancelled, &cancelled_null);
		LinkNotActive(d, false, redeemed, redeemed_null, cancelled, cancelled_null);
	}

	entry = LedgerId();
	for (int i = 0; i < PLUM_CHAIN_FIELDS; i++)
		fnulls[i] = true;
	for (int i = 0; i < 11; i++)
		nulls[i] = ' ';
	d = slot_getattr(slot, r->link_chain_head, &isnull);
	head = isnull ? NULL : DatumGetByteaPCopy(d);
#define F(field, value) (fields[field] = (value), fnulls[field] = false)
	F(CHAIN_ENTRY_ID, Int64GetDatum(entry));
	F(CHAIN_COMPANY_ID, slot_getattr(slot, r->link_company, &isnull));
	F(CHAIN_AT, TimestampTzGetDatum(now));
	F(CHAIN_KIND, CStringGetTextDatum("link_redeem"));
	F(CHAIN_AMOUNT, datumCopy(slot_getattr(slot, r->link_value, &isnull), false, -1));
	d = slot_getattr(slot, r->link_recipient, &isnull);
	if (!isnull)
		F(CHAIN_RECIPIENT, datumCopy(d, false, -1));
	if (!reference_null)
		F(CHAIN_REFERENCE, reference);
	F(CHAIN_CAMPAIGN_ID, slot_getattr(slot, r->link_campaign, &isnull));
	F(CHAIN_ITEM_ID, Int64GetDatum(item_id));
	F(CHAIN_TOKEN, token);
#undef F

	values[0] = TimestampTzGetDatum(now);
	values[1] = Int64GetDatum(item_id);
	values[2] = reference;
	nulls[2] = reference_null ? 'n' : ' ';
	values[3] = Int64GetDatum(entry);
	values[4] = PointerGetDatum(PlumEntryHash(head, fields, fnulls));
	values[5] = PointerGetDatum(&slot->tts_tid);
	values[6] = fields[CHAIN_COMPANY_ID];
	values[7] = fields[CHAIN_AMOUNT];
	values[8] = fields[CHAIN_RECIPIENT];
	nulls[8] = fnulls[CHAIN_RECIPIENT] ? 'n' : ' ';
	values[9] = fields[CHAIN_CAMPAIGN_ID];
	values[10] = token;
	LinkRunPlan(PLAN_WRITE, values, nulls, SPI_OK_INSERT);
	if (SPI_processed != 1)
		elog(ERROR, "plum: the billing row of a link was not written");

	PopActiveSnapshot();
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	return entry;
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
	LinkFacts	f;
	int64		billing;

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
	if (!LinkRead(PG_GETARG_DATUM(0), item_id, &f))
		/* a malformed token is simply unknown; the detail never echoes it */
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown link"),
				 errdetail("No link has this token."),
				 errhint("Check that the whole link was copied.")));
	/* another company's link: refused before anything about it is told */
	PlumCheckCompany(f.company_id);
	if (VARSIZE_ANY_EXHDR(f.state) != strlen("active") ||
		memcmp(VARDATA_ANY(f.state), "active", strlen("active")) != 0)
		LinkNotActive(PointerGetDatum(f.state), false, TimestampTzGetDatum(f.redeemed_at), f.redeemed_null,
					  TimestampTzGetDatum(f.cancelled_at), f.cancelled_null);
	if (!f.expires_null && f.expires_at <= now)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_EXPIRED),
				 errmsg("link expired"),
				 errdetail("The link's campaign " INT64_FORMAT " expired at %s.", f.campaign_id,
						   DatumGetCString(DirectFunctionCall1(timestamptz_out,
															   TimestampTzGetDatum(f.expires_at))))));
	if (!f.item_known)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown item"),
				 errdetail("There is no item " INT64_FORMAT ".", item_id)));
	if (!f.in_catalog)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_NOT_IN_CATALOG),
				 errmsg("item not in the campaign's catalog"),
				 errdetail("Item " INT64_FORMAT " is not in the catalog of campaign " INT64_FORMAT ".",
						   item_id, f.campaign_id),
				 errhint("Choose an item from plum.campaign_catalog() of the link's campaign.")));
	if (!f.accepts)
		LinkReportMismatch(&f);

	/* the claim: of concurrent redemptions and cancellations, the first to lock the link wins */
	billing = LinkClaim(PG_GETARG_DATUM(0), item_id, now, PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2),
						PG_ARGISNULL(2));

	SPI_finish();
	PG_RETURN_INT64(billing);
}
