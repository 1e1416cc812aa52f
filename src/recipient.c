/*
 * recipient.c — plum.recipient, an end user known by an email address or a
 * mobile number.
 *
 * A recipient is stored in its normalised form only: an email address
 * trimmed and lower-cased, or a phone number in E.164 ("+" and 8 to 15
 * digits).  Equal recipients therefore have equal bytes, so comparison and
 * hashing are plain byte-wise operations: deterministic, collation-free and
 * fast.  The datum is a varlena holding the ASCII text without a trailing
 * NUL, exactly like text.
 *
 * Input and binary receive share one normaliser.  Every value it refuses is
 * reported as 22P02 (invalid_text_representation), whichever way it came
 * in; recipient_recv additionally refuses a valid value that the client did
 * not send in its normalised form, with 22P03 (invalid_binary_representation),
 * because a binary value is expected to be the exact output of
 * recipient_send.
 */
#include "recipient.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

/* RFC 5321 limits, as practical upper bounds */
#define RECIPIENT_MAX_LOCAL		64
#define RECIPIENT_MAX_DOMAIN	255
#define RECIPIENT_MAX_LABEL		63
#define RECIPIENT_MAX_EMAIL		254

/* E.164: at most 15 digits; plum also asks for at least 8 */
#define RECIPIENT_MIN_DIGITS	8
#define RECIPIENT_MAX_DIGITS	15

#define RECIPIENT_HINT_ANY \
	"A recipient is an email address such as alice@example.com or an international phone number such as +14155550100."
#define RECIPIENT_HINT_EMAIL \
	"An email address looks like alice@example.com."
#define RECIPIENT_HINT_PHONE \
	"A phone number is international: \"+\" or \"00\", the country code and the number, such as +14155550100 or +1 (415) 555-0100."

/* Raise 22P02 for the input str with a detail and a hint */
static void
RecipientSyntaxError(const char *str, const char *hint, const char *fmt,...)
pg_attribute_printf(3, 4) pg_attribute_noreturn();

/* Raise 22P02 for the input str with a detail and a hint */
static void
RecipientSyntaxError(const char *str, const char *hint, const char *fmt,...)
{
	char		detail[512];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(detail, sizeof(detail), fmt, args);
	va_end(args);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", "recipient", str),
			 errdetail_internal("%s", detail),
			 errhint("%s", hint)));
	pg_unreachable();
}

/* Is c one of the whitespace characters trimmed around a recipient? */
static inline bool
IsRecipientSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

/* Describe a character for an error detail: "x", a space, or a control byte */
static char *
DescribeChar(char c)
{
	if (c == ' ')
		return pstrdup("a space");
	if (IsRecipientSpace(c))
		return pstrdup("whitespace");
	if ((unsigned char) c < 0x20 || c == 0x7f)
		return psprintf("the control character 0x%02X", (unsigned char) c);
	if (c == '"')
		return pstrdup("the character '\"'");
	return psprintf("the character \"%c\"", c);
}

/* May c appear in the local part of an email address? */
static inline bool
IsLocalChar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') ||
		(c != '\0' && strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL);
}

/* May c appear in a domain label? */
static inline bool
IsLabelChar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-';
}

/* Refuse a value with a byte outside ASCII */
static inline void
CheckAscii(const char *str, const char *s, int len, bool email)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		if (IS_HIGHBIT_SET(s[i]))
			RecipientSyntaxError(str,
								 email ?
								 "Write the address in ASCII; an internationalised domain goes in its punycode form, such as alice@xn--bcher-kva.example." :
								 RECIPIENT_HINT_PHONE,
								 "The value contains a non-ASCII character; a recipient is an ASCII email address or phone number.");
	}
}

/* Refuse an email local part (before the "@") that plum does not accept */
static inline void
CheckLocalPart(const char *str, const char *s, int len)
{
	int			i;

	if (len == 0)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The email address has nothing before the \"@\".");
	if (len > RECIPIENT_MAX_LOCAL)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The part before the \"@\" is %d bytes long; the limit is %d.",
							 len, RECIPIENT_MAX_LOCAL);
	for (i = 0; i < len; i++)
	{
		if (!IsLocalChar(s[i]))
			RecipientSyntaxError(str,
								 "Before the \"@\", an email address may use letters, digits and !#$%&'*+/=?^_`{|}~.- only.",
								 "The part before the \"@\" contains %s.", DescribeChar(s[i]));
	}
	if (s[0] == '.' || s[len - 1] == '.')
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The part before the \"@\" %s with a dot.",
							 s[0] == '.' ? "starts" : "ends");
	for (i = 1; i < len; i++)
	{
		if (s[i] == '.' && s[i - 1] == '.')
			RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
								 "The part before the \"@\" contains two consecutive dots.");
	}
}

