-- Vouchers and checkout (SPEC, "Vouchers and checkout", 0.2.0): promotional vouchers with their
-- restrictions, one order paid with a voucher, gift codes and points atomically, and refunds in
-- the reverse order of payment.  Codes and points are spent through plum.redeem_codes() and
-- plum.redeem_points() and given back through plum.reverse_redemption() and a code_refund ledger
-- row, so their rules, locks and ledger rows are those of the codes and points areas.
--
-- Lock order (every checkout and refund takes its locks in this order, so they never deadlock):
-- the idempotency key (checkout; a refund claims its key just after locking the order), the order
-- (the INSERT claiming its order_ref, or the refund's FOR UPDATE), the voucher (its row when it has
-- total_uses, else a transaction lock of the voucher and recipient when it has uses_per_customer),
-- the codes in code order, the recipient's wallet.

-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
CREATE TABLE plum_internal.voucher (
	voucher_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL,
	code		text NOT NULL CHECK (code ~ '^[A-Z0-9-]{3,32}$'),
	admin_id	bigint NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('percent', 'amount')),
	value		numeric NOT NULL CHECK (value > 0 AND (kind <> 'percent' OR value <= 100)),
	starts_at	timestamptz,
	expires_at	timestamptz,
	min_purchase numeric CHECK (min_purchase > 0),
	max_discount numeric CHECK (max_discount > 0),
	exclude_categories text[],
	vendors		text[],
	locations	text[],
	blackouts	tstzrange[],
	uses_per_customer integer CHECK (uses_per_customer > 0),
	total_uses	integer CHECK (total_uses > 0),
	uses		integer NOT NULL DEFAULT 0,
	created		timestamptz NOT NULL,
	CONSTRAINT voucher_code_key UNIQUE (company_id, code),
	CONSTRAINT voucher_uses CHECK (uses >= 0 AND (total_uses IS NULL OR uses <= total_uses))
);

