/*
 * wallet.c — plum.wallet's I/O: text (JSON) and binary input and output,
 * each input validated against every invariant of wallet.h.  The lot
 * algebra is in lots.c, the SQL functions over wallets in wallet_sql.c.
 *
 * Text form is JSON so that BI tools can read it with wallet::text::jsonb:
 *   {"scale": 2, "lots": [{"lot_id": 17, "issued_at": "2026-01-01T00:00:00Z",
 *     "expires_at": "2027-01-01T00:00:00Z", "amount": "100.00",
 *     "remaining": "40.00"}]}
 * A pending lot (0.2.0) also has "available_at", written only when it differs
 * from issued_at and optional on input (absent = issued_at), so the text of
 * every wallet without pending lots is exactly 0.1.0's.
 * Timestamps are always UTC ("Z"), with microseconds only when non-zero
 * (trailing zeros dropped), so the text depends on neither TimeZone nor
 * DateStyle.  Amounts are strings with exactly scale decimals.
 *
 * Over 700 lines: the JSON parser is most of it, and it stays with the
 * validation it feeds.
 */
#include "wallet.h"

#include <ctype.h>

#include "common/int.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

/* bytes of one lot in the binary format: five int64 (flags 0), six with available_at */
#define PLUM_LOT_WIRE_SIZE (5 * (int) sizeof(int64))
#define PLUM_LOT_WIRE_SIZE_AVAILABLE (6 * (int) sizeof(int64))

/* how much of a literal an error message quotes */
#define PLUM_EXCERPT_LEN 60

/* the text input being parsed */
typedef struct WalletParser
{
	const char *input;			/* the whole literal, for messages */
	const char *p;				/* the next character */
} WalletParser;

/* an amount as written: digits without the point, and how many were decimals */
typedef struct RawAmount
{
	int64		digits;
	int			decimals;
	const char *text;			/* the string as written, for messages */
	int			len;
} RawAmount;

/* a lot as parsed, before the scale is known */
typedef struct RawLot
{
	int64		lot_id;
	TimestampTz issued_at;
	TimestampTz expires_at;
	TimestampTz available_at;	/* = issued_at when absent */
	bool		has_available_at;
	RawAmount	amount;
	RawAmount	remaining;
} RawLot;

/* ---------------------------------------------------------------------------
 * Formatting
 * ---------------------------------------------------------------------------
 */

/* Append an instant as ISO 8601 in UTC: 2026-01-01T00:00:00[.fraction]Z */
static void
AppendIsoTimestamp(StringInfo buf, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "plum.wallet: timestamp " INT64_FORMAT " out of range", ts);

	/* astronomical year numbering, as ISO 8601: 0000 is 1 BC */
	if (tm.tm_year < 0)
		appendStringInfo(buf, "-%04d", -tm.tm_year);
	else
		appendStringInfo(buf, "%04d", tm.tm_year);
	appendStringInfo(buf, "-%02d-%02dT%02d:%02d:%02d",
					 tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (fsec != 0)
	{
		char		frac[8];
		int			len;

		snprintf(frac, sizeof(frac), "%06d", (int) fsec);
		for (len = 6; frac[len - 1] == '0'; len--)
			;
		frac[len] = '\0';
		appendStringInfo(buf, ".%s", frac);
	}
	appendStringInfoChar(buf, 'Z');
}

/* An instant as text for messages */
char *
IsoTimestampCString(TimestampTz ts)
{
	StringInfoData buf;

	initStringInfo(&buf);
	AppendIsoTimestamp(&buf, ts);
	return buf.data;
}
/* The start of a literal, for error messages */
static char *
Excerpt(const char *input)
{
	int			len = strlen(input);
	int			cut;

	if (len <= PLUM_EXCERPT_LEN)
		return pstrdup(input);
	cut = pg_mbcliplen(input, len, PLUM_EXCERPT_LEN);
	return psprintf("%.*s...", cut, input);
}

/* ---------------------------------------------------------------------------
 * Validation (shared by wallet_in and wallet_recv)
 * ---------------------------------------------------------------------------
 */

/* Raise 22P02 for a wallet value that breaks an invariant */
static pg_noinline void
pg_attribute_noreturn()
InvalidWallet(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid plum.wallet value"),
			 errdetail("%s", detail)));
}