/* Refuse one domain label (between dots) that is not a valid host name label */
static inline void
CheckLabel(const char *str, const char *s, int len, bool last)
{
	int			i;
	bool		digits_only = true;

	if (len == 0)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The domain has an empty label: it starts or ends with a dot, or has two dots in a row.");
	if (len > RECIPIENT_MAX_LABEL)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "A label of the domain is %d bytes long; the limit is %d.",
							 len, RECIPIENT_MAX_LABEL);
	for (i = 0; i < len; i++)
	{
		if (!IsLabelChar(s[i]))
			RecipientSyntaxError(str,
								 "A domain name may use letters, digits, hyphens and dots only.",
								 "The domain contains %s.", DescribeChar(s[i]));
		if (s[i] < '0' || s[i] > '9')
			digits_only = false;
	}
	if (s[0] == '-' || s[len - 1] == '-')
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "A label of the domain %s with a hyphen.",
							 s[0] == '-' ? "starts" : "ends");
	if (last && digits_only)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The top-level domain \"%.*s\" is all digits; the domain must be a name, not an address.",
							 len, s);
}

/* Refuse an email domain (after the "@") that plum does not accept */
static inline void
CheckDomain(const char *str, const char *s, int len)
{
	int			start = 0;
	bool		has_dot = false;
	int			i;

	for (i = 0; i < len; i++)
		if (s[i] == '.')
			has_dot = true;
	if (len == 0)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The email address has nothing after the \"@\".");
	if (len > RECIPIENT_MAX_DOMAIN)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The part after the \"@\" is %d bytes long; the limit is %d.",
							 len, RECIPIENT_MAX_DOMAIN);
	if (!has_dot)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The domain \"%.*s\" has no dot; it must be a full domain name such as example.com.",
							 len, s);
	for (i = 0; i <= len; i++)
	{
		if (i == len || s[i] == '.')
		{
			CheckLabel(str, s + start, i - start, i == len);
			start = i + 1;
		}
	}
}

/* Validate an email address and return it lower-cased (palloc'd, not NUL-terminated) */
static char *
NormaliseEmail(const char *str, const char *s, int len, int *outlen)
{
	int			local_len = -1;
	int			ats = 0;
	char	   *result;
	int			i;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '@')
		{
			if (ats++ == 0)
				local_len = i;
		}
	}
	Assert(ats > 0);
	if (ats > 1)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The email address contains %d \"@\" characters; it must contain exactly one.",
							 ats);

	CheckLocalPart(str, s, local_len);
	CheckDomain(str, s + local_len + 1, len - local_len - 1);
	if (len > RECIPIENT_MAX_EMAIL)
		RecipientSyntaxError(str, RECIPIENT_HINT_EMAIL,
							 "The email address is %d bytes long; the limit is %d.",
							 len, RECIPIENT_MAX_EMAIL);

	result = palloc(len);
	for (i = 0; i < len; i++)
		result[i] = pg_ascii_tolower((unsigned char) s[i]);
	*outlen = len;
	return result;
}

/* Is c a separator allowed between the digits of a phone number? */
static inline bool
IsPhoneSeparator(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/* Refuse a phone number without the international prefix; return the prefix's length */
static inline int
CheckPhonePrefix(const char *str, const char *s, int len)
{
	bool		phone_like = true;
	int			i;

	if (len >= 1 && s[0] == '+')
		return 1;
	if (len >= 2 && s[0] == '0' && s[1] == '0')
		return 2;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || IsPhoneSeparator(s[i])))
			phone_like = false;
	if (phone_like)
		RecipientSyntaxError(str, RECIPIENT_HINT_PHONE,
							 "The phone number does not start with \"+\" or \"00\"; it must be international.");
	RecipientSyntaxError(str, RECIPIENT_HINT_ANY,
						 "The value is not an email address (it has no \"@\") and not a phone number (it does not start with \"+\" or \"00\").");
}

/* Refuse a character of a phone number that is neither a digit nor a separator */
static inline void
CheckPhoneChar(const char *str, char c)
{
	if (!(c >= '0' && c <= '9') && !IsPhoneSeparator(c))
		RecipientSyntaxError(str,
							 "After the \"+\", a phone number may use digits, spaces and the separators - . ( ) only, such as +1 (415) 555-0100.",
							 "The phone number contains %s.", DescribeChar(c));
}

