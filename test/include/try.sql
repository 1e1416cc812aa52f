-- pg_temp.try(sql): run a statement and return 'ok', or its SQLSTATE, message and detail
-- (the regression tests' way of showing a refusal on one line). Included with \i by test/sql/*.sql.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_detail text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(v_detail, ''), '');
END
$$;