-- The rules of an order's row and of a payment's row, each one C function (src/checks.c): a
-- CHECK is rebuilt from its stored expression by every statement that writes the table, and the
-- eleven declarative ones these replace were a tenth of a checkout's backend time.
CREATE FUNCTION plum_internal.order_row_valid(total numeric, discount numeric, codes numeric, points numeric,
		due numeric, refunded numeric, refunded_at timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_order_row_valid'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION plum_internal.payment_row_valid(instrument text, amount numeric, refunded numeric, code plum.code,
		redemption_id bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'plum_payment_row_valid'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE TABLE plum_internal.shop_order (
	order_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL,
	order_ref	text NOT NULL,
	recipient	plum.recipient,
	at			timestamptz NOT NULL,
	cart		jsonb NOT NULL,
	total		numeric NOT NULL,
	voucher_id	bigint,
	discount	numeric NOT NULL DEFAULT 0,
	codes		numeric NOT NULL DEFAULT 0,
	points		numeric NOT NULL DEFAULT 0,
	due			numeric NOT NULL DEFAULT 0,
	refunded	numeric NOT NULL DEFAULT 0,
	refunded_at	timestamptz,
	idempotency_key text,
	CONSTRAINT shop_order_ref_key UNIQUE (company_id, order_ref),
	-- a total > 0; discount, codes, points and due each >= 0 and summing to the total; refunded
	-- from 0 to codes + points + due, and equal to it once refunded_at is set (src/checks.c)
	CONSTRAINT shop_order_rules CHECK (plum_internal.order_row_valid(total, discount, codes, points, due,
		refunded, refunded_at))
);
-- the uses of a voucher by one recipient (counted under a lock of the voucher and recipient)
CREATE INDEX shop_order_voucher ON plum_internal.shop_order (voucher_id, recipient)
	WHERE voucher_id IS NOT NULL AND refunded_at IS NULL;

CREATE TABLE plum_internal.order_payment (
	order_id	bigint NOT NULL,
	seq			smallint NOT NULL,
	instrument	text NOT NULL,
	ref			text,
	code		plum.code,
	redemption_id bigint,
	amount		numeric NOT NULL,
	refunded	numeric NOT NULL DEFAULT 0,
	PRIMARY KEY (order_id, seq),
	-- an instrument among voucher, code, points and due; an amount >= 0; refunded from 0 to the
	-- amount, always 0 for the voucher; a code exactly for a code, a redemption exactly for points
	CONSTRAINT order_payment_rules CHECK (plum_internal.payment_row_valid(instrument, amount, refunded, code,
		redemption_id))
);

CREATE TABLE plum_internal.order_refund (
	refund_id	bigserial PRIMARY KEY,
	order_id	bigint NOT NULL,
	company_id	bigint NOT NULL,
	at			timestamptz NOT NULL,
	amount		numeric NOT NULL CHECK (amount >= 0),
	parts		jsonb NOT NULL,
	idempotency_key text
);
CREATE INDEX order_refund_order ON plum_internal.order_refund (order_id);

SELECT pg_catalog.pg_extension_config_dump('plum_internal.voucher', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.voucher_voucher_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.shop_order', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.shop_order_order_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.order_payment', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.order_refund', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.order_refund_refund_id_seq', '');
-- as sql/99_privileges.sql does for every table of a fresh install (the upgrade does not run it)
REVOKE ALL ON plum_internal.voucher, plum_internal.shop_order, plum_internal.order_payment, plum_internal.order_refund FROM PUBLIC;
REVOKE ALL ON SEQUENCE plum_internal.voucher_voucher_id_seq, plum_internal.shop_order_order_id_seq,
	plum_internal.order_refund_refund_id_seq FROM PUBLIC;
-- @end

-- @api
COMMENT ON TABLE plum_internal.voucher IS 'Vouchers: promotional discount codes with their restrictions (not stored value). Written only by plum.create_voucher() and, for uses, by checkout and refund.';
COMMENT ON COLUMN plum_internal.voucher.voucher_id IS 'Voucher id.';
COMMENT ON COLUMN plum_internal.voucher.company_id IS 'The company.';
COMMENT ON COLUMN plum_internal.voucher.code IS 'The code, upper-case (3 to 32 of A-Z, 0-9, -); unique in the company, matched case-insensitively.';
COMMENT ON COLUMN plum_internal.voucher.admin_id IS 'The admin who created it.';
COMMENT ON COLUMN plum_internal.voucher.kind IS 'percent (value% of the eligible amount, rounded down) or amount (value, at most the eligible amount).';
COMMENT ON COLUMN plum_internal.voucher.value IS 'The percentage (0 to 100] or the amount in the base currency.';
COMMENT ON COLUMN plum_internal.voucher.starts_at IS 'When it starts applying (NULL: at once).';
COMMENT ON COLUMN plum_internal.voucher.expires_at IS 'When it stops applying (NULL: never).';
COMMENT ON COLUMN plum_internal.voucher.min_purchase IS 'The least eligible amount of a cart it applies to (NULL: any).';
COMMENT ON COLUMN plum_internal.voucher.max_discount IS 'The largest discount it gives (NULL: no cap).';
COMMENT ON COLUMN plum_internal.voucher.exclude_categories IS 'Categories whose lines are not eligible, lower-case (NULL: none).';
COMMENT ON COLUMN plum_internal.voucher.vendors IS 'The vendors whose carts it applies to, lower-case (NULL: any).';
COMMENT ON COLUMN plum_internal.voucher.locations IS 'The locations whose carts it applies to, lower-case (NULL: any).';
COMMENT ON COLUMN plum_internal.voucher.blackouts IS 'Ranges of time when it does not apply (NULL: none).';
COMMENT ON COLUMN plum_internal.voucher.uses_per_customer IS 'How many orders of one recipient may use it (NULL: no limit).';
COMMENT ON COLUMN plum_internal.voucher.total_uses IS 'How many orders may use it in all (NULL: no limit).';
COMMENT ON COLUMN plum_internal.voucher.uses IS 'For a voucher with total_uses: the orders using it that are not wholly refunded, kept under the voucher''s row lock. Always 0 for a voucher without total_uses, whose checkouts neither lock nor update this row (plum.vouchers.uses counts the orders of every voucher).';
COMMENT ON COLUMN plum_internal.voucher.created IS 'When it was created (plum clock).';

COMMENT ON TABLE plum_internal.shop_order IS 'Orders checked out with plum.checkout(): what the cart cost and how it was paid. Written only by checkout and refund; read plum.orders.';
COMMENT ON FUNCTION plum_internal.order_row_valid(numeric, numeric, numeric, numeric, numeric, numeric, timestamptz) IS
	'Internal: the CHECK of plum_internal.shop_order (shop_order_rules): a total > 0; discount, codes, points and due each >= 0 and summing to the total; refunded from 0 to codes + points + due, and equal to it once refunded_at is set.';
COMMENT ON COLUMN plum_internal.shop_order.order_id IS 'Order id.';
COMMENT ON COLUMN plum_internal.shop_order.company_id IS 'The company.';
COMMENT ON COLUMN plum_internal.shop_order.order_ref IS 'The application''s order reference, unique in the company.';
COMMENT ON COLUMN plum_internal.shop_order.recipient IS 'The customer, if given.';
COMMENT ON COLUMN plum_internal.shop_order.at IS 'When it was checked out (plum clock).';
COMMENT ON COLUMN plum_internal.shop_order.cart IS 'The cart as given.';
COMMENT ON COLUMN plum_internal.shop_order.total IS 'The cart''s total: the sum of its line amounts.';
COMMENT ON COLUMN plum_internal.shop_order.voucher_id IS 'The voucher applied, if any.';
COMMENT ON COLUMN plum_internal.shop_order.discount IS 'The voucher''s discount.';
COMMENT ON COLUMN plum_internal.shop_order.codes IS 'Paid with gift codes.';
COMMENT ON COLUMN plum_internal.shop_order.points IS 'Paid with points.';
COMMENT ON COLUMN plum_internal.shop_order.due IS 'Left to pay outside plum.';
COMMENT ON COLUMN plum_internal.shop_order.refunded IS 'Refunded so far (due, points and codes together).';
COMMENT ON COLUMN plum_internal.shop_order.refunded_at IS 'When the last of it was refunded (NULL: not wholly refunded); the voucher''s use was released then.';
COMMENT ON COLUMN plum_internal.shop_order.idempotency_key IS 'The checkout''s idempotency key, if any.';

COMMENT ON TABLE plum_internal.order_payment IS 'How each order was paid: one row per instrument in the order applied (voucher, codes in the order given, points, due), with what was refunded of it.';
COMMENT ON FUNCTION plum_internal.payment_row_valid(text, numeric, numeric, plum.code, bigint) IS
	'Internal: the CHECK of plum_internal.order_payment (order_payment_rules): an instrument among voucher, code, points and due; an amount >= 0; refunded from 0 to the amount, always 0 for the voucher; a code exactly for the code instrument, a redemption id exactly for points.';
COMMENT ON COLUMN plum_internal.order_payment.order_id IS 'The order.';
COMMENT ON COLUMN plum_internal.order_payment.seq IS 'The place in the order of payment (refunds go in reverse).';
COMMENT ON COLUMN plum_internal.order_payment.instrument IS 'voucher, code, points or due.';
COMMENT ON COLUMN plum_internal.order_payment.ref IS 'As checkout returned it: the voucher code, the gift code, the redemption id; NULL for due.';
COMMENT ON COLUMN plum_internal.order_payment.code IS 'The gift code (instrument code).';
COMMENT ON COLUMN plum_internal.order_payment.redemption_id IS 'The points redemption (instrument points).';
COMMENT ON COLUMN plum_internal.order_payment.amount IS 'The amount paid (the discount for the voucher).';
COMMENT ON COLUMN plum_internal.order_payment.refunded IS 'What was refunded of it so far.';

COMMENT ON TABLE plum_internal.order_refund IS 'Refunds of orders: one row per plum.refund() call, with its parts.';
COMMENT ON COLUMN plum_internal.order_refund.refund_id IS 'Refund id.';
COMMENT ON COLUMN plum_internal.order_refund.order_id IS 'The order.';
COMMENT ON COLUMN plum_internal.order_refund.company_id IS 'The company.';
COMMENT ON COLUMN plum_internal.order_refund.at IS 'When (plum clock).';
COMMENT ON COLUMN plum_internal.order_refund.amount IS 'The amount refunded.';
COMMENT ON COLUMN plum_internal.order_refund.parts IS 'What plum.refund() returned: [{"instrument", "ref", "amount"}, ...] in the order refunded.';
COMMENT ON COLUMN plum_internal.order_refund.idempotency_key IS 'The refund''s idempotency key, if any.';

-- A voucher code as stored (upper-case), or NULL when the text cannot be one.
CREATE FUNCTION plum_internal.voucher_code(code text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN CASE WHEN code ~ '^[A-Za-z0-9-]{3,32}$' THEN upper(code) END;
COMMENT ON FUNCTION plum_internal.voucher_code(text) IS
	'Internal: a voucher code upper-cased, or NULL when it is not 3 to 32 characters of A-Z, a-z, 0-9 and -.';

-- Check a cart strictly and return its total (22023 with the line at fault).  scale NULL: the
-- company is unknown, the decimals are not checked (the caller raises PU005 next).
CREATE FUNCTION plum_internal.cart_total(cart jsonb, scale smallint) RETURNS numeric
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_lines jsonb;
	v_line jsonb;
	v_amount numeric;
	v_total numeric := 0;
	v_key text;
	i integer := 0;
BEGIN
	PERFORM plum_internal.not_null(cart, 'cart');
	IF jsonb_typeof(cart) <> 'object' THEN
		PERFORM plum_internal.raise('22023', 'invalid cart',
			format('The cart is a JSON %s; it must be an object {"lines": [...], "vendor": ..., "location": ...}.', jsonb_typeof(cart)));
	END IF;
	FOREACH v_key IN ARRAY ARRAY['vendor', 'location'] LOOP
		IF jsonb_typeof(cart -> v_key) NOT IN ('string', 'null') THEN
			PERFORM plum_internal.raise('22023', 'invalid cart',
				format('The cart''s "%s" is a JSON %s; it must be a string.', v_key, jsonb_typeof(cart -> v_key)));
		END IF;
	END LOOP;
	v_lines := cart -> 'lines';
	IF v_lines IS NULL OR jsonb_typeof(v_lines) = 'null' THEN
		PERFORM plum_internal.raise('22023', 'invalid cart', 'The cart has no "lines".',
			'Give the lines as {"lines": [{"sku": ..., "category": ..., "amount": ...}, ...]}.');
	END IF;
	IF jsonb_typeof(v_lines) <> 'array' THEN
		PERFORM plum_internal.raise('22023', 'invalid cart',
			format('The cart''s "lines" is a JSON %s; it must be an array.', jsonb_typeof(v_lines)));
	END IF;
	IF jsonb_array_length(v_lines) = 0 THEN
		PERFORM plum_internal.raise('22023', 'invalid cart', 'The cart has no lines.', 'Give at least one line.');
	END IF;
	IF jsonb_array_length(v_lines) > 1000 THEN
		PERFORM plum_internal.raise('22023', 'invalid cart',
			format('The cart has %s lines; a cart has at most 1000.', jsonb_array_length(v_lines)));
	END IF;
	FOR v_line IN SELECT l FROM jsonb_array_elements(v_lines) AS l LOOP
		i := i + 1;
		IF jsonb_typeof(v_line) <> 'object' THEN
			PERFORM plum_internal.raise('22023', 'invalid cart',
				format('Line %s is a JSON %s; it must be an object {"sku": ..., "category": ..., "amount": ...}.', i, jsonb_typeof(v_line)));
		END IF;
		FOREACH v_key IN ARRAY ARRAY['sku', 'category'] LOOP
			IF jsonb_typeof(v_line -> v_key) NOT IN ('string', 'null') THEN
				PERFORM plum_internal.raise('22023', 'invalid cart',
					format('Line %s''s "%s" is a JSON %s; it must be a string.', i, v_key, jsonb_typeof(v_line -> v_key)));
			END IF;
		END LOOP;
		IF jsonb_typeof(v_line -> 'amount') IS DISTINCT FROM 'number' THEN
			PERFORM plum_internal.raise('22023', 'invalid cart',
				format('Line %s''s "amount" is %s; it must be a JSON number.', i,
					coalesce('a JSON ' || jsonb_typeof(v_line -> 'amount'), 'missing')));
		END IF;
		v_amount := (v_line ->> 'amount')::numeric;
		IF v_amount <= 0 THEN
			PERFORM plum_internal.raise('22023', 'invalid cart',
				format('Line %s''s amount is %s; it must be greater than 0.', i, v_amount));
		END IF;
		IF scale IS NOT NULL AND v_amount <> round(v_amount, scale) THEN
			PERFORM plum_internal.raise('22023', 'invalid cart',
				format('Line %s''s amount %s has more than %s decimals, the company''s currency''s.', i, v_amount, scale));
		END IF;
		IF v_amount >= 1e15 THEN
			PERFORM plum_internal.raise('22023', 'invalid cart',
				format('Line %s''s amount %s is too large.', i, v_amount));
		END IF;
		v_total := v_total + v_amount;
	END LOOP;
	IF v_total >= 1e15 THEN
		PERFORM plum_internal.raise('22023', 'invalid cart', format('The cart''s total %s is too large.', v_total));
	END IF;
	RETURN v_total;
END
$$;
COMMENT ON FUNCTION plum_internal.cart_total(jsonb, smallint) IS
	'Internal: check a cart ({"lines": [{"sku", "category", "amount"}, ...], "vendor", "location"}) and return the sum of its line amounts; 22004 for NULL, 22023 for anything malformed (with the line at fault).';

-- Every restriction of a voucher against a cart, in SPEC's order, with the discount last.
-- used: the recipient's uses of the voucher and its total uses, as counted by the caller.
CREATE FUNCTION plum_internal.voucher_rules(v plum_internal.voucher, cart jsonb, total numeric, recipient plum.recipient,
		at timestamptz, scale smallint)
	RETURNS TABLE(rule text, ok boolean, detail text, discount numeric)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_eligible numeric;
	v_lines integer;
	v_eligible_lines integer;
	v_vendor text := lower(btrim(cart ->> 'vendor'));
	v_location text := lower(btrim(cart ->> 'location'));
	v_blackout tstzrange;
	v_mine integer;
	v_discount numeric;
BEGIN
	SELECT coalesce(sum((l ->> 'amount')::numeric) FILTER (WHERE NOT coalesce(lower(btrim(l ->> 'category')) = ANY (v.exclude_categories), false)), 0),
		count(*), count(*) FILTER (WHERE NOT coalesce(lower(btrim(l ->> 'category')) = ANY (v.exclude_categories), false))
		INTO v_eligible, v_lines, v_eligible_lines
		FROM jsonb_array_elements(cart -> 'lines') AS l;

	rule := 'exists'; ok := true; discount := NULL;
	detail := format('voucher %s: %s', v.code,
		CASE v.kind WHEN 'percent' THEN format('%s%% off', v.value) ELSE format('%s off', round(v.value, scale)) END);
	RETURN NEXT;

	rule := 'started'; ok := v.starts_at IS NULL OR v.starts_at <= at;
	detail := CASE WHEN v.starts_at IS NULL THEN 'no start date'
		WHEN ok THEN format('started at %s', v.starts_at)
		ELSE format('starts at %s, now is %s', v.starts_at, at) END;
	RETURN NEXT;

	rule := 'not_expired'; ok := v.expires_at IS NULL OR at < v.expires_at;
	detail := CASE WHEN v.expires_at IS NULL THEN 'no expiry'
		WHEN ok THEN format('expires at %s', v.expires_at)
		ELSE format('expired at %s, now is %s', v.expires_at, at) END;
	RETURN NEXT;

	rule := 'not_blackout';
	SELECT b INTO v_blackout FROM unnest(v.blackouts) AS b WHERE b @> at ORDER BY lower(b) LIMIT 1;
	ok := v_blackout IS NULL;
	detail := CASE WHEN v.blackouts IS NULL THEN 'no blackout'
		WHEN ok THEN format('now (%s) is in none of its %s blackout ranges', at, cardinality(v.blackouts))
		ELSE format('now (%s) is in the blackout %s', at, v_blackout) END;
	RETURN NEXT;

	rule := 'min_purchase'; ok := v.min_purchase IS NULL OR v_eligible >= v.min_purchase;
	detail := CASE WHEN v.min_purchase IS NULL THEN format('no minimum purchase; eligible amount is %s', round(v_eligible, scale))
		ELSE format('eligible amount is %s, minimum purchase is %s', round(v_eligible, scale), round(v.min_purchase, scale)) END;
	RETURN NEXT;

	rule := 'categories'; ok := v_eligible_lines > 0;
	detail := CASE WHEN v.exclude_categories IS NULL THEN format('no excluded categories; %s of %s lines eligible', v_eligible_lines, v_lines)
		ELSE format('%s of %s lines eligible (excluded categories: %s)', v_eligible_lines, v_lines, array_to_string(v.exclude_categories, ', ')) END;
	RETURN NEXT;

	rule := 'vendor'; ok := v.vendors IS NULL OR coalesce(v_vendor = ANY (v.vendors), false);
	detail := CASE WHEN v.vendors IS NULL THEN 'any vendor'
		WHEN v_vendor IS NULL THEN format('the cart names no vendor; the voucher is for %s', array_to_string(v.vendors, ', '))
		WHEN ok THEN format('vendor %s is one of %s', v_vendor, array_to_string(v.vendors, ', '))
		ELSE format('vendor %s is not one of %s', v_vendor, array_to_string(v.vendors, ', ')) END;
	RETURN NEXT;

	rule := 'location'; ok := v.locations IS NULL OR coalesce(v_location = ANY (v.locations), false);
	detail := CASE WHEN v.locations IS NULL THEN 'any location'
		WHEN v_location IS NULL THEN format('the cart names no location; the voucher is for %s', array_to_string(v.locations, ', '))
		WHEN ok THEN format('location %s is one of %s', v_location, array_to_string(v.locations, ', '))
		ELSE format('location %s is not one of %s', v_location, array_to_string(v.locations, ', ')) END;
	RETURN NEXT;

	rule := 'uses_per_customer';
	IF v.uses_per_customer IS NULL THEN
		ok := true; detail := 'no limit per customer';
	ELSIF recipient IS NULL THEN
		ok := false; detail := format('no recipient given; the voucher allows %s use(s) per customer', v.uses_per_customer);
	ELSE
		SELECT count(*) INTO v_mine FROM plum_internal.shop_order o
			WHERE o.voucher_id = v.voucher_id AND o.recipient = voucher_rules.recipient AND o.refunded_at IS NULL;
		ok := v_mine < v.uses_per_customer;
		detail := format('%s has used it %s time(s), the limit is %s per customer', recipient, v_mine, v.uses_per_customer);
	END IF;
	RETURN NEXT;

	rule := 'total_uses'; ok := v.total_uses IS NULL OR v.uses < v.total_uses;
	detail := CASE WHEN v.total_uses IS NULL THEN 'no total limit'
		ELSE format('used %s time(s), the limit is %s', v.uses, v.total_uses) END;
	RETURN NEXT;

	-- percent: rounded down to the minor unit; amount: at most the eligible amount; then the cap
	v_discount := CASE v.kind WHEN 'percent' THEN trunc(v_eligible * v.value / 100, scale) ELSE least(v.value, v_eligible) END;
	IF v.max_discount IS NOT NULL AND v_discount > v.max_discount THEN
		v_discount := v.max_discount;
		detail := format('discount is %s (capped at the largest discount %s)', round(v_discount, scale), round(v.max_discount, scale));
	ELSE
		detail := format('discount is %s (%s of eligible amount %s)', round(v_discount, scale),
			CASE v.kind WHEN 'percent' THEN format('%s%%', v.value) ELSE format('%s', round(v.value, scale)) END, round(v_eligible, scale));
	END IF;
	rule := 'discount'; ok := true; discount := least(round(v_discount, scale), total);
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION plum_internal.voucher_rules(plum_internal.voucher, jsonb, numeric, plum.recipient, timestamptz, smallint) IS
	'Internal: every restriction of a voucher checked against a cart at an instant, in SPEC''s order (exists, started, not_expired, not_blackout, min_purchase, categories, vendor, location, uses_per_customer, total_uses, discount), with the figures in the detail and the discount on the last row.';

-- A text array of names as stored: trimmed, lower-case; 22023 for NULL or empty elements.
CREATE FUNCTION plum_internal.voucher_names(names text[], what text) RETURNS text[]
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	IF names IS NULL THEN
		RETURN NULL;
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(names) AS n WHERE n IS NULL OR btrim(n) = '') THEN
		PERFORM plum_internal.raise('22023', format('invalid %s', what), format('The %s must not contain NULL or empty names.', what));
	END IF;
	RETURN ARRAY(SELECT DISTINCT lower(btrim(n)) FROM unnest(names) AS n ORDER BY 1);
END
$$;
COMMENT ON FUNCTION plum_internal.voucher_names(text[], text) IS
	'Internal: a voucher''s category, vendor or location names trimmed and lower-cased (matched case-insensitively); 22023 for a NULL or empty name.';

CREATE FUNCTION plum.create_voucher(admin_id bigint, code text, kind text, value numeric,
		starts_at timestamptz DEFAULT NULL, expires_at timestamptz DEFAULT NULL,
		min_purchase numeric DEFAULT NULL, max_discount numeric DEFAULT NULL,
		exclude_categories text[] DEFAULT NULL, vendors text[] DEFAULT NULL,
		locations text[] DEFAULT NULL, blackouts tstzrange[] DEFAULT NULL,
		uses_per_customer integer DEFAULT NULL, total_uses integer DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company plum_internal.company;
	v_code text;
	v_id bigint;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(code, 'code');
	PERFORM plum_internal.not_null(kind, 'kind');
	PERFORM plum_internal.not_null(value, 'value');
	v_code := plum_internal.voucher_code(code);
	IF v_code IS NULL THEN
		PERFORM plum_internal.raise('22023', 'invalid voucher code',
			format('The code "%s" is %s characters long; a voucher code is 3 to 32 characters of A-Z, a-z, 0-9 and -.', code, length(code)));
	END IF;
	IF kind NOT IN ('percent', 'amount') THEN
		PERFORM plum_internal.raise('22023', 'invalid voucher kind', format('The kind is "%s"; it must be percent or amount.', kind));
	END IF;
	IF starts_at >= expires_at THEN
		PERFORM plum_internal.raise('22023', 'invalid voucher dates',
			format('The voucher starts at %s and expires at %s; it must start before it expires.', starts_at, expires_at));
	END IF;
	IF array_position(blackouts, NULL) IS NOT NULL OR 'empty'::tstzrange = ANY (blackouts) THEN
		PERFORM plum_internal.raise('22023', 'invalid blackouts', 'The blackout ranges must not contain NULL or empty ranges.');
	END IF;
	exclude_categories := plum_internal.voucher_names(exclude_categories, 'excluded categories');
	vendors := plum_internal.voucher_names(vendors, 'vendors');
	locations := plum_internal.voucher_names(locations, 'locations');
	IF cardinality(vendors) = 0 OR cardinality(locations) = 0 THEN
		PERFORM plum_internal.raise('22023', 'empty restriction list',
			format('%s is an empty list: the voucher could never apply.', CASE WHEN cardinality(vendors) = 0 THEN 'vendors' ELSE 'locations' END),
			'Give NULL for any vendor or location.');
	END IF;
	IF cardinality(exclude_categories) = 0 THEN
		exclude_categories := NULL;
	END IF;
	IF cardinality(blackouts) = 0 THEN
		blackouts := NULL;
	END IF;
	IF uses_per_customer < 1 OR total_uses < 1 THEN
		PERFORM plum_internal.raise('PU008', 'invalid number of uses',
			format('uses_per_customer is %s and total_uses is %s; a limit is at least 1 (NULL: no limit).',
				coalesce(uses_per_customer::text, 'NULL'), coalesce(total_uses::text, 'NULL')));
	END IF;
	IF kind = 'percent' AND (value = 'NaN' OR value <= 0 OR value > 100) THEN
		PERFORM plum_internal.raise('PU008', 'invalid percentage',
			format('A percent voucher''s value is in (0, 100]; got %s.', value));
	END IF;
	v_company := plum_internal.admin_company(create_voucher.admin_id);
	IF kind = 'amount' THEN
		value := plum_internal.valid_amount(value, v_company.scale, 'value');
	END IF;
	IF min_purchase IS NOT NULL THEN
		min_purchase := plum_internal.valid_amount(min_purchase, v_company.scale, 'min_purchase');
	END IF;
	IF max_discount IS NOT NULL THEN
		max_discount := plum_internal.valid_amount(max_discount, v_company.scale, 'max_discount');
	END IF;
	INSERT INTO plum_internal.voucher AS v (company_id, code, admin_id, kind, value, starts_at, expires_at, min_purchase,
			max_discount, exclude_categories, vendors, locations, blackouts, uses_per_customer, total_uses, created)
		VALUES (v_company.company_id, v_code, create_voucher.admin_id, kind, value, starts_at, expires_at, min_purchase,
			max_discount, exclude_categories, vendors, locations, blackouts, uses_per_customer, total_uses, plum.now())
		ON CONFLICT ON CONSTRAINT voucher_code_key DO NOTHING
		RETURNING v.voucher_id INTO v_id;
	IF v_id IS NULL THEN
		PERFORM plum_internal.raise('23505', 'voucher code already exists',
			format('Company %s already has a voucher %s (codes are case-insensitive).', v_company.company_id, v_code),
			'Choose another code.');
	END IF;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.create_voucher(bigint, text, text, numeric, timestamptz, timestamptz, numeric, numeric, text[], text[], text[], tstzrange[], integer, integer) IS
	'Create a voucher of the admin''s company: a percent (0, 100] or amount discount with optional restrictions (dates, minimum purchase on the eligible amount, largest discount, excluded categories, vendors, locations, blackout ranges, uses per customer and in total). Its code (3 to 32 of A-Z, 0-9, -) is case-insensitive and stored upper-case; a duplicate is 23505. Returns the voucher id.';

CREATE FUNCTION plum.validate_voucher(company_id bigint, code text, cart jsonb, recipient plum.recipient DEFAULT NULL)
	RETURNS TABLE(rule text, ok boolean, detail text)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	ROWS 11
	AS $$
DECLARE
	v_scale smallint;
	v_total numeric;
	v_voucher plum_internal.voucher;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(code, 'code');
	SELECT c.scale INTO v_scale FROM plum_internal.company c WHERE c.company_id = validate_voucher.company_id;
	v_total := plum_internal.cart_total(cart, v_scale);
	IF v_scale IS NULL THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', company_id));
	END IF;
	PERFORM plum_internal.check_company(validate_voucher.company_id);
	SELECT * INTO v_voucher FROM plum_internal.voucher v
		WHERE v.company_id = validate_voucher.company_id AND v.code = plum_internal.voucher_code(validate_voucher.code);
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'exists'::text, false, format('there is no voucher %s in company %s', upper(code), company_id);
		RETURN;
	END IF;
	RETURN QUERY SELECT r.rule, r.ok, r.detail
		FROM plum_internal.voucher_rules(v_voucher, cart, v_total, recipient, plum.now(), v_scale) AS r;
END
$$;
COMMENT ON FUNCTION plum.validate_voucher(bigint, text, jsonb, plum.recipient) IS
	'Check a voucher against a cart (and a recipient) without using it: one row per restriction, in this order: exists, started, not_expired, not_blackout, min_purchase, categories, vendor, location, uses_per_customer, total_uses, discount (the amount in detail). Restrictions the voucher does not have are ok; failing rows carry the figures. An unknown code returns the single row exists = false.';

-- The rows a checkout returned, from its payments (an idempotent replay returns them again).
CREATE FUNCTION plum_internal.order_rows(order_id bigint, scale smallint)
	RETURNS TABLE(instrument text, ref text, amount numeric)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	SELECT p.instrument, p.ref, round(p.amount, order_rows.scale)
		FROM plum_internal.order_payment p WHERE p.order_id = order_rows.order_id ORDER BY p.seq;
	END;
COMMENT ON FUNCTION plum_internal.order_rows(bigint, smallint) IS
	'Internal: what checkout returned for an order, rebuilt from its payments.';

-- The checkout hot path, in C (src/checkout.c), in the lock order above: the cart checked and
-- summed and the voucher's restrictions evaluated in C, the codes locked and drained with
-- plum.redeem_codes()'s statements (src/codes.c), the points taken as plum.redeem_points() takes
-- them, one statement writing the order's instruments.  A malformed cart is refused by
-- plum_internal.cart_total() and a voucher that does not apply is explained by
-- plum_internal.voucher_rules(), so their wording has one source.
CREATE FUNCTION plum.checkout(company_id bigint, order_ref text, cart jsonb, recipient plum.recipient DEFAULT NULL,
		voucher text DEFAULT NULL, codes plum.code[] DEFAULT NULL, points numeric DEFAULT NULL,
		idempotency_key text DEFAULT NULL)
	RETURNS TABLE(instrument text, ref text, amount numeric)
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	ROWS 4
	AS 'MODULE_PATHNAME', 'plum_checkout';
COMMENT ON FUNCTION plum.checkout(bigint, text, jsonb, plum.recipient, text, plum.code[], numeric, text) IS
	'Check out an order, all or nothing: the voucher''s discount (PU010 with every failing restriction), then the codes in the order given, each drained only as far as needed (PU002 expired, PU003 cancelled or used up, PU009 another company''s), then up to points points of the recipient''s wallet FIFO, at most what is left (22004 without a recipient, PU001 when short); the rest is due. Returns one row per instrument: (voucher, code, discount), (code, code, applied) each, (points, redemption id, amount), (due, NULL, amount). order_ref is unique per company (PU003 on a second checkout, unless an idempotent replay with the same key and arguments; PU006 for the same key with other arguments).';

-- plum.refund()'s body (PL/pgSQL refuses an argument and a result column both named amount, so
-- the API function is a SQL wrapper around this one).
CREATE FUNCTION plum_internal.refund_order(company_id bigint, order_ref text, amount numeric, idempotency_key text)
	RETURNS TABLE(instrument text, ref text, part numeric)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	ROWS 4
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_scale smallint;
	v_order plum_internal.shop_order;
	v_refund bigint;
	v_prior bigint;
	v_paid numeric;
	v_left numeric;
	v_want numeric;
	v_part numeric;
	v_pay record;
	v_seq smallint[] := '{}';
	v_inst text[] := '{}';
	v_ref text[] := '{}';
	v_code plum.code[] := '{}';
	v_redid bigint[] := '{}';
	v_amt numeric[] := '{}';
	v_done boolean;
	i integer;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(order_ref, 'order_ref');
	SELECT c.scale INTO v_scale FROM plum_internal.company c WHERE c.company_id = refund_order.company_id;
	IF amount IS NOT NULL THEN
		amount := plum_internal.valid_amount(amount, coalesce(v_scale, 4::smallint));
	END IF;
	IF v_scale IS NULL THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', company_id));
	END IF;
	PERFORM plum_internal.check_company(refund_order.company_id);
	-- the order's row lock serialises the refunds of an order
	SELECT * INTO v_order FROM plum_internal.shop_order o
		WHERE o.company_id = refund_order.company_id AND o.order_ref = refund_order.order_ref FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown order', format('Company %s has no order %s.', company_id, order_ref));
	END IF;
	v_refund := nextval('plum_internal.order_refund_refund_id_seq');
	IF idempotency_key IS NOT NULL THEN
		v_prior := plum_internal.claim_key(refund_order.company_id, idempotency_key, 'refund',
			format('%s, %L, %s', refund_order.company_id, order_ref, coalesce(amount::text, 'NULL')), v_refund);
		IF v_prior IS NOT NULL THEN
			RETURN QUERY SELECT p.instrument, p.ref, round(p.amount, v_scale)
				FROM plum_internal.order_refund r,
					ROWS FROM (jsonb_to_recordset(r.parts) AS (instrument text, ref text, amount numeric)) WITH ORDINALITY AS p(instrument, ref, amount, n)
				WHERE r.refund_id = v_prior ORDER BY p.n;
			RETURN;
		END IF;
	END IF;
	v_paid := v_order.codes + v_order.points + v_order.due;
	v_left := v_paid - v_order.refunded;
	v_want := coalesce(amount, v_left);
	IF v_order.refunded_at IS NOT NULL OR v_want > v_left THEN
		PERFORM plum_internal.raise('PU008', 'amount exceeds what is left to refund',
			format('Order %s paid %s; %s was refunded already, %s is left; requested %s.', order_ref, round(v_paid, v_scale),
				round(v_order.refunded, v_scale), round(v_left, v_scale), round(v_want, v_scale)));
	END IF;
	v_done := v_want = v_left;

	-- what each instrument gives back: due first, then points, then codes last applied first
	v_part := v_want;
	FOR v_pay IN
		SELECT p.* FROM plum_internal.order_payment p
		WHERE p.order_id = v_order.order_id AND p.instrument <> 'voucher' AND p.refunded < p.amount
		ORDER BY p.seq DESC
	LOOP
		EXIT WHEN v_part = 0;
		v_seq := v_seq || v_pay.seq; v_inst := v_inst || v_pay.instrument; v_ref := v_ref || v_pay.ref;
		v_code := v_code || v_pay.code; v_redid := v_redid || v_pay.redemption_id;
		v_amt := v_amt || least(v_part, v_pay.amount - v_pay.refunded);
		v_part := v_part - least(v_part, v_pay.amount - v_pay.refunded);
	END LOOP;

	-- locks in the canonical order: the voucher (its use is released), the codes, the wallet
	IF v_done AND v_order.voucher_id IS NOT NULL THEN
		UPDATE plum_internal.voucher v SET uses = v.uses - 1 WHERE v.voucher_id = v_order.voucher_id AND v.total_uses IS NOT NULL;
	END IF;
	PERFORM 1 FROM plum_internal.issued_code ic WHERE ic.code = ANY (v_code) ORDER BY ic.code FOR UPDATE;
	FOR i IN 1 .. cardinality(v_inst) LOOP
		IF v_inst[i] = 'points' THEN
			PERFORM plum.reverse_redemption(v_redid[i], v_amt[i], NULL);
		END IF;
	END LOOP;
	-- a code gets its value back (a code past its expiry gets it back as already expired: breakage);
	-- each row extends the code's hash chain (sql/35_ledger.sql), the head written with the balance
	WITH back AS (
		SELECT u.code, u.amount, u.n, nextval('plum_internal.journal_entry_id_seq') AS e1
		FROM ROWS FROM (unnest(v_code), unnest(v_amt)) WITH ORDINALITY AS u(code, amount, n)
		WHERE u.code IS NOT NULL),
	cur AS (
		SELECT ic.code, ic.campaign_id, ic.balance, ic.expires_at <= v_now AS expired, ic.chain_head,
			back.amount, back.n, back.e1,
			CASE WHEN ic.expires_at <= v_now THEN nextval('plum_internal.journal_entry_id_seq') END AS e2
		FROM plum_internal.issued_code ic JOIN back ON ic.code = back.code),
	h1 AS (
		SELECT cur.*, plum_internal.entry_hash(cur.chain_head, cur.e1, refund_order.company_id, v_now, 'code_refund',
				cur.amount, NULL, NULL, NULL, NULL, order_ref, NULL, idempotency_key, NULL, cur.campaign_id, NULL,
				cur.code, NULL, cur.balance + cur.amount) AS h1
		FROM cur),
	h2 AS (
		SELECT h1.*, CASE WHEN h1.expired THEN plum_internal.entry_hash(h1.h1, h1.e2, refund_order.company_id, v_now,
				'code_expire', h1.amount, NULL, NULL, NULL, NULL, order_ref, NULL, idempotency_key, NULL, h1.campaign_id,
				NULL, h1.code, NULL, h1.balance) END AS h2
		FROM h1),
	upd AS (
		UPDATE plum_internal.issued_code ic
			SET balance = CASE WHEN h2.expired THEN ic.balance ELSE ic.balance + h2.amount END,
				expired_at = CASE WHEN h2.expired THEN coalesce(ic.expired_at, v_now) ELSE ic.expired_at END,
				chain_head = coalesce(h2.h2, h2.h1)
			FROM h2 WHERE ic.code = h2.code
			RETURNING h2.*)
	INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, campaign_id, code, reference, idempotency_key,
			balance_after, hash)
		SELECT CASE e.k WHEN 1 THEN upd.e1 ELSE upd.e2 END, refund_order.company_id, v_now, e.kind, upd.amount,
			upd.campaign_id, upd.code, order_ref, idempotency_key,
			CASE e.k WHEN 1 THEN upd.balance + upd.amount ELSE upd.balance END,
			CASE e.k WHEN 1 THEN upd.h1 ELSE upd.h2 END
		FROM upd CROSS JOIN LATERAL (VALUES (1, 'code_refund'), (2, 'code_expire')) AS e(k, kind)
		WHERE e.k = 1 OR upd.expired
		ORDER BY upd.n, e.k;
	UPDATE plum_internal.order_payment p SET refunded = p.refunded + u.amount
		FROM ROWS FROM (unnest(v_seq), unnest(v_amt)) AS u(seq, amount)
		WHERE p.order_id = v_order.order_id AND p.seq = u.seq;
	UPDATE plum_internal.shop_order o SET refunded = o.refunded + v_want, refunded_at = CASE WHEN v_done THEN v_now END
		WHERE o.order_id = v_order.order_id;
	INSERT INTO plum_internal.order_refund (refund_id, order_id, company_id, at, amount, parts, idempotency_key)
		VALUES (v_refund, v_order.order_id, refund_order.company_id, v_now, v_want,
			coalesce((SELECT jsonb_agg(jsonb_build_object('instrument', u.instrument, 'ref', u.ref, 'amount', u.amount) ORDER BY u.n)
				FROM ROWS FROM (unnest(v_inst), unnest(v_ref), unnest(v_amt)) WITH ORDINALITY AS u(instrument, ref, amount, n)), '[]'),
			idempotency_key);
	RETURN QUERY SELECT u.instrument, u.ref, round(u.amount, v_scale)
		FROM ROWS FROM (unnest(v_inst), unnest(v_ref), unnest(v_amt)) WITH ORDINALITY AS u(instrument, ref, amount, n)
		ORDER BY u.n;