/* Refuse a phone number whose digits are not a plausible E.164 number */
static inline void
CheckPhoneDigits(const char *str, int ndigits, char first)
{
	if (ndigits > 0 && first == '0')
		RecipientSyntaxError(str, RECIPIENT_HINT_PHONE,
							 "The country code starts with 0 after the international prefix.");
	if (ndigits < RECIPIENT_MIN_DIGITS || ndigits > RECIPIENT_MAX_DIGITS)
		RecipientSyntaxError(str, RECIPIENT_HINT_PHONE,
							 "The phone number has %d digit%s; it must have %d to %d, country code included.",
							 ndigits, ndigits == 1 ? "" : "s",
							 RECIPIENT_MIN_DIGITS, RECIPIENT_MAX_DIGITS);
}

/* Validate a phone number and return it in E.164 form (palloc'd, not NUL-terminated) */
static char *
NormalisePhone(const char *str, const char *s, int len, int *outlen)
{
	char		digits[RECIPIENT_MAX_DIGITS] = {0};
	int			ndigits = 0;
	bool		grouped = false;	/* the digits so far are not one group */
	bool		gap = false;		/* a separator since the last digit */
	int			i;
	char	   *result;

	for (i = CheckPhonePrefix(str, s, len); i < len; i++)
	{
		/*
		 * A national trunk prefix "(0)" right after the country code (the
		 * first 1 to 3 digits, written together), as in +44 (0)20 7946 0958,
		 * is not dialled from abroad: it is dropped.  Elsewhere "(0)" is a 0.
		 */
		if (s[i] == '(' && !grouped && ndigits >= 1 && ndigits <= 3 &&
			i + 2 < len && s[i + 1] == '0' && s[i + 2] == ')')
		{
			grouped = true;
			i += 2;
			continue;
		}
		CheckPhoneChar(str, s[i]);
		if (ndigits > 0 && IsPhoneSeparator(s[i]))
			gap = true;
		else if (gap)
			grouped = true;
		if (s[i] >= '0' && s[i] <= '9')
		{
			if (ndigits < RECIPIENT_MAX_DIGITS)
				digits[ndigits] = s[i];
			ndigits++;
		}
	}
	CheckPhoneDigits(str, ndigits, ndigits > 0 ? digits[0] : '\0');

	result = palloc(ndigits + 1);
	result[0] = '+';
	memcpy(result + 1, digits, ndigits);
	*outlen = ndigits + 1;
	return result;
}

/* Validate and normalise the text form str; return a new recipient datum */
static PlumRecipient *
NormaliseRecipient(const char *str)
{
	const char *s = str;
	size_t		len = strlen(str);
	bool		email;
	char	   *norm;
	int			normlen;
	PlumRecipient *result;

	while (len > 0 && IsRecipientSpace(s[0]))
	{
		s++;
		len--;
	}
	while (len > 0 && IsRecipientSpace(s[len - 1]))
		len--;

	if (len == 0)
		RecipientSyntaxError(str, RECIPIENT_HINT_ANY,
							 "The value is empty or only whitespace.");

	/* a value with an "@" is an email address, any other a phone number */
	email = memchr(s, '@', len) != NULL;
	CheckAscii(str, s, (int) len, email);
	if (email)
		norm = NormaliseEmail(str, s, (int) len, &normlen);
	else
		norm = NormalisePhone(str, s, (int) len, &normlen);

	result = (PlumRecipient *) palloc(VARHDRSZ + normlen);
	SET_VARSIZE(result, VARHDRSZ + normlen);
	memcpy(VARDATA(result), norm, normlen);
	pfree(norm);
	return result;
}

/* Return a palloc'd NUL-terminated copy of the normalised recipient */
char *
RecipientToCString(PlumRecipient *r)
{
	return text_to_cstring((text *) r);
}

PG_FUNCTION_INFO_V1(plum_recipient_in);
/* Convert text form to a recipient, normalising it */
Datum
plum_recipient_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);

	PG_RETURN_POINTER(NormaliseRecipient(str));
}

PG_FUNCTION_INFO_V1(plum_recipient_out);
/* Convert a recipient to its (normalised) text form */
Datum
plum_recipient_out(PG_FUNCTION_ARGS)
{
	PlumRecipient *r = PG_GETARG_PLUMRECIPIENT_PP(0);

	PG_RETURN_CSTRING(RecipientToCString(r));
}

