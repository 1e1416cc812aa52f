/*
 * links.c — reward link tokens.
 *
 * A link token is 24 bytes (192 bits) from pg_strong_random(), written as
 * 32 characters of unpadded base64url (RFC 4648, section 5): the alphabet
 * A-Z a-z 0-9 - _, so a token needs no escaping in a URL, a path or a query
 * string.  24 bytes are exactly 32 symbols, so there is no padding and every
 * symbol carries 6 random bits.
 */
#include "plum.h"

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

	if (!pg_strong_random(bytes, sizeof(bytes)))
		elog(ERROR, "could not generate a random link token");
	LinkTokenEncode(bytes, token);
	explicit_bzero(bytes, sizeof(bytes));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(token, LINK_TOKEN_CHARS));
}
