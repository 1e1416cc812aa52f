/*
 * chain.c — the tamper-evident ledger: the hash of a ledger row.
 *
 * Every row of plum_internal.journal carries a hash that chains it to the
 * previous row of the same holder (a wallet, a code, a link, an admin's
 * pool), and the holder's row keeps the head of its chain.  The writers
 * compute the hash inside the statement that already updates the holder's
 * row (UPDATE ... SET chain_head = plum_internal.entry_hash(chain_head, ...)),
 * so a chain is extended under the holder's row lock, in lock order.
 *
 * hash = position || SHA-256(encode(prev) || encode(field 1) || ... || encode(field 18))
 *
 *   position   8 bytes, big-endian: the row's place in its holder's chain
 *              (1 for the first row; the previous hash's position + 1)
 *   encode(x)  0x00 for NULL; else 0x01, the length of the bytes (4 bytes,
 *              big-endian), the bytes
 *   prev       the previous row's hash (NULL for a holder's first row)
 *   fields     entry_id, company_id, at, kind, amount, admin_id, recipient,
 *              lot_id, redemption_id, reference, note, idempotency_key, lots,
 *              campaign_id, item_id, code, token, balance_after:
 *              bigint: 8 bytes, big-endian;
 *              at: microseconds since 1970-01-01 00:00 UTC, 8 bytes, big-endian;
 *              numeric: its text with trailing fractional zeros removed ("10", "0.5");
 *              text: its bytes (UTF-8);
 *              plum.recipient, plum.wallet, plum.code: their canonical text form.
 *
 * The position makes the chain's order explicit: entry ids are drawn before
 * the holder's row is locked on some paths (a keyed call draws its entry id
 * to claim the key), so two concurrent writers of one holder may chain in the
 * other order than their entry ids.  verify() orders each chain by position.
 */
#include "plum.h"
#include "chain.h"
#include "code.h"
#include "recipient.h"
#include "wallet.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

/* wallet.c: the wallet's text output */
extern Datum plum_wallet_out(PG_FUNCTION_ARGS);

#define CHAIN_FIELDS	PLUM_CHAIN_FIELDS

typedef enum
{
	F_INT8,
	F_AT,
	F_TEXT,
	F_NUMERIC,
	F_RECIPIENT,
	F_WALLET,
	F_CODE
} FieldKind;

static const FieldKind field_kinds[CHAIN_FIELDS] = {
	F_INT8,						/* entry_id */
	F_INT8,						/* company_id */
	F_AT,						/* at */
	F_TEXT,						/* kind */
	F_NUMERIC,					/* amount */
	F_INT8,						/* admin_id */
	F_RECIPIENT,				/* recipient */
	F_INT8,						/* lot_id */
	F_INT8,						/* redemption_id */
	F_TEXT,						/* reference */
	F_TEXT,						/* note */
	F_TEXT,						/* idempotency_key */
	F_WALLET,					/* lots */
	F_INT8,						/* campaign_id */
	F_INT8,						/* item_id */
	F_CODE,						/* code */
	F_TEXT,						/* token */
	F_NUMERIC					/* balance_after */
};

/* microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01 */
#define UNIX_TO_PG_USECS	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

#define CHAIN_HASH_LEN	(8 + PG_SHA256_DIGEST_LENGTH)

static void
PutBE64(unsigned char *out, uint64 v)
{
	int			i;

	for (i = 7; i >= 0; i--)
	{
		out[i] = (unsigned char) (v & 0xff);
		v >>= 8;
	}
}

/* Append one encoded value (NULL when bytes is NULL) */
static void
AppendField(StringInfo buf, const char *bytes, int len)
{
	if (bytes == NULL)
	{
		appendStringInfoChar(buf, 0);
		return;
	}
	{
		unsigned char head[5];

		head[0] = 1;
		head[1] = (unsigned char) ((uint32) len >> 24);
		head[2] = (unsigned char) ((uint32) len >> 16);
		head[3] = (unsigned char) ((uint32) len >> 8);
		head[4] = (unsigned char) len;
		appendBinaryStringInfo(buf, (const char *) head, 5);
	}
	appendBinaryStringInfo(buf, bytes, len);
}

static void
AppendInt8(StringInfo buf, int64 v)
{
	unsigned char be[8];

	PutBE64(be, (uint64) v);
	AppendField(buf, (const char *) be, 8);
}

static void
AppendCString(StringInfo buf, const char *s)
{
	AppendField(buf, s, strlen(s));
}

/*
 * The hash following prev (NULL: a holder's first row) for the row whose
 * fields are values[0 .. CHAIN_FIELDS - 1] (NULL where isnull[i]).
 */