PG_FUNCTION_INFO_V1(plum_recipient_recv);
/* Convert the binary form (the normalised text) to a recipient, validating like input */
Datum
plum_recipient_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			nbytes;
	char	   *str;
	PlumRecipient *result;

	str = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	if (memchr(str, '\0', nbytes) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external recipient value"),
				 errdetail("The value contains a NUL byte.")));

	result = NormaliseRecipient(str);
	if (VARSIZE(result) - VARHDRSZ != nbytes ||
		memcmp(VARDATA(result), str, nbytes) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external recipient value"),
				 errdetail("The binary form must be normalised: received \"%s\", expected \"%s\".",
						   str, RecipientToCString(result)),
				 errhint("Send the output of recipient_send, or use the text format.")));
	PG_RETURN_POINTER(result);
}

PG_FUNCTION_INFO_V1(plum_recipient_send);
/* Convert a recipient to its binary form: the normalised text */
Datum
plum_recipient_send(PG_FUNCTION_ARGS)
{
	PlumRecipient *r = PG_GETARG_PLUMRECIPIENT_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendtext(&buf, VARDATA_ANY(r), VARSIZE_ANY_EXHDR(r));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Compare two recipients byte-wise: memcmp, then length (recipient.h) */
int
RecipientCmp(PlumRecipient *a, PlumRecipient *b)
{
	int			alen = VARSIZE_ANY_EXHDR(a);
	int			blen = VARSIZE_ANY_EXHDR(b);
	int			cmp;

	cmp = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(alen, blen));
	if (cmp != 0)
		return cmp < 0 ? -1 : 1;
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return 0;
}

/* Compare arguments 0 and 1 of fcinfo, freeing detoasted copies */
static int
RecipientCmpArgs(FunctionCallInfo fcinfo)
{
	PlumRecipient *a = PG_GETARG_PLUMRECIPIENT_PP(0);
	PlumRecipient *b = PG_GETARG_PLUMRECIPIENT_PP(1);
	int			cmp = RecipientCmp(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return cmp;
}

PG_FUNCTION_INFO_V1(plum_recipient_eq);
/* a = b */
Datum
plum_recipient_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(RecipientCmpArgs(fcinfo) == 0);
}

PG_FUNCTION_INFO_V1(plum_recipient_ne);
/* a <> b */
Datum
plum_recipient_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(RecipientCmpArgs(fcinfo) != 0);
}

PG_FUNCTION_INFO_V1(plum_recipient_lt);
/* a < b */
Datum
plum_recipient_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(RecipientCmpArgs(fcinfo) < 0);
}

PG_FUNCTION_INFO_V1(plum_recipient_le);
/* a <= b */
Datum
plum_recipient_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(RecipientCmpArgs(fcinfo) <= 0);
}

PG_FUNCTION_INFO_V1(plum_recipient_gt);
/* a > b */
Datum
plum_recipient_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(RecipientCmpArgs(fcinfo) > 0);
}

PG_FUNCTION_INFO_V1(plum_recipient_ge);
/* a >= b */
Datum
plum_recipient_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(RecipientCmpArgs(fcinfo) >= 0);
}

PG_FUNCTION_INFO_V1(plum_recipient_cmp);
/* btree support: -1, 0 or 1 */
Datum
plum_recipient_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RecipientCmpArgs(fcinfo));
}

PG_FUNCTION_INFO_V1(plum_recipient_hash);
/* hash support: 32-bit hash of the normalised bytes */
Datum
plum_recipient_hash(PG_FUNCTION_ARGS)
{
	PlumRecipient *r = PG_GETARG_PLUMRECIPIENT_PP(0);
	Datum		result;

	result = hash_any((unsigned char *) VARDATA_ANY(r), VARSIZE_ANY_EXHDR(r));
	PG_FREE_IF_COPY(r, 0);
	return result;
}

PG_FUNCTION_INFO_V1(plum_recipient_hash_extended);
/* hash support: seeded 64-bit hash of the normalised bytes */
Datum
plum_recipient_hash_extended(PG_FUNCTION_ARGS)
{
	PlumRecipient *r = PG_GETARG_PLUMRECIPIENT_PP(0);
	Datum		result;

	result = hash_any_extended((unsigned char *) VARDATA_ANY(r),
							   VARSIZE_ANY_EXHDR(r), PG_GETARG_INT64(1));
	PG_FREE_IF_COPY(r, 0);
	return result;
}

PG_FUNCTION_INFO_V1(plum_recipient_kind);
/* 'email' or 'phone': an email address is the kind that has an "@" */
Datum
plum_recipient_kind(PG_FUNCTION_ARGS)
{
	PlumRecipient *r = PG_GETARG_PLUMRECIPIENT_PP(0);
	bool		email = memchr(VARDATA_ANY(r), '@', VARSIZE_ANY_EXHDR(r)) != NULL;

	PG_FREE_IF_COPY(r, 0);
	PG_RETURN_TEXT_P(cstring_to_text(email ? "email" : "phone"));
}
