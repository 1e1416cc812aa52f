/*
 * code.c — plum.code, the bearer gift code type.
 *
 * A code is an int64 whose low 60 bits are drawn from pg_strong_random();
 * the top 4 bits are 0 on a single server and the shard's number on a shard
 * (plum.configure_shard, sql/06_shard.sql), and the value 0 is reserved (never
 * issued, never accepted).  It is 8 bytes, passed by value.
 *
 * Text form: the 60 bits as 12 Crockford base-32 symbols, most significant
 * first, in three groups of four, then Crockford's mod-37 check symbol:
 *
 *		7K3M-Q9XA-2BCD-S
 *
 * A code of shard 1..15 has one more data symbol, its shard, first (13 data
 * symbols, still grouped by four from the left, check symbol last):
 *
 *		37K3-MQ9X-A2BC-D-S
 *
 * The check symbol is the unsigned 64-bit value mod 37 in both forms.
 *
 * Input is case-insensitive, ignores hyphens and white space anywhere, and
 * reads I and L as 1 and O as 0.  The check symbols 32..36 are * ~ $ = U,
 * which are therefore valid only in the last position.
 *
 * Why mod 37 catches every single-symbol typo and adjacent transposition:
 * a substitution changes the value by d*32^k and swapping neighbours by
 * (a-b)*31*32^k, with 0 < |d|, |a-b| < 32; the prime 37 divides no factor.
 * (Swapping the last data symbol a with the check symbol c needs 2c = 2a
 * mod 37 to go unseen, i.e. c = a.)
 *
 * The canonical text sorts like the number (the alphabet is in ASCII
 * order), so ORDER BY code and ORDER BY code::text COLLATE "C" agree.
 */
#include "code.h"

#include "common/hashfn.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/sortsupport.h"

#ifndef USE_FLOAT8_BYVAL
#error "plum.code is an 8-byte pass-by-value type and needs a 64-bit build"
#endif

#define CODE_DATA_SYMBOLS	12
#define CODE_SYMBOLS		(CODE_DATA_SYMBOLS + 1)
#define CODE_TEXT_LEN		(CODE_DATA_SYMBOLS + 3 + 1 + 1)	/* 3 hyphens, check */
#define CODE_SHARD_TEXT_LEN	(CODE_TEXT_LEN + 2)	/* a shard symbol, a hyphen */
#define CODE_VALUE_BITS		60
#define CODE_VALUE_MASK		((INT64CONST(1) << CODE_VALUE_BITS) - 1)
#define CODE_CHECK_MODULUS	37

/* codes drawn per pg_strong_random() call: 8 KiB of randomness */
#define CODE_BATCH			1024

/* symbol values 0..31 are data and check symbols; 32..36 are check only */
static const char code_alphabet[CODE_CHECK_MODULUS + 1] =
"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

#define CODE_HINT \
	"A code looks like 7K3M-Q9XA-2BCD-S: twelve Crockford base-32 symbols and a check symbol; hyphens and spaces are ignored."

/* Value 0..36 of an input character (case-insensitive, I/L/O aliases), or -1 */
static inline int
CodeSymbolValue(char c)
{
	const char *p;

	c = pg_ascii_toupper((unsigned char) c);
	if (c == 'I' || c == 'L')
		c = '1';
	else if (c == 'O')
		c = '0';
	if (c == '\0' || (p = strchr(code_alphabet, c)) == NULL)
		return -1;
	return (int) (p - code_alphabet);
}

/* Is c a separator that input ignores? */
static inline bool
CodeIsSeparator(char c)
{
	return c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\f' || c == '\v';
}

/* Error unless the character at position pos (1-based) is a symbol */
static inline void
CheckCodeSymbol(const char *str, const char *p, int pos, int value)
{
	if (value < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type code: \"%s\"", str),
				 errdetail("Symbol \"%.*s\" at position %d is not a Crockford base-32 symbol.",
						   pg_mblen(p), p, pos),
				 errhint(CODE_HINT)));
}

