/*
 * errors.c — plum_internal.raise(): the error of a refusal made in SQL, with
 * its SQLSTATE, message, detail and hint, and no CONTEXT.
 *
 * A refusal raised from PL/pgSQL carries a CONTEXT naming plum's internals
 * (the helper, its line, the caller's statement text).  This ereport runs with
 * error_context_stack emptied, so no context callback adds anything: the
 * client sees what plum says and nothing of how it is built.  PG_TRY restores
 * the stack for the code that catches the error.
 */
#include "plum.h"

#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(plum_raise);

/* A SQLSTATE as text (five of 0-9 A-Z) to its code; 22023 when it is not one */
static int
SqlStateCode(const char *s)
{
	int			i;

	for (i = 0; i < 5; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			break;
	if (i < 5 || s[5] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid SQLSTATE \"%s\"", s),
				 errdetail("A SQLSTATE is five characters among 0-9 and A-Z.")));
	return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

/* plum_internal.raise(sqlstate, message, detail DEFAULT NULL, hint DEFAULT NULL) RETURNS void */
Datum
plum_raise(PG_FUNCTION_ARGS)
{
	int			code;
	char	   *message;
	char	   *detail = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *hint = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	ErrorContextCallback *saved = error_context_stack;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", PG_ARGISNULL(0) ? "sqlstate" : "message")));
	code = SqlStateCode(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	message = text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_TRY();
	{
		error_context_stack = NULL;
		ereport(ERROR,
				(errcode(code),
				 errmsg_internal("%s", message),
				 detail ? errdetail_internal("%s", detail) : 0,
				 hint ? errhint("%s", hint) : 0));
	}
	PG_CATCH();
	{
		error_context_stack = saved;
		PG_RE_THROW();
	}
	PG_END_TRY();
	PG_RETURN_VOID();
}