END
$$;
COMMENT ON FUNCTION plum_internal.refund_order(bigint, text, numeric, text) IS
	'Internal: the body of plum.refund().';

CREATE FUNCTION plum.refund(company_id bigint, order_ref text, amount numeric DEFAULT NULL, idempotency_key text DEFAULT NULL)
	RETURNS TABLE(instrument text, ref text, amount numeric)
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	ROWS 4
	BEGIN ATOMIC
	SELECT r.instrument, r.ref, r.part FROM plum_internal.refund_order($1, $2, $3, $4) AS r;
	END;
COMMENT ON FUNCTION plum.refund(bigint, text, numeric, text) IS
	'Refund all (amount NULL) or part of an order, in the reverse order of payment: due first (to refund outside plum), then the points (back to their original lots, as plum.reverse_redemption() does), then the codes, last applied first (a code_refund ledger row each). Never more than is left (PU008); unknown order PU005. The voucher''s use is released when the whole order is refunded. Returns one row per instrument refunded. Idempotent with a key.';

CREATE VIEW plum.orders WITH (security_barrier) AS
	SELECT o.company_id, o.order_ref, o.recipient,
		round(o.total, c.scale) AS total, round(o.discount, c.scale) AS discount,
		round(o.codes, c.scale) AS codes, round(o.points, c.scale) AS points,
		round(o.due, c.scale) AS due, round(o.refunded, c.scale) AS refunded,
		CASE WHEN o.refunded_at IS NOT NULL THEN 'refunded' WHEN o.refunded > 0 THEN 'partly_refunded' ELSE 'paid' END AS state,
		o.at, o.order_id, v.code AS voucher, o.refunded_at, c.base_currency AS currency
	FROM plum_internal.shop_order o JOIN plum_internal.company c USING (company_id)
		LEFT JOIN plum_internal.voucher v ON v.voucher_id = o.voucher_id
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR o.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.orders IS 'Orders checked out with plum.checkout(): what each cost, how it was paid, and what was refunded. A role confined to companies sees only theirs.';
COMMENT ON COLUMN plum.orders.company_id IS 'Company id.';
COMMENT ON COLUMN plum.orders.order_ref IS 'The application''s order reference (unique in the company).';
COMMENT ON COLUMN plum.orders.recipient IS 'The customer, if given.';
COMMENT ON COLUMN plum.orders.total IS 'The cart''s total.';
COMMENT ON COLUMN plum.orders.discount IS 'The voucher''s discount.';
COMMENT ON COLUMN plum.orders.codes IS 'Paid with gift codes.';
COMMENT ON COLUMN plum.orders.points IS 'Paid with points.';
COMMENT ON COLUMN plum.orders.due IS 'Paid outside plum (total - discount - codes - points).';
COMMENT ON COLUMN plum.orders.refunded IS 'Refunded so far (due, points and codes together).';
COMMENT ON COLUMN plum.orders.state IS 'paid, partly_refunded or refunded (wholly).';
COMMENT ON COLUMN plum.orders.at IS 'When it was checked out (plum clock).';
COMMENT ON COLUMN plum.orders.order_id IS 'Order id.';
COMMENT ON COLUMN plum.orders.voucher IS 'The voucher code applied, if any.';
COMMENT ON COLUMN plum.orders.refunded_at IS 'When it was wholly refunded (NULL: not wholly refunded).';
COMMENT ON COLUMN plum.orders.currency IS 'The company''s base currency.';