/* Error unless the input holds exactly 12 data symbols and a check symbol */
static inline void
CheckCodeSymbolCount(const char *str, int nsymbols)
{
	if (nsymbols != CODE_SYMBOLS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type code: \"%s\"", str),
				 errdetail("Expected %d symbols, found %d.", CODE_SYMBOLS, nsymbols),
				 errhint(CODE_HINT)));
}

/* Error if a check-only symbol (* ~ $ = U) stands where data belongs */
static inline void
CheckCodeDataSymbol(const char *str, char c, int pos, int value)
{
	if (value >= 32)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type code: \"%s\"", str),
				 errdetail("Symbol \"%c\" at position %d may only be the check symbol.",
						   c, pos),
				 errhint(CODE_HINT)));
}

/* Error unless the check symbol matches the value */
static inline void
CheckCodeCheckSymbol(const char *str, uint64 value, int check)
{
	if (value % CODE_CHECK_MODULUS != check)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type code: \"%s\"", str),
				 errdetail("The check symbol does not match: the code has a typo."),
				 errhint(CODE_HINT)));
}

/* Error if the text names the reserved all-zero code */
static inline void
CheckCodeNonZero(const char *str, int64 value)
{
	if (value == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type code: \"%s\"", str),
				 errdetail("The all-zero code is reserved and never issued."),
				 errhint(CODE_HINT)));
}

/* Error unless a binary value is non-zero (the top 4 bits are a shard) */
static inline void
CheckCodeBinaryValue(int64 value)
{
	if (value == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external code value"),
				 errdetail("The all-zero code is reserved and never issued.")));
}

/* Fill codes[0..n-1] with fresh random codes, 8 KiB of randomness at a time */
static void
CodeFill(int64 *codes, int n)
{
	int			done = 0;
	int			shard = PlumShard();
	int64		stamp = shard > 0 ? (int64) ((uint64) shard << CODE_VALUE_BITS) : 0;

	while (done < n)
	{
		int			batch = Min(n - done, CODE_BATCH);

		CHECK_FOR_INTERRUPTS();

		if (!pg_strong_random(codes + done, batch * sizeof(int64)))
			elog(ERROR, "could not generate random bytes for a code");

		for (int i = done; i < done + batch; i++)
		{
			codes[i] &= CODE_VALUE_MASK;

			/* 0 is reserved: draw again (probability 2^-60 per code) */
			while (codes[i] == 0)
			{
				if (!pg_strong_random(&codes[i], sizeof(int64)))
					elog(ERROR, "could not generate random bytes for a code");
				codes[i] &= CODE_VALUE_MASK;
			}
			codes[i] |= stamp;
		}
		done += batch;
	}
}

/* One fresh random code */
static int64
CodeGenerate(void)
{
	int64		code;

	CodeFill(&code, 1);
	return code;
}

/* Canonical text of a code, XXXX-XXXX-XXXX-C, palloc'd */
char *
CodeToCString(int64 code)
{
	uint64		value = (uint64) code;
	int			n = (value & ~(uint64) CODE_VALUE_MASK) ? CODE_DATA_SYMBOLS + 1 : CODE_DATA_SYMBOLS;
	char	   *buf = palloc(CODE_SHARD_TEXT_LEN);
	char	   *p = buf;

	for (int i = 0; i < n; i++)
	{
		if (i > 0 && i % 4 == 0)
			*p++ = '-';
		*p++ = code_alphabet[(value >> (5 * (n - 1 - i))) & 31];
	}
	*p++ = '-';
	*p++ = code_alphabet[value % CODE_CHECK_MODULUS];
	*p = '\0';
	return buf;
}

