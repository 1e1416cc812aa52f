-- The clock and exact money checks, shared by every plum function.

-- @api
CREATE FUNCTION plum.now() RETURNS timestamptz
	LANGUAGE C STABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_now';
COMMENT ON FUNCTION plum.now() IS
	'plum''s clock: the setting plum.now when set (superuser only), else the transaction timestamp. Every plum function reads the time here.';

CREATE FUNCTION plum_internal.check_amount(amount numeric, scale integer, what text DEFAULT 'amount') RETURNS bigint
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_check_amount';
COMMENT ON FUNCTION plum_internal.check_amount(numeric, integer, text) IS
	'The amount in minor units of a currency with the given decimals; refuses NULL (22004), NaN, infinities, zero, negatives and too many decimals (PU008).';

-- Raise a plum error from SQL with a message, detail and hint (internal helper), in C
-- (src/errors.c): no CONTEXT names plum's internals (the helper, its line, the caller's statement).
CREATE FUNCTION plum_internal.raise(sqlstate text, message text, detail text DEFAULT NULL, hint text DEFAULT NULL) RETURNS void
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'plum_raise';
COMMENT ON FUNCTION plum_internal.raise(text, text, text, text) IS
	'Internal: raise an error with a SQLSTATE, message, detail and hint, without a CONTEXT.';

-- Refuse a NULL argument with SQLSTATE 22004 (internal helper).
CREATE FUNCTION plum_internal.not_null(value anyelement, name text) RETURNS anyelement
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF value IS NULL THEN
		PERFORM plum_internal.raise('22004', format('%s must not be null', name));
	END IF;
	RETURN value;
END
$$;
COMMENT ON FUNCTION plum_internal.not_null(anyelement, text) IS
	'Internal: the value, or SQLSTATE 22004 when it is NULL.';

-- Trim a name of every whitespace character at both ends: ASCII blanks and controls, and in a
-- UTF-8 database Unicode's White_Space (no-break, ideographic, line and paragraph separators...)
-- plus the zero-width space and the byte order mark (internal helper).
CREATE FUNCTION plum_internal.trim_name(name text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN btrim(name, E' \t\n\r\v\f' || CASE WHEN getdatabaseencoding() = 'UTF8' THEN
		chr(133) || chr(160) || chr(5760) || chr(8192) || chr(8193) || chr(8194) || chr(8195) || chr(8196) ||
		chr(8197) || chr(8198) || chr(8199) || chr(8200) || chr(8201) || chr(8202) || chr(8203) || chr(8232) ||
		chr(8233) || chr(8239) || chr(8287) || chr(12288) || chr(65279) ELSE '' END);
COMMENT ON FUNCTION plum_internal.trim_name(text) IS
	'Internal: the name without whitespace at either end (tabs, newlines, no-break and other Unicode spaces, zero-width space, BOM), not only spaces.';

REVOKE EXECUTE ON FUNCTION
	plum_internal.trim_name(text),
	plum_internal.check_amount(numeric, integer, text),
	plum_internal.raise(text, text, text, text),
	plum_internal.not_null(anyelement, text)
	FROM PUBLIC;