CREATE VIEW plum.vouchers WITH (security_barrier) AS
	SELECT v.voucher_id, v.company_id, v.code, v.kind,
		CASE v.kind WHEN 'amount' THEN round(v.value, c.scale) ELSE v.value END AS value,
		v.starts_at, v.expires_at, round(v.min_purchase, c.scale) AS min_purchase, round(v.max_discount, c.scale) AS max_discount,
		v.exclude_categories, v.vendors, v.locations, v.blackouts, v.uses_per_customer, v.total_uses,
		(SELECT count(*) FROM plum_internal.shop_order o WHERE o.voucher_id = v.voucher_id AND o.refunded_at IS NULL) AS uses,
		v.admin_id, v.created
	FROM plum_internal.voucher v JOIN plum_internal.company c USING (company_id)
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR v.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.vouchers IS 'Vouchers with their restrictions and uses (an addition to the SPEC). A role confined to companies sees only theirs.';
COMMENT ON COLUMN plum.vouchers.voucher_id IS 'Voucher id.';
COMMENT ON COLUMN plum.vouchers.company_id IS 'Company id.';
COMMENT ON COLUMN plum.vouchers.code IS 'The code (upper-case; matched case-insensitively).';
COMMENT ON COLUMN plum.vouchers.kind IS 'percent or amount.';
COMMENT ON COLUMN plum.vouchers.value IS 'The percentage, or the amount off.';
COMMENT ON COLUMN plum.vouchers.starts_at IS 'When it starts applying (NULL: at once).';
COMMENT ON COLUMN plum.vouchers.expires_at IS 'When it stops applying (NULL: never).';
COMMENT ON COLUMN plum.vouchers.min_purchase IS 'The least eligible amount (NULL: any).';
COMMENT ON COLUMN plum.vouchers.max_discount IS 'The largest discount (NULL: no cap).';
COMMENT ON COLUMN plum.vouchers.exclude_categories IS 'Categories whose lines are not eligible.';
COMMENT ON COLUMN plum.vouchers.vendors IS 'The vendors it applies to (NULL: any).';
COMMENT ON COLUMN plum.vouchers.locations IS 'The locations it applies to (NULL: any).';
COMMENT ON COLUMN plum.vouchers.blackouts IS 'Ranges of time when it does not apply.';
COMMENT ON COLUMN plum.vouchers.uses_per_customer IS 'Orders per recipient (NULL: no limit).';
COMMENT ON COLUMN plum.vouchers.total_uses IS 'Orders in all (NULL: no limit).';
COMMENT ON COLUMN plum.vouchers.uses IS 'Orders using it that are not wholly refunded.';
COMMENT ON COLUMN plum.vouchers.admin_id IS 'The admin who created it.';
COMMENT ON COLUMN plum.vouchers.created IS 'When it was created.';