PG_FUNCTION_INFO_V1(plum_code_in);
/* Text input: 12 Crockford symbols and a check symbol, separators ignored */
Datum
plum_code_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int			values[CODE_SYMBOLS + 1] = {0};
	char		symbols[CODE_SYMBOLS + 1] = {0};
	int			positions[CODE_SYMBOLS + 1] = {0};
	int			nsymbols = 0;
	int			ndata;
	int			pos = 0;
	uint64		value = 0;

	for (const char *p = str; *p != '\0'; p += pg_mblen(p))
	{
		int			v;

		pos++;
		if (CodeIsSeparator(*p))
			continue;

		v = IS_HIGHBIT_SET(*p) ? -1 : CodeSymbolValue(*p);
		CheckCodeSymbol(str, p, pos, v);

		if (nsymbols < CODE_SYMBOLS + 1)
		{
			values[nsymbols] = v;
			symbols[nsymbols] = *p;
			positions[nsymbols] = pos;
		}
		nsymbols++;
	}

	/*
	 * A shard's code: one more symbol first, its shard 1..15.  Fourteen
	 * symbols that are not a valid shard's code get the single server's
	 * error (13 symbols expected).
	 */
	if (nsymbols == CODE_SYMBOLS + 1 && values[0] >= 1 && values[0] <= 15)
	{
		ndata = CODE_DATA_SYMBOLS + 1;
		for (int i = 0; i < ndata; i++)
		{
			if (values[i] >= 32)
				CheckCodeSymbolCount(str, nsymbols);
			value = (value << 5) | (uint64) values[i];
		}
		if (value % CODE_CHECK_MODULUS != (uint64) values[ndata])
			CheckCodeSymbolCount(str, nsymbols);
		PG_RETURN_PLUMCODE((int64) value);
	}
	CheckCodeSymbolCount(str, nsymbols);
	ndata = CODE_DATA_SYMBOLS;

	for (int i = 0; i < ndata; i++)
	{
		CheckCodeDataSymbol(str, symbols[i], positions[i], values[i]);
		value = (value << 5) | (uint64) values[i];
	}

	CheckCodeCheckSymbol(str, value, values[ndata]);
	CheckCodeNonZero(str, (int64) value);

	PG_RETURN_PLUMCODE((int64) value);
}

PG_FUNCTION_INFO_V1(plum_code_out);
/* Text output: the canonical form */
Datum
plum_code_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(CodeToCString(PG_GETARG_PLUMCODE(0)));
}

PG_FUNCTION_INFO_V1(plum_code_recv);
/* Binary input: a big-endian int64, validated like text input */
Datum
plum_code_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int64		value = pq_getmsgint64(buf);

	CheckCodeBinaryValue(value);
	PG_RETURN_PLUMCODE(value);
}

PG_FUNCTION_INFO_V1(plum_code_send);
/* Binary output: a big-endian int64 */
Datum
plum_code_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, PG_GETARG_PLUMCODE(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Three-way comparison of two codes */
static inline int
CodeCmp(int64 a, int64 b)
{
	return (a > b) - (a < b);
}

PG_FUNCTION_INFO_V1(plum_code_eq);
/* Operator = */
Datum
plum_code_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_PLUMCODE(0) == PG_GETARG_PLUMCODE(1));
}

PG_FUNCTION_INFO_V1(plum_code_ne);
/* Operator <> */
Datum
plum_code_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_PLUMCODE(0) != PG_GETARG_PLUMCODE(1));
}

PG_FUNCTION_INFO_V1(plum_code_lt);
/* Operator < */
Datum
plum_code_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_PLUMCODE(0) < PG_GETARG_PLUMCODE(1));
}

PG_FUNCTION_INFO_V1(plum_code_le);
/* Operator <= */
Datum
plum_code_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_PLUMCODE(0) <= PG_GETARG_PLUMCODE(1));
}

PG_FUNCTION_INFO_V1(plum_code_gt);
/* Operator > */
Datum
plum_code_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_PLUMCODE(0) > PG_GETARG_PLUMCODE(1));
}