/* Refuse a header no wallet has */
static inline void
CheckWalletHeader(int scale, int flags, int nlots)
{
	if (scale < 0 || scale > PLUM_MAX_SCALE)
		InvalidWallet(psprintf("Scale %d is out of range; it must be between 0 and %d.",
							   scale, PLUM_MAX_SCALE));
	if (flags != 0 && flags != PLUM_WALLET_AVAILABLE)
		InvalidWallet(psprintf("Flags are %d; they must be 0 or %d.", flags, PLUM_WALLET_AVAILABLE));
	if (nlots < 0 || nlots > PLUM_WALLET_MAX_LOTS)
		InvalidWallet(psprintf("Lot count %d is out of range.", nlots));
}

/* Refuse a wallet that breaks any invariant of wallet.h (22P02) */
static void
CheckWallet(const PlumWallet *w)
{
	KeyIndex   *keys;
	int			n = w->nlots;
	int			i;

	CheckWalletHeader(w->scale, w->flags, w->nlots);

	for (i = 0; i < n; i++)
	{
		const PlumLot *lot = &w->lots[i];

		CHECK_FOR_INTERRUPTS();
		if (lot->lot_id <= 0)
			InvalidWallet(psprintf("Lot %d has lot_id " INT64_FORMAT "; lot ids must be greater than zero.",
								   i + 1, lot->lot_id));
		if (!IS_VALID_TIMESTAMP(lot->issued_at))
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") has an issued_at out of range.",
								   i + 1, lot->lot_id));
		if (!IS_VALID_TIMESTAMP(lot->expires_at))
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") has an expires_at out of range.",
								   i + 1, lot->lot_id));
		if (lot->issued_at >= lot->expires_at)
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") expires at %s, not after it is issued at %s.",
								   i + 1, lot->lot_id,
								   IsoTimestampCString(lot->expires_at),
								   IsoTimestampCString(lot->issued_at)));
		if (!IS_VALID_TIMESTAMP(lot->available_at) ||
			lot->available_at < lot->issued_at || lot->available_at >= lot->expires_at)
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") has available_at out of range; it must be between issued_at and expires_at.",
								   i + 1, lot->lot_id));
		if (lot->remaining <= 0)
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") has remaining %s; it must be greater than zero.",
								   i + 1, lot->lot_id,
								   MinorToCString(lot->remaining, w->scale)));
		if (lot->remaining > lot->amount)
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") has remaining %s greater than its amount %s.",
								   i + 1, lot->lot_id,
								   MinorToCString(lot->remaining, w->scale),
								   MinorToCString(lot->amount, w->scale)));
		if (i > 0 && LotFifoCmp(&w->lots[i - 1], lot) == 0)
			InvalidWallet(psprintf("Lots %d and %d have the same lot_id " INT64_FORMAT ".",
								   i, i + 1, lot->lot_id));
		if (i > 0 && LotFifoCmp(&w->lots[i - 1], lot) > 0)
			InvalidWallet(psprintf("Lot %d (lot_id " INT64_FORMAT ") is out of order; lots must be sorted by issued_at, then lot_id.",
								   i + 1, lot->lot_id));
	}
	if (n < 2)
		return;

	keys = palloc(sizeof(KeyIndex) * n);

	/* unique lot ids */
	for (i = 0; i < n; i++)
	{
		keys[i].key = w->lots[i].lot_id;
		keys[i].index = i;
	}
	qsort(keys, n, sizeof(KeyIndex), KeyIndexCmp);
	for (i = 1; i < n; i++)
	{
		if (keys[i].key == keys[i - 1].key)
			InvalidWallet(psprintf("Lots %d and %d have the same lot_id " INT64_FORMAT ".",
								   keys[i - 1].index + 1, keys[i].index + 1,
								   keys[i].key));
	}

	/* no two lots that should have merged */
	for (i = 0; i < n; i++)
	{
		keys[i].key = w->lots[i].expires_at;
		keys[i].index = i;
	}
	qsort(keys, n, sizeof(KeyIndex), KeyIndexCmp);
	for (i = 1; i < n; i++)
	{
		int			j;
		bool		same = false;

		/* lots sharing an expiry must not merge (LotsMerge) */
		for (j = i - 1; j >= 0 && keys[j].key == keys[i].key && !same; j--)
			same = LotsMerge(&w->lots[keys[j].index], &w->lots[keys[i].index]);
		if (same)
			InvalidWallet(psprintf("Lots %d and %d both expire at %s; lots with the same expiry must be merged.",
								   keys[i - 1].index + 1, keys[i].index + 1,
								   IsoTimestampCString(keys[i].key)));
	}
	pfree(keys);
}

