-- Messages of the outbox (SPEC, "Distribution"): the channels and their destinations, and the
-- templates every delivery renders ({{name}}, {{amount}}, {{code}}, {{link}}, {{expires_at}}, ...).
-- Used by sql/80_distribute.sql and sql/81_outbox.sql.

-- @api
-- The channels, checked with a clear error (22023).
CREATE FUNCTION plum_internal.check_channel(channel text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.not_null(channel, 'channel');
	IF channel NOT IN ('email', 'sms', 'whatsapp', 'qr', 'on_screen', 'api') THEN
		PERFORM plum_internal.raise('22023', format('unknown channel "%s"', channel), NULL,
			'The channels are email, sms, whatsapp, qr, on_screen and api.');
	END IF;
	RETURN channel;
END
$$;
COMMENT ON FUNCTION plum_internal.check_channel(text) IS
	'Internal: the channel, or 22004 when NULL and 22023 when it is not email, sms, whatsapp, qr, on_screen or api.';

-- A destination that fits its channel, normalised (22023 otherwise).
CREATE FUNCTION plum_internal.check_destination(channel text, destination text, what text DEFAULT 'destination') RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_r plum.recipient;
	v_want text := CASE WHEN channel = 'email' THEN 'email' WHEN channel IN ('sms', 'whatsapp') THEN 'phone' END;
BEGIN
	IF destination IS NULL THEN
		PERFORM plum_internal.raise('22004', format('%s must not be null', what));
	END IF;
	IF v_want IS NULL THEN
		IF plum_internal.trim_name(destination) = '' THEN
			PERFORM plum_internal.raise('22023', format('%s must not be empty', what), NULL,
				format('A %s destination is the application''s id for the recipient (a session, user or screen id).', channel));
		END IF;
		RETURN destination;
	END IF;
	BEGIN
		v_r := destination::plum.recipient;
	EXCEPTION WHEN invalid_text_representation THEN
		v_r := NULL;
	END;
	IF v_r IS NULL OR plum.recipient_kind(v_r) <> v_want THEN
		PERFORM plum_internal.raise('22023', format('%s does not fit channel %s', what, channel),
			format('"%s" is not %s.', destination, CASE v_want WHEN 'email' THEN 'an email address' ELSE 'a mobile phone number' END),
			CASE v_want WHEN 'email' THEN 'An email delivery goes to an email address.'
				ELSE 'SMS and WhatsApp deliveries go to a phone number in international form, e.g. +14155550100.' END);
	END IF;
	RETURN v_r::text;
END
$$;
COMMENT ON FUNCTION plum_internal.check_destination(text, text, text) IS
	'Internal: the destination normalised for its channel (email: an email address; sms, whatsapp: an E.164 phone; others: any non-empty text), else 22023.';

-- A timestamp in messages: UTC, minutes, whatever the session's TimeZone and DateStyle.
-- message_time() and message_fields() have no SET clause so that they inline into the bulk
-- queries that call them once per delivery (a SET costs more than the function); they are not
-- SECURITY DEFINER and call only pg_catalog and plum, schema-qualified.
CREATE FUNCTION plum_internal.message_time(at timestamptz) RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN pg_catalog.to_char(pg_catalog.timezone('UTC', at), 'YYYY-MM-DD HH24:MI') || ' UTC';
COMMENT ON FUNCTION plum_internal.message_time(timestamptz) IS
	'Internal: a timestamp as messages show it (YYYY-MM-DD HH24:MI UTC).';

-- The template fields of one delivery: the caller's vars, then plum's own fields over them.
-- A field that does not apply to this delivery is a JSON null (rendering it is refused).
CREATE FUNCTION plum_internal.message_fields(company plum_internal.company, amount numeric, code text, link text,
		expires_at timestamptz, never_expires boolean, vars jsonb)
	RETURNS jsonb
	LANGUAGE sql STABLE
	RETURN vars || pg_catalog.jsonb_build_object(
		'name', vars -> 'name',
		'amount', pg_catalog.round(amount, (company).scale)::text || ' ' || (company).base_currency,
		'code', code,
		'link', COALESCE(vars ->> 'link_base', '') || link,
		'expires_at', CASE WHEN never_expires THEN 'never' ELSE plum_internal.message_time(expires_at) END,
		'currency', (company).base_currency,
		'company', (company).name);
COMMENT ON FUNCTION plum_internal.message_fields(plum_internal.company, numeric, text, text, timestamptz, boolean, jsonb) IS
	'Internal: the template fields of a delivery as a JSON object (name, amount with currency, code, link with vars->>''link_base'', expires_at in UTC, currency, company, and every key of vars).';

-- Render a template: {{field}} (spaces allowed inside the braces) is replaced by the field's value,
-- in one pass (the fields and the text between them are split out by one regular expression each,
-- so values are never expanded again and the time is linear in the template). 22023 for a
-- template over 64 kB or with more than 1,000 fields, an unknown field, or one that has no value
-- for this delivery.
CREATE FUNCTION plum_internal.render_message(template text, fields jsonb, what text DEFAULT 'delivery') RETURNS text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_names text[] := '{}';
	v_name text;
	v_rest text := template;
	v_open integer;
	v_close integer;
	v_out text := '';
BEGIN
	IF octet_length(template) > 65536 THEN
		PERFORM plum_internal.raise('22023', 'template too long',
			format('The template is %s bytes; a template has at most 65536 (64 kB).', octet_length(template)));
	END IF;
	IF octet_length(template) <= 4096 THEN
		-- a short template (every message in practice): a scan is cheapest, and bounded (4 kB)
		LOOP
			v_open := strpos(v_rest, '{{');
			EXIT WHEN v_open = 0;
			v_close := strpos(substr(v_rest, v_open + 2), '}}');
			EXIT WHEN v_close = 0;
			v_name := btrim(substr(v_rest, v_open + 2, v_close - 1));
			v_names := v_names || v_name;
			-- the checks below, for this field, then its value
			IF fields ->> v_name IS NULL THEN
				EXIT;
			END IF;
			v_out := v_out || left(v_rest, v_open - 1) || (fields ->> v_name);
			v_rest := substr(v_rest, v_open + v_close + 3);
		END LOOP;
		IF v_open = 0 OR v_close = 0 THEN
			RETURN v_out || v_rest;
		END IF;
		-- a field without a value: refused below with the same errors
		v_names := ARRAY[v_name];
	ELSE
		v_names := ARRAY(SELECT btrim(m[1]) FROM regexp_matches(template, '\{\{(.*?)\}\}', 'g') AS m);
	END IF;
	IF cardinality(v_names) > 1000 THEN
		PERFORM plum_internal.raise('22023', 'too many template fields',
			format('The template has %s fields; a template has at most 1000.', cardinality(v_names)));
	END IF;
	FOREACH v_name IN ARRAY v_names LOOP
		IF NOT fields ? v_name THEN
			PERFORM plum_internal.raise('22023', format('unknown template field "{{%s}}"', v_name),
				'The fields are {{name}}, {{amount}}, {{code}}, {{link}}, {{expires_at}}, {{currency}}, {{company}} and the keys of vars.',
				format('Add "%s" to vars, or correct the template.', v_name));
		END IF;
		IF fields ->> v_name IS NULL THEN
			PERFORM plum_internal.raise('22023', format('template field "{{%s}}" has no value', v_name),
				CASE WHEN v_name = 'name' THEN 'vars has no "name".' ELSE format('A %s has no %s.', what, v_name) END,
				CASE WHEN v_name = 'name' THEN 'Give the name in vars, e.g. vars => ''{"name": "Alice"}''.' END);
		END IF;
	END LOOP;
	IF cardinality(v_names) = 0 THEN
		RETURN template;
	END IF;
	-- the text around the fields: one more piece than fields
	RETURN (SELECT string_agg(u.piece || coalesce(fields ->> v_names[u.i], ''), '' ORDER BY u.i)
		FROM unnest(regexp_split_to_array(template, '\{\{.*?\}\}')) WITH ORDINALITY AS u(piece, i));
END
$$;
COMMENT ON FUNCTION plum_internal.render_message(text, jsonb, text) IS
	'Internal: render a template''s {{field}} placeholders from a JSON object of fields, in one pass; 22023 for a template over 64 kB or 1,000 fields, an unknown field or one without a value.';