PG_FUNCTION_INFO_V1(plum_code_ge);
/* Operator >= */
Datum
plum_code_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_PLUMCODE(0) >= PG_GETARG_PLUMCODE(1));
}

PG_FUNCTION_INFO_V1(plum_code_cmp);
/* Btree support 1: -1, 0 or 1 */
Datum
plum_code_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(CodeCmp(PG_GETARG_PLUMCODE(0), PG_GETARG_PLUMCODE(1)));
}

PG_FUNCTION_INFO_V1(plum_code_sortsupport);
/* Btree support 2: sort codes as signed 64-bit Datums (abbreviation-free) */
Datum
plum_code_sortsupport(PG_FUNCTION_ARGS)
{
	SortSupport ssup = (SortSupport) PG_GETARG_POINTER(0);

	ssup->comparator = ssup_datum_signed_cmp;
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(plum_code_hash);
/* Hash support 1: the same hash as int8 */
Datum
plum_code_hash(PG_FUNCTION_ARGS)
{
	int64		value = PG_GETARG_PLUMCODE(0);
	uint32		lohalf = (uint32) value;
	uint32		hihalf = (uint32) (value >> 32);

	/* codes are non-negative, so this is hashint8's folding */
	return hash_uint32(lohalf ^ hihalf);
}

PG_FUNCTION_INFO_V1(plum_code_hash_extended);
/* Hash support 2: the same seeded 64-bit hash as int8 */
Datum
plum_code_hash_extended(PG_FUNCTION_ARGS)
{
	int64		value = PG_GETARG_PLUMCODE(0);
	uint32		lohalf = (uint32) value;
	uint32		hihalf = (uint32) (value >> 32);

	return hash_uint32_extended(lohalf ^ hihalf, PG_GETARG_INT64(1));
}

PG_FUNCTION_INFO_V1(plum_code_shard);
/* SQL: plum_internal.code_shard(code), the shard in the code's 4 high bits (0 on a single server) */
Datum
plum_code_shard(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) ((uint64) PG_GETARG_PLUMCODE(0) >> CODE_VALUE_BITS));
}

PG_FUNCTION_INFO_V1(plum_code_random);
/* SQL: plum.code_random(), one fresh random code */
Datum
plum_code_random(PG_FUNCTION_ARGS)
{
	PG_RETURN_PLUMCODE(CodeGenerate());
}

/* State of one plum.code_random(n) scan */
typedef struct CodeRandomState
{
	int			filled;			/* codes in buf */
	int			next;			/* next code of buf to return */
	int64		buf[CODE_BATCH];
} CodeRandomState;

/* Error unless n is a usable number of codes */
static inline void
CheckCodeCount(int32 n)
{
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of codes must not be negative"),
				 errdetail("Asked for %d codes.", n)));
}

PG_FUNCTION_INFO_V1(plum_code_random_n);
/* SQL: plum.code_random(n), n fresh random codes */
Datum
plum_code_random_n(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	CodeRandomState *state;

	if (SRF_IS_FIRSTCALL())
	{
		int32		n = PG_GETARG_INT32(0);

		CheckCodeCount(n);
		funcctx = SRF_FIRSTCALL_INIT();
		funcctx->max_calls = n;
		state = MemoryContextAllocZero(funcctx->multi_call_memory_ctx,
									   sizeof(CodeRandomState));
		funcctx->user_fctx = state;
	}

	funcctx = SRF_PERCALL_SETUP();
	state = (CodeRandomState *) funcctx->user_fctx;

	CHECK_FOR_INTERRUPTS();

	if (funcctx->call_cntr >= funcctx->max_calls)
		SRF_RETURN_DONE(funcctx);

	if (state->next == state->filled)
	{
		state->filled = (int) Min(funcctx->max_calls - funcctx->call_cntr,
								  (uint64) CODE_BATCH);
		CodeFill(state->buf, state->filled);
		state->next = 0;
	}

	SRF_RETURN_NEXT(funcctx, PlumCodeGetDatum(state->buf[state->next++]));
}