/* ---------------------------------------------------------------------------
 * Text input: a small JSON parser for exactly the shape wallet_out prints
 * (keys in any order, any JSON whitespace)
 * ---------------------------------------------------------------------------
 */

/* Raise 22P02 for a malformed literal, saying where */
static pg_noinline void
pg_attribute_noreturn()
ParseError(WalletParser *ps, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("malformed plum.wallet literal: \"%s\"", Excerpt(ps->input)),
			 errdetail("%s (at character %d).", detail,
					   (int) (ps->p - ps->input) + 1)));
}

/* Skip JSON whitespace */
static inline void
SkipSpace(WalletParser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

/* Consume the character c, or fail saying what was expected */
static void
Expect(WalletParser *ps, char c, const char *expected)
{
	SkipSpace(ps);
	if (*ps->p != c)
		ParseError(ps, psprintf("Expected %s", expected));
	ps->p++;
	SkipSpace(ps);
}

/* A JSON string without escapes; *s and *len delimit its content */
static void
ParseString(WalletParser *ps, const char **s, int *len, const char *what)
{
	const char *start;

	SkipSpace(ps);
	if (*ps->p != '"')
		ParseError(ps, psprintf("Expected %s as a JSON string", what));
	start = ++ps->p;
	for (;;)
	{
		unsigned char c = (unsigned char) *ps->p;

		if (c == '"')
			break;
		if (c == '\0')
			ParseError(ps, "Unterminated string");
		if (c == '\\')
			ParseError(ps, "Escape sequences are not allowed in a wallet");
		if (c < 0x20)
			ParseError(ps, "Control character in a string");
		ps->p++;
	}
	*s = start;
	*len = ps->p - start;
	ps->p++;
	SkipSpace(ps);
}

/* A JSON integer that fits int64 */
static int64
ParseInteger(WalletParser *ps, const char *what)
{
	bool		negative = false;
	int64		value = 0;
	const char *start;

	SkipSpace(ps);
	if (*ps->p == '-')
	{
		negative = true;
		ps->p++;
	}
	start = ps->p;
	while (isdigit((unsigned char) *ps->p))
	{
		int			digit = *ps->p - '0';

		/* accumulate negatively so that INT64_MIN fits */
		if (pg_mul_s64_overflow(value, 10, &value) ||
			pg_sub_s64_overflow(value, digit, &value))
			ParseError(ps, psprintf("The %s is out of range", what));
		ps->p++;
	}
	if (ps->p == start)
		ParseError(ps, psprintf("Expected %s as a JSON integer", what));
	if (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')
		ParseError(ps, psprintf("The %s must be an integer", what));
	if (!negative)
	{
		if (value == PG_INT64_MIN)
			ParseError(ps, psprintf("The %s is out of range", what));
		value = -value;
	}
	SkipSpace(ps);
	return value;
}

/* Two digits after the separator sep */
static bool
ParseTwoDigits(const char **p, const char *end, char sep, int *value)
{
	const char *s = *p;

	if (end - s < 3 || s[0] != sep ||
		!isdigit((unsigned char) s[1]) || !isdigit((unsigned char) s[2]))
		return false;
	*value = (s[1] - '0') * 10 + (s[2] - '0');
	*p = s + 3;
	return true;
}

/* An instant written YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC); false if not */
static bool
ParseTimestamp(const char *s, int len, TimestampTz *result)
{
	const char *p = s;
	const char *end = s + len;
	struct pg_tm tm;
	fsec_t		fsec = 0;
	bool		negative = false;
	int			year = 0;
	int			ndigits = 0;

	memset(&tm, 0, sizeof(tm));
	if (p < end && *p == '-')
	{
		negative = true;
		p++;
	}
	while (p < end && isdigit((unsigned char) *p))
	{
		if (++ndigits > 7)
			return false;
		year = year * 10 + (*p++ - '0');
	}
	if (ndigits < 4)
		return false;
	tm.tm_year = negative ? -year : year;
	if (!ParseTwoDigits(&p, end, '-', &tm.tm_mon) ||
		!ParseTwoDigits(&p, end, '-', &tm.tm_mday) ||
		!ParseTwoDigits(&p, end, 'T', &tm.tm_hour) ||
		!ParseTwoDigits(&p, end, ':', &tm.tm_min) ||
		!ParseTwoDigits(&p, end, ':', &tm.tm_sec))
		return false;
	if (p < end && *p == '.')
	{
		int			scale = 100000;

		p++;
		if (p >= end || !isdigit((unsigned char) *p))
			return false;
		for (; p < end && isdigit((unsigned char) *p); p++)
		{
			if (scale == 0)
				return false;	/* more than microseconds */
			fsec += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (p >= end || *p != 'Z' || p + 1 != end)
		return false;
	if (tm.tm_mon < 1 || tm.tm_mon > MONTHS_PER_YEAR ||
		tm.tm_mday < 1 ||
		tm.tm_mday > day_tab[isleap(tm.tm_year) ? 1 : 0][tm.tm_mon - 1] ||
		tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return false;
	if (tm2timestamp(&tm, fsec, NULL, result) != 0 || !IS_VALID_TIMESTAMP(*result))
		return false;
	return true;
}

/* A lot's timestamp field */
static TimestampTz
ParseLotTimestamp(WalletParser *ps, int lotno, const char *key)
{
	const char *s;
	int			len;
	TimestampTz ts;

	ParseString(ps, &s, &len, key);
	if (!ParseTimestamp(s, len, &ts))
		ParseError(ps, psprintf("Lot %d has %s \"%.*s\"; expected a UTC instant such as \"2026-01-01T00:00:00Z\"",
								lotno, key, Min(len, 40), s));
	return ts;
}

/* A lot's amount field: a string of digits with an optional decimal point */
static void
ParseLotAmount(WalletParser *ps, int lotno, const char *key, RawAmount *amount)
{
	const char *s;
	int			len;
	int			i;
	bool		point = false;
	bool		digits_before = false;
	bool		digits_after = false;

	ParseString(ps, &s, &len, key);
	amount->digits = 0;
	amount->decimals = 0;
	amount->text = s;
	amount->len = len;
	for (i = 0; i < len; i++)
	{
		if (s[i] == '.' && !point)
		{
			point = true;
			continue;
		}
		if (!isdigit((unsigned char) s[i]))
			ParseError(ps, psprintf("Lot %d has %s \"%.*s\"; expected a non-negative decimal number such as \"100.00\"",
									lotno, key, Min(len, 40), s));
		if (pg_mul_s64_overflow(amount->digits, 10, &amount->digits) ||
			pg_add_s64_overflow(amount->digits, s[i] - '0', &amount->digits))
			ParseError(ps, psprintf("Lot %d has %s \"%.*s\", which is out of range",
									lotno, key, Min(len, 40), s));
		if (point)
		{
			amount->decimals++;
			digits_after = true;
		}
		else
			digits_before = true;
	}
	if (!digits_before || (point && !digits_after))
		ParseError(ps, psprintf("Lot %d has %s \"%.*s\"; expected a non-negative decimal number such as \"100.00\"",
								lotno, key, Min(len, 40), s));
}

/* Minor units of a parsed amount at the wallet's scale */
static int64
RawAmountToMinor(const RawAmount *amount, int scale, int lotno, const char *key)
{
	int64		minor = amount->digits;
	int			i;

	if (amount->decimals > scale)
		InvalidWallet(psprintf("Lot %d has %s \"%.*s\", with more decimal places than the wallet's scale %d.",
							   lotno, key, Min(amount->len, 40), amount->text, scale));
	for (i = amount->decimals; i < scale; i++)
	{
		if (pg_mul_s64_overflow(minor, 10, &minor))
			InvalidWallet(psprintf("Lot %d has %s \"%.*s\", which is out of range.",
								   lotno, key, Min(amount->len, 40), amount->text));
	}
	/* the money layer's limit (money.h), not int64's */
	if (minor > PLUM_MAX_MINOR)
		InvalidWallet(psprintf("Lot %d has %s \"%.*s\", past the money limit %s.",
							   lotno, key, Min(amount->len, 40), amount->text,
							   MinorToCString(PLUM_MAX_MINOR, scale)));
	return minor;
}

/* Key bits of a lot object */
#define LOT_KEY_LOT_ID		0x01
#define LOT_KEY_ISSUED_AT	0x02
#define LOT_KEY_EXPIRES_AT	0x04
#define LOT_KEY_AMOUNT		0x08
#define LOT_KEY_REMAINING	0x10
#define LOT_KEYS_ALL		0x1F
#define LOT_KEY_AVAILABLE_AT	0x20	/* optional */

/* Is the key s[0..len) the word k? */
static inline bool
KeyIs(const char *s, int len, const char *k)
{
	return len == (int) strlen(k) && memcmp(s, k, len) == 0;
}

/* One lot object {"lot_id": ..., ...}, keys in any order, each once */
static void
ParseLot(WalletParser *ps, int lotno, RawLot *lot)
{
	int			seen = 0;

	lot->has_available_at = false;
	SkipSpace(ps);
	if (*ps->p != '{')
		ParseError(ps, psprintf("Expected \"{\" to start lot %d", lotno));
	ps->p++;
	for (;;)
	{
		const char *key;
		int			len;
		int			bit;

		ParseString(ps, &key, &len, "a key");
		if (KeyIs(key, len, "lot_id"))
			bit = LOT_KEY_LOT_ID;
		else if (KeyIs(key, len, "issued_at"))
			bit = LOT_KEY_ISSUED_AT;
		else if (KeyIs(key, len, "expires_at"))
			bit = LOT_KEY_EXPIRES_AT;
		else if (KeyIs(key, len, "amount"))
			bit = LOT_KEY_AMOUNT;
		else if (KeyIs(key, len, "remaining"))
			bit = LOT_KEY_REMAINING;
		else if (KeyIs(key, len, "available_at"))
			bit = LOT_KEY_AVAILABLE_AT;
		else
			ParseError(ps, psprintf("Lot %d has unknown key \"%.*s\"; a lot has lot_id, issued_at, expires_at, amount, remaining and optionally available_at",
									lotno, Min(len, 40), key));
		if (seen & bit)
			ParseError(ps, psprintf("Lot %d has key \"%.*s\" twice", lotno, len, key));
		seen |= bit;
		Expect(ps, ':', "\":\" after a key");

		switch (bit)
		{
			case LOT_KEY_LOT_ID:
				lot->lot_id = ParseInteger(ps, "lot_id");
				break;
			case LOT_KEY_ISSUED_AT:
				lot->issued_at = ParseLotTimestamp(ps, lotno, "issued_at");
				break;
			case LOT_KEY_EXPIRES_AT:
				lot->expires_at = ParseLotTimestamp(ps, lotno, "expires_at");
				break;
			case LOT_KEY_AMOUNT:
				ParseLotAmount(ps, lotno, "amount", &lot->amount);
				break;
			case LOT_KEY_REMAINING:
				ParseLotAmount(ps, lotno, "remaining", &lot->remaining);
				break;
			case LOT_KEY_AVAILABLE_AT:
				lot->available_at = ParseLotTimestamp(ps, lotno, "available_at");
				lot->has_available_at = true;
				break;
		}

		SkipSpace(ps);
		if (*ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (*ps->p == '}')
		{
			ps->p++;
			break;
		}
		ParseError(ps, psprintf("Expected \",\" or \"}\" in lot %d", lotno));
	}
	if ((seen & LOT_KEYS_ALL) != LOT_KEYS_ALL)
	{
		const char *missing = !(seen & LOT_KEY_LOT_ID) ? "lot_id" :
			!(seen & LOT_KEY_ISSUED_AT) ? "issued_at" :
			!(seen & LOT_KEY_EXPIRES_AT) ? "expires_at" :
			!(seen & LOT_KEY_AMOUNT) ? "amount" : "remaining";

		ParseError(ps, psprintf("Lot %d has no \"%s\"", lotno, missing));
	}
	SkipSpace(ps);
}

/* The lots array; returns the lots parsed and their count in *nlots */
static RawLot *
ParseLots(WalletParser *ps, int *nlots)
{
	int			capacity = 8;
	int			n = 0;
	RawLot	   *lots = palloc(sizeof(RawLot) * capacity);

	Expect(ps, '[', "\"[\" to start the lots");
	if (*ps->p == ']')
	{
		ps->p++;
		SkipSpace(ps);
		*nlots = 0;
		return lots;
	}
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (n == capacity)
		{
			capacity = WalletCapacity(capacity, capacity);
			lots = repalloc(lots, sizeof(RawLot) * capacity);
		}
		ParseLot(ps, n + 1, &lots[n]);
		n++;
		if (*ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (*ps->p == ']')
		{
			ps->p++;
			break;
		}
		ParseError(ps, psprintf("Expected \",\" or \"]\" after lot %d", n));
	}
	SkipSpace(ps);
	*nlots = n;
	return lots;
}

PG_FUNCTION_INFO_V1(plum_wallet_in);
/* Text input: the JSON form, validated against every invariant */
Datum
plum_wallet_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	WalletParser ps;
	RawLot	   *raw = NULL;
	int			nlots = 0;
	int64		scale = 0;
	bool		have_scale = false;
	bool		have_lots = false;
	PlumWallet *w;
	int			i;

	ps.input = input;
	ps.p = input;

	Expect(&ps, '{', "\"{\" to start the wallet");
	if (*ps.p != '}')
	{
		for (;;)
		{
			const char *key;
			int			len;

			ParseString(&ps, &key, &len, "a key");
			if (KeyIs(key, len, "scale"))
			{
				if (have_scale)
					ParseError(&ps, "Key \"scale\" appears twice");
				Expect(&ps, ':', "\":\" after a key");
				scale = ParseInteger(&ps, "scale");
				have_scale = true;
			}
			else if (KeyIs(key, len, "lots"))
			{
				if (have_lots)
					ParseError(&ps, "Key \"lots\" appears twice");
				Expect(&ps, ':', "\":\" after a key");
				raw = ParseLots(&ps, &nlots);
				have_lots = true;
			}
			else
				ParseError(&ps, psprintf("Unknown key \"%.*s\"; a wallet has scale and lots",
										 Min(len, 40), key));
			if (*ps.p == ',')
			{
				ps.p++;
				continue;
			}
			if (*ps.p == '}')
				break;
			ParseError(&ps, "Expected \",\" or \"}\"");
		}
	}
	ps.p++;
	SkipSpace(&ps);
	if (*ps.p != '\0')
		ParseError(&ps, "Unexpected text after the wallet");
	if (!have_scale)
		ParseError(&ps, "The wallet has no \"scale\"");
	if (!have_lots)
		ParseError(&ps, "The wallet has no \"lots\"");
	if (scale < 0 || scale > PLUM_MAX_SCALE)
		InvalidWallet(psprintf("Scale " INT64_FORMAT " is out of range; it must be between 0 and %d.",
							   scale, PLUM_MAX_SCALE));

	w = WalletNew((int) scale, nlots);
	for (i = 0; i < nlots; i++)
	{
		PlumLot    *lot = &w->lots[i];

		lot->lot_id = raw[i].lot_id;
		lot->issued_at = raw[i].issued_at;
		lot->expires_at = raw[i].expires_at;
		lot->available_at = raw[i].has_available_at ? raw[i].available_at : raw[i].issued_at;
		lot->amount = RawAmountToMinor(&raw[i].amount, (int) scale, i + 1, "amount");
		lot->remaining = RawAmountToMinor(&raw[i].remaining, (int) scale, i + 1, "remaining");
	}
	w->nlots = nlots;
	WalletFinish(w);
	CheckWallet(w);
	PG_RETURN_PLUMWALLET_P(w);
}

PG_FUNCTION_INFO_V1(plum_wallet_out);
/* Text output: the JSON form, in UTC whatever the session's TimeZone */
Datum
plum_wallet_out(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"scale\": %d, \"lots\": [", w->scale);
	for (i = 0; i < w->nlots; i++)
	{
		const PlumLot *lot = &w->lots[i];

		CHECK_FOR_INTERRUPTS();
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "{\"lot_id\": " INT64_FORMAT ", \"issued_at\": \"",
						 lot->lot_id);
		AppendIsoTimestamp(&buf, lot->issued_at);
		if (lot->available_at != lot->issued_at)
		{
			appendStringInfoString(&buf, "\", \"available_at\": \"");
			AppendIsoTimestamp(&buf, lot->available_at);
		}
		appendStringInfoString(&buf, "\", \"expires_at\": \"");
		AppendIsoTimestamp(&buf, lot->expires_at);
		appendStringInfoString(&buf, "\", \"amount\": \"");
		AppendMinor(&buf, lot->amount, w->scale);
		appendStringInfoString(&buf, "\", \"remaining\": \"");
		AppendMinor(&buf, lot->remaining, w->scale);
		appendStringInfoString(&buf, "\"}");
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(plum_wallet_recv);
/* Binary input: scale, flags, nlots, then five int64 per lot; validated like text */
Datum
plum_wallet_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			scale = (int16) pq_getmsgint(buf, sizeof(int16));
	int			flags = (int16) pq_getmsgint(buf, sizeof(int16));
	int			nlots = (int32) pq_getmsgint(buf, sizeof(int32));
	PlumWallet *w;
	int			i;

	CheckWalletHeader(scale, flags, nlots);
	if (nlots > (buf->len - buf->cursor) /
		(flags == PLUM_WALLET_AVAILABLE ? PLUM_LOT_WIRE_SIZE_AVAILABLE : PLUM_LOT_WIRE_SIZE))
		InvalidWallet(psprintf("The message is too short for %d lots.", nlots));

	w = WalletNew(scale, nlots);
	for (i = 0; i < nlots; i++)
	{
		PlumLot    *lot = &w->lots[i];

		lot->lot_id = pq_getmsgint64(buf);
		lot->issued_at = pq_getmsgint64(buf);
		lot->expires_at = pq_getmsgint64(buf);
		lot->amount = pq_getmsgint64(buf);
		lot->remaining = pq_getmsgint64(buf);
		lot->available_at = flags == PLUM_WALLET_AVAILABLE ?
			pq_getmsgint64(buf) : lot->issued_at;
	}
	w->nlots = nlots;
	WalletFinish(w);
	CheckWallet(w);
	PG_RETURN_PLUMWALLET_P(w);
}

PG_FUNCTION_INFO_V1(plum_wallet_send);
/* Binary output */
Datum
plum_wallet_send(PG_FUNCTION_ARGS)
{
	PlumWallet *w = PG_GETARG_PLUMWALLET_P(0);
	StringInfoData buf;
	int			flags = 0;
	int			i;

	/* 0.1.0's wire form (flags 0, five int64 a lot) unless a lot is pending */
	for (i = 0; i < w->nlots && flags == 0; i++)
		if (w->lots[i].available_at != w->lots[i].issued_at)
			flags = PLUM_WALLET_AVAILABLE;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, w->scale);
	pq_sendint16(&buf, flags);
	pq_sendint32(&buf, w->nlots);
	for (i = 0; i < w->nlots; i++)
	{
		const PlumLot *lot = &w->lots[i];

		pq_sendint64(&buf, lot->lot_id);
		pq_sendint64(&buf, lot->issued_at);
		pq_sendint64(&buf, lot->expires_at);
		pq_sendint64(&buf, lot->amount);
		pq_sendint64(&buf, lot->remaining);
		if (flags == PLUM_WALLET_AVAILABLE)
			pq_sendint64(&buf, lot->available_at);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------------------------------------------------------------- packed form */

/* where a packed wallet's bytes start: right after nlots */
#define PACKED_DATA_OFFSET	offsetof(PlumWallet, unused)
/* the most bytes one lot takes packed: six varints of at most 10 bytes */
#define PACKED_LOT_MAX		60

/* Append v as a LEB128 varint of its zigzag encoding */
static inline unsigned char *
PutVarint(unsigned char *p, uint64 v)
{
	/* zigzag: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ... (v is an int64's bits) */
	uint64		z = (v << 1) ^ ((uint64) 0 - (v >> 63));

	while (z >= 0x80)
	{
		*p++ = (unsigned char) (z | 0x80);
		z >>= 7;
	}
	*p++ = (unsigned char) z;
	return p;
}

static pg_noinline void
pg_attribute_noreturn()
CorruptWallet(const PlumWallet *w)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("plum.wallet value has an unknown layout"),
			 errdetail("Flags are %d, %d lots in %u bytes.", w->flags, w->nlots,
					   (unsigned) VARSIZE(w))));
}

/* Read one varint of a packed wallet (the int64's bits); corrupt past end */
static inline uint64
GetVarint(const unsigned char **p, const unsigned char *end, const PlumWallet *w)
{
	uint64		z = 0;
	int			shift;

	for (shift = 0; shift < 64; shift += 7)
	{
		unsigned char b;

		if (*p >= end)
			break;
		b = *(*p)++;
		z |= (uint64) (b & 0x7f) << shift;
		if (!(b & 0x80))
			return (z >> 1) ^ ((uint64) 0 - (z & 1));
	}
	CorruptWallet(w);
}

/*
 * The stored form of w (wallet.h): each lot as six varints relative to the
 * previous one.  Differences are taken modulo 2^64 and added back the same
 * way, so every int64 round-trips exactly.
 */
PlumWallet *
WalletPack(const PlumWallet *w)
{
	PlumWallet *packed;
	unsigned char *p;
	uint64		lot_id = 0;
	uint64		issued = 0;
	uint64		validity = 0;
	int			i;

	if (w->flags == PLUM_WALLET_PACKED)
		return unconstify(PlumWallet *, w);
	packed = (PlumWallet *) palloc(PACKED_DATA_OFFSET + (Size) PACKED_LOT_MAX * w->nlots);
	packed->scale = w->scale;
	packed->flags = PLUM_WALLET_PACKED;
	packed->nlots = w->nlots;
	p = (unsigned char *) packed + PACKED_DATA_OFFSET;
	for (i = 0; i < w->nlots; i++)
	{
		const PlumLot *lot = &w->lots[i];
		uint64		v = (uint64) lot->expires_at - (uint64) lot->issued_at;

		p = PutVarint(p, (uint64) lot->lot_id - lot_id);
		p = PutVarint(p, (uint64) lot->issued_at - issued);
		p = PutVarint(p, v - validity);
		p = PutVarint(p, (uint64) lot->available_at - (uint64) lot->issued_at);
		p = PutVarint(p, (uint64) lot->amount);
		p = PutVarint(p, (uint64) lot->amount - (uint64) lot->remaining);
		lot_id = (uint64) lot->lot_id;
		issued = (uint64) lot->issued_at;
		validity = v;
	}
	SET_VARSIZE(packed, p - (unsigned char *) packed);
	return packed;
}

/* The working form of a packed wallet */
static PlumWallet *
WalletUnpack(const PlumWallet *w)
{
	const unsigned char *p = (const unsigned char *) w + PACKED_DATA_OFFSET;
	const unsigned char *end = (const unsigned char *) w + VARSIZE(w);
	PlumWallet *result;
	uint64		lot_id = 0;
	uint64		issued = 0;
	uint64		validity = 0;
	int			i;

	/* each lot takes at least six bytes */
	if (w->nlots < 0 || VARSIZE(w) < PACKED_DATA_OFFSET ||
		w->nlots > (end - p) / 6 || w->scale < 0 || w->scale > PLUM_MAX_SCALE)
		CorruptWallet(w);
	result = (PlumWallet *) palloc(PLUM_WALLET_SIZE(w->nlots));
	result->scale = w->scale;
	result->flags = PLUM_WALLET_AVAILABLE;
	result->nlots = w->nlots;
	result->unused = 0;
	for (i = 0; i < w->nlots; i++)
	{
		PlumLot    *lot = &result->lots[i];

		lot_id += GetVarint(&p, end, w);
		issued += GetVarint(&p, end, w);
		validity += GetVarint(&p, end, w);
		lot->lot_id = (int64) lot_id;
		lot->issued_at = (TimestampTz) issued;
		lot->expires_at = (TimestampTz) (issued + validity);
		lot->available_at = (TimestampTz) (issued + GetVarint(&p, end, w));
		lot->amount = (int64) GetVarint(&p, end, w);
		lot->remaining = (int64) ((uint64) lot->amount - GetVarint(&p, end, w));
	}
	if (p != end)
		CorruptWallet(w);
	return WalletFinish(result);
}

/*
 * A stored wallet not in the working form: packed (since 0.2.0), or in
 * 0.1.0's layout (flags 0, 40-byte lots) widened with available_at =
 * issued_at.  Anything else is refused.
 */
PlumWallet *
PlumWalletUpgrade(PlumWallet *w)
{
	const PlumLotV1 *old;
	PlumWallet *result;
	int			nlots = w->nlots;
	int			i;

	if (w->flags == PLUM_WALLET_PACKED)
		return WalletUnpack(w);
	if (w->flags != 0 || nlots < 0 || nlots > PLUM_WALLET_MAX_LOTS ||
		VARSIZE(w) != offsetof(PlumWallet, lots) + sizeof(PlumLotV1) * nlots)
		CorruptWallet(w);
	old = (const PlumLotV1 *) w->lots;
	result = WalletNew(w->scale, nlots);
	for (i = 0; i < nlots; i++)
	{
		PlumLot    *lot = &result->lots[i];

		lot->lot_id = old[i].lot_id;
		lot->issued_at = old[i].issued_at;
		lot->expires_at = old[i].expires_at;
		lot->amount = old[i].amount;
		lot->remaining = old[i].remaining;
		lot->available_at = old[i].issued_at;
	}
	result->nlots = nlots;
	return WalletFinish(result);
}