-- verify_orders(): orders against their payments, refunds and the ledger; vouchers' uses.
CREATE FUNCTION plum_internal.verify_orders(company_id bigint DEFAULT NULL)
	RETURNS TABLE(company_id bigint, check_name text, detail text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	BEGIN ATOMIC
	WITH ord AS (
		SELECT o.* FROM plum_internal.shop_order o
		WHERE verify_orders.company_id IS NULL OR o.company_id = verify_orders.company_id),
	pay AS (
		SELECT p.order_id,
			coalesce(sum(p.amount) FILTER (WHERE p.instrument = 'voucher'), 0) AS discount,
			coalesce(sum(p.amount) FILTER (WHERE p.instrument = 'code'), 0) AS codes,
			coalesce(sum(p.amount) FILTER (WHERE p.instrument = 'points'), 0) AS points,
			coalesce(sum(p.amount) FILTER (WHERE p.instrument = 'due'), 0) AS due,
			sum(p.refunded) AS refunded,
			count(*) FILTER (WHERE p.refunded > p.amount OR p.refunded < 0) AS over
		FROM plum_internal.order_payment p JOIN ord USING (order_id) GROUP BY p.order_id),
	ref AS (
		SELECT r.order_id, sum(r.amount) AS amount FROM plum_internal.order_refund r JOIN ord USING (order_id) GROUP BY r.order_id),
	-- a points payment: the redemption's amount, and what was restored of it
	pts AS (
		SELECT ord.company_id, ord.order_ref, p.redemption_id, p.amount, p.refunded,
			(SELECT j.amount FROM plum_internal.journal j WHERE j.entry_id = p.redemption_id AND j.kind = 'redeem') AS redeemed,
			coalesce((SELECT sum(j.amount) FROM plum_internal.journal j WHERE j.redemption_id = p.redemption_id AND j.kind = 'restore'), 0) AS restored
		FROM plum_internal.order_payment p JOIN ord USING (order_id) WHERE p.instrument = 'points'),
	-- a code payment: what was given back to the code (code_refund rows carry the order_ref)
	cds AS (
		SELECT ord.company_id, ord.order_ref, p.code, p.refunded,
			coalesce((SELECT sum(j.amount) FROM plum_internal.journal j
				WHERE j.code = p.code AND j.kind = 'code_refund' AND j.company_id = ord.company_id AND j.reference = ord.order_ref), 0) AS ledger
		FROM plum_internal.order_payment p JOIN ord USING (order_id) WHERE p.instrument = 'code'),
	vou AS (
		SELECT v.company_id, v.voucher_id, v.code, v.uses, v.total_uses,
			(SELECT count(*) FROM plum_internal.shop_order o WHERE o.voucher_id = v.voucher_id AND o.refunded_at IS NULL) AS live
		FROM plum_internal.voucher v
		WHERE verify_orders.company_id IS NULL OR v.company_id = verify_orders.company_id)
	SELECT ord.company_id, 'order total',
			format('order %s: total %s, discount %s + codes %s + points %s + due %s = %s', ord.order_ref, ord.total,
				ord.discount, ord.codes, ord.points, ord.due, ord.discount + ord.codes + ord.points + ord.due)
		FROM ord WHERE ord.total <> ord.discount + ord.codes + ord.points + ord.due
	UNION ALL
	SELECT ord.company_id, 'order instruments',
			format('order %s: discount %s, codes %s, points %s, due %s; its payments say %s, %s, %s, %s', ord.order_ref,
				ord.discount, ord.codes, ord.points, ord.due,
				coalesce(pay.discount, 0), coalesce(pay.codes, 0), coalesce(pay.points, 0), coalesce(pay.due, 0))
		FROM ord LEFT JOIN pay USING (order_id)
		WHERE (ord.discount, ord.codes, ord.points, ord.due)
			IS DISTINCT FROM (coalesce(pay.discount, 0), coalesce(pay.codes, 0), coalesce(pay.points, 0), coalesce(pay.due, 0))
	UNION ALL
	SELECT ord.company_id, 'order refunds',
			format('order %s: refunded %s; its payments say %s, its refunds %s%s', ord.order_ref, ord.refunded,
				coalesce(pay.refunded, 0), coalesce(ref.amount, 0),
				CASE WHEN pay.over > 0 THEN format('; %s payment(s) refunded beyond what they paid', pay.over) ELSE '' END)
		FROM ord LEFT JOIN pay USING (order_id) LEFT JOIN ref USING (order_id)
		WHERE ord.refunded <> coalesce(pay.refunded, 0) OR ord.refunded <> coalesce(ref.amount, 0) OR pay.over > 0
			OR ord.refunded > ord.codes + ord.points + ord.due
			OR (ord.refunded_at IS NOT NULL) <> (ord.refunded = ord.codes + ord.points + ord.due AND ord.refunded_at IS NOT NULL)
	UNION ALL
	SELECT pts.company_id, 'order points',
			format('order %s: points %s from redemption %s (ledger: %s), %s refunded (ledger: %s restored)', pts.order_ref,
				pts.amount, pts.redemption_id, coalesce(pts.redeemed::text, 'none'), pts.refunded, pts.restored)
		FROM pts WHERE pts.redeemed IS DISTINCT FROM pts.amount OR pts.restored <> pts.refunded
	UNION ALL
	SELECT cds.company_id, 'order codes',
			format('order %s: code %s refunded %s, the ledger''s code_refund rows say %s', cds.order_ref, cds.code, cds.refunded, cds.ledger)
		FROM cds WHERE cds.ledger <> cds.refunded
	UNION ALL
	SELECT vou.company_id, 'voucher uses',
			format('voucher %s: uses %s, orders using it and not wholly refunded %s%s', vou.code, vou.uses,
				CASE WHEN vou.total_uses IS NULL THEN format('%s (no total_uses: uses stays 0)', vou.live) ELSE vou.live::text END,
				CASE WHEN vou.uses > vou.total_uses THEN format(', over its total_uses %s', vou.total_uses) ELSE '' END)
		FROM vou WHERE (vou.total_uses IS NOT NULL AND vou.uses <> vou.live) OR (vou.total_uses IS NULL AND vou.uses <> 0)
			OR vou.uses > vou.total_uses
	ORDER BY 1, 2, 3;
	END;
COMMENT ON FUNCTION plum_internal.verify_orders(bigint) IS
	'The orders part of plum.verify(): each order''s total = discount + codes + points + due = its payments; refunds <= payments per instrument, and = the refunds made; points payments against their redemption and restores, code refunds against the code_refund ledger rows; a voucher with total_uses: its uses counter = its orders not wholly refunded, within total_uses (0 for the others).';

REVOKE EXECUTE ON FUNCTION
	plum_internal.voucher_code(text),
	plum_internal.cart_total(jsonb, smallint),
	plum_internal.voucher_rules(plum_internal.voucher, jsonb, numeric, plum.recipient, timestamptz, smallint),
	plum_internal.voucher_names(text[], text),
	plum.create_voucher(bigint, text, text, numeric, timestamptz, timestamptz, numeric, numeric, text[], text[], text[], tstzrange[], integer, integer),
	plum.validate_voucher(bigint, text, jsonb, plum.recipient),
	plum_internal.order_rows(bigint, smallint),
	plum.checkout(bigint, text, jsonb, plum.recipient, text, plum.code[], numeric, text),
	plum_internal.refund_order(bigint, text, numeric, text),
	plum.refund(bigint, text, numeric, text),
	plum_internal.verify_orders(bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.create_voucher(bigint, text, text, numeric, timestamptz, timestamptz, numeric, numeric, text[], text[], text[], tstzrange[], integer, integer)
	TO plum_admin;
GRANT EXECUTE ON FUNCTION
	plum.validate_voucher(bigint, text, jsonb, plum.recipient),
	plum.checkout(bigint, text, jsonb, plum.recipient, text, plum.code[], numeric, text),
	plum.refund(bigint, text, numeric, text)
	TO plum_app;
GRANT SELECT ON plum.orders, plum.vouchers TO plum_reader;