bytea *
PlumEntryHash(bytea *prev, const Datum *values, const bool *isnull)
{
	StringInfoData buf;
	pg_cryptohash_ctx *ctx;
	bytea	   *result;
	unsigned char *out;
	uint64		position = 1;
	int			i;

	initStringInfo(&buf);
	if (prev == NULL)
		AppendField(&buf, NULL, 0);
	else
	{
		int			len = VARSIZE_ANY_EXHDR(prev);
		const unsigned char *p = (const unsigned char *) VARDATA_ANY(prev);

		AppendField(&buf, (const char *) p, len);
		if (len >= 8)
		{
			uint64		v = 0;

			for (i = 0; i < 8; i++)
				v = (v << 8) | p[i];
			position = v + 1;
		}
	}

	for (i = 0; i < CHAIN_FIELDS; i++)
	{
		Datum		d = values[i];

		if (isnull[i])
		{
			AppendField(&buf, NULL, 0);
			continue;
		}
		switch (field_kinds[i])
		{
			case F_INT8:
				AppendInt8(&buf, DatumGetInt64(d));
				break;
			case F_AT:
				AppendInt8(&buf, DatumGetTimestampTz(d) + UNIX_TO_PG_USECS);
				break;
			case F_TEXT:
				{
					text	   *t = DatumGetTextPP(d);

					AppendField(&buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
					break;
				}
			case F_NUMERIC:
				AppendCString(&buf, numeric_normalize(DatumGetNumeric(d)));
				break;
			case F_RECIPIENT:
				AppendCString(&buf, RecipientToCString(DatumGetPlumRecipientPP(d)));
				break;
			case F_WALLET:
				AppendCString(&buf, DatumGetCString(DirectFunctionCall1(plum_wallet_out, d)));
				break;
			case F_CODE:
				AppendCString(&buf, CodeToCString(DatumGetInt64(d)));
				break;
		}
	}

	result = (bytea *) palloc(VARHDRSZ + CHAIN_HASH_LEN);
	SET_VARSIZE(result, VARHDRSZ + CHAIN_HASH_LEN);
	out = (unsigned char *) VARDATA(result);
	PutBE64(out, position);
	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) buf.data, buf.len) < 0 ||
		pg_cryptohash_final(ctx, out + 8, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "plum: could not compute a SHA-256 hash: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	pfree(buf.data);
	return result;
}

PG_FUNCTION_INFO_V1(plum_entry_hash);
/*
 * SQL: plum_internal.entry_hash(prev bytea, entry_id, company_id, at, kind,
 * amount, admin_id, recipient, lot_id, redemption_id, reference, note,
 * idempotency_key, lots, campaign_id, item_id, code, token, balance_after)
 * RETURNS bytea — the hash of a ledger row that follows prev in its chain.
 */
/* PlumEntryHash() of prev and the fields that are args[first ..] of fcinfo */
static bytea *
EntryHashOfArgs(bytea *prev, FunctionCallInfo fcinfo, int first)
{
	Datum		values[PLUM_CHAIN_FIELDS];
	bool		isnull[PLUM_CHAIN_FIELDS];
	int			i;

	for (i = 0; i < PLUM_CHAIN_FIELDS; i++)
	{
		isnull[i] = PG_ARGISNULL(first + i);
		values[i] = isnull[i] ? (Datum) 0 : PG_GETARG_DATUM(first + i);
	}
	return PlumEntryHash(prev, values, isnull);
}

Datum
plum_entry_hash(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(EntryHashOfArgs(PG_ARGISNULL(0) ? NULL : PG_GETARG_BYTEA_PP(0), fcinfo, 1));
}

PG_FUNCTION_INFO_V1(plum_entry_chain_step);
/*
 * SQL: the transition function of the aggregate plum_internal.entry_chain(head,
 * fields...): state NULL (the first row) chains on head, then on the state.
 * As a window aggregate ordered by entry id, it gives every row of one call's
 * rows of a holder its hash.
 */
Datum
plum_entry_chain_step(PG_FUNCTION_ARGS)
{
	bytea	   *prev;

	if (!PG_ARGISNULL(0))
		prev = PG_GETARG_BYTEA_PP(0);
	else
		prev = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1);
	PG_RETURN_BYTEA_P(EntryHashOfArgs(prev, fcinfo, 2));
}

/* the kinds of ledger rows (plum_internal.journal.kind) */
static const char *const ledger_kinds[] = {
	"create", "give", "redeem", "expire", "restore",
	"code_issue", "code_redeem", "code_cancel", "code_expire", "code_refund",
	"link_create", "link_redeem", "link_cancel",
	"reserve", "unreserve", "takeback"
};

PG_FUNCTION_INFO_V1(plum_ledger_kind_valid);
/*
 * SQL: plum_internal.ledger_kind_valid(kind text) RETURNS boolean — the CHECK
 * of journal.kind.  A C function, because a CHECK's expression is rebuilt from
 * its stored node tree by every statement that writes the table: an IN list of
 * sixteen strings cost a fifth of a redemption's executor set-up.
 */
Datum
plum_ledger_kind_valid(PG_FUNCTION_ARGS)
{
	text	   *kind = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(kind);
	const char *s = VARDATA_ANY(kind);
	int			i;

	for (i = 0; i < (int) lengthof(ledger_kinds); i++)
		if (strlen(ledger_kinds[i]) == (size_t) len && memcmp(ledger_kinds[i], s, len) == 0)
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}
