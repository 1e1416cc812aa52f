-- Tenancy: currencies, companies and their admins (pools and thresholds).

CREATE TABLE plum_internal.currency (
	code		text PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
	minor_unit	smallint NOT NULL CHECK (minor_unit BETWEEN 0 AND 4),
	name		text NOT NULL
);

INSERT INTO plum_internal.currency (code, minor_unit, name) VALUES
	('AED', 2, 'UAE dirham'),
	('AFN', 2, 'Afghan afghani'),
	('ALL', 2, 'Albanian lek'),
	('AMD', 2, 'Armenian dram'),
	('ANG', 2, 'Netherlands Antillean guilder'),
	('AOA', 2, 'Angolan kwanza'),
	('ARS', 2, 'Argentine peso'),
	('AUD', 2, 'Australian dollar'),
	('AWG', 2, 'Aruban florin'),
	('AZN', 2, 'Azerbaijani manat'),
	('BAM', 2, 'Bosnia and Herzegovina convertible mark'),
	('BBD', 2, 'Barbados dollar'),
	('BDT', 2, 'Bangladeshi taka'),
	('BGN', 2, 'Bulgarian lev'),
	('BHD', 3, 'Bahraini dinar'),
	('BIF', 0, 'Burundian franc'),
	('BMD', 2, 'Bermudian dollar'),
	('BND', 2, 'Brunei dollar'),
	('BOB', 2, 'Boliviano'),
	('BRL', 2, 'Brazilian real'),
	('BSD', 2, 'Bahamian dollar'),
	('BTN', 2, 'Bhutanese ngultrum'),
	('BWP', 2, 'Botswana pula'),
	('BYN', 2, 'Belarusian ruble'),
	('BZD', 2, 'Belize dollar'),
	('CAD', 2, 'Canadian dollar'),
	('CDF', 2, 'Congolese franc'),
	('CHF', 2, 'Swiss franc'),
	('CLF', 4, 'Unidad de Fomento'),
	('CLP', 0, 'Chilean peso'),
	('CNY', 2, 'Renminbi'),
	('COP', 2, 'Colombian peso'),
	('CRC', 2, 'Costa Rican colon'),
	('CUP', 2, 'Cuban peso'),
	('CVE', 2, 'Cape Verdean escudo'),
	('CZK', 2, 'Czech koruna'),
	('DJF', 0, 'Djiboutian franc'),
	('DKK', 2, 'Danish krone'),
	('DOP', 2, 'Dominican peso'),
	('DZD', 2, 'Algerian dinar'),
	('EGP', 2, 'Egyptian pound'),
	('ERN', 2, 'Eritrean nakfa'),
	('ETB', 2, 'Ethiopian birr'),
	('EUR', 2, 'Euro'),
	('FJD', 2, 'Fiji dollar'),
	('FKP', 2, 'Falkland Islands pound'),
	('GBP', 2, 'Pound sterling'),
	('GEL', 2, 'Georgian lari'),
	('GHS', 2, 'Ghanaian cedi'),
	('GIP', 2, 'Gibraltar pound'),
	('GMD', 2, 'Gambian dalasi'),
	('GNF', 0, 'Guinean franc'),
	('GTQ', 2, 'Guatemalan quetzal'),
	('GYD', 2, 'Guyanese dollar'),
	('HKD', 2, 'Hong Kong dollar'),
	('HNL', 2, 'Honduran lempira'),
	('HTG', 2, 'Haitian gourde'),
	('HUF', 2, 'Hungarian forint'),
	('IDR', 2, 'Indonesian rupiah'),
	('ILS', 2, 'Israeli new shekel'),
	('INR', 2, 'Indian rupee'),
	('IQD', 3, 'Iraqi dinar'),
	('IRR', 2, 'Iranian rial'),
	('ISK', 0, 'Icelandic krona'),
	('JMD', 2, 'Jamaican dollar'),
	('JOD', 3, 'Jordanian dinar'),
	('JPY', 0, 'Japanese yen'),
	('KES', 2, 'Kenyan shilling'),
	('KGS', 2, 'Kyrgyzstani som'),
	('KHR', 2, 'Cambodian riel'),
	('KMF', 0, 'Comoro franc'),
	('KPW', 2, 'North Korean won'),
	('KRW', 0, 'South Korean won'),
	('KWD', 3, 'Kuwaiti dinar'),
	('KYD', 2, 'Cayman Islands dollar'),
	('KZT', 2, 'Kazakhstani tenge'),
	('LAK', 2, 'Lao kip'),
	('LBP', 2, 'Lebanese pound'),
	('LKR', 2, 'Sri Lankan rupee'),
	('LRD', 2, 'Liberian dollar'),
	('LSL', 2, 'Lesotho loti'),
	('LYD', 3, 'Libyan dinar'),
	('MAD', 2, 'Moroccan dirham'),
	('MDL', 2, 'Moldovan leu'),
	('MGA', 2, 'Malagasy ariary'),
	('MKD', 2, 'Macedonian denar'),
	('MMK', 2, 'Myanmar kyat'),
	('MNT', 2, 'Mongolian togrog'),
	('MOP', 2, 'Macanese pataca'),
	('MRU', 2, 'Mauritanian ouguiya'),
	('MUR', 2, 'Mauritian rupee'),
	('MVR', 2, 'Maldivian rufiyaa'),
	('MWK', 2, 'Malawian kwacha'),
	('MXN', 2, 'Mexican peso'),
	('MYR', 2, 'Malaysian ringgit'),
	('MZN', 2, 'Mozambican metical'),
	('NAD', 2, 'Namibian dollar'),
	('NGN', 2, 'Nigerian naira'),
	('NIO', 2, 'Nicaraguan cordoba'),
	('NOK', 2, 'Norwegian krone'),
	('NPR', 2, 'Nepalese rupee'),
	('NZD', 2, 'New Zealand dollar'),
	('OMR', 3, 'Omani rial'),
	('PAB', 2, 'Panamanian balboa'),
	('PEN', 2, 'Peruvian sol'),
	('PGK', 2, 'Papua New Guinean kina'),
	('PHP', 2, 'Philippine peso'),
	('PKR', 2, 'Pakistani rupee'),
	('PLN', 2, 'Polish zloty'),
	('PYG', 0, 'Paraguayan guarani'),
	('QAR', 2, 'Qatari riyal'),
	('RON', 2, 'Romanian leu'),
	('RSD', 2, 'Serbian dinar'),
	('RUB', 2, 'Russian ruble'),
	('RWF', 0, 'Rwandan franc'),
	('SAR', 2, 'Saudi riyal'),
	('SBD', 2, 'Solomon Islands dollar'),
	('SCR', 2, 'Seychelles rupee'),
	('SDG', 2, 'Sudanese pound'),
	('SEK', 2, 'Swedish krona'),
	('SGD', 2, 'Singapore dollar'),
	('SHP', 2, 'Saint Helena pound'),
	('SLE', 2, 'Sierra Leonean leone'),
	('SOS', 2, 'Somali shilling'),
	('SRD', 2, 'Surinamese dollar'),
	('SSP', 2, 'South Sudanese pound'),
	('STN', 2, 'Sao Tome and Principe dobra'),
	('SVC', 2, 'Salvadoran colon'),
	('SYP', 2, 'Syrian pound'),
	('SZL', 2, 'Swazi lilangeni'),
	('THB', 2, 'Thai baht'),
	('TJS', 2, 'Tajikistani somoni'),
	('TMT', 2, 'Turkmenistan manat'),
	('TND', 3, 'Tunisian dinar'),
	('TOP', 2, 'Tongan paanga'),
	('TRY', 2, 'Turkish lira'),
	('TTD', 2, 'Trinidad and Tobago dollar'),
	('TWD', 2, 'New Taiwan dollar'),
	('TZS', 2, 'Tanzanian shilling'),
	('UAH', 2, 'Ukrainian hryvnia'),
	('UGX', 0, 'Ugandan shilling'),
	('USD', 2, 'United States dollar'),
	('UYU', 2, 'Uruguayan peso'),
	('UYW', 4, 'Unidad previsional'),
	('UZS', 2, 'Uzbekistan sum'),
	('VED', 2, 'Venezuelan digital bolivar'),
	('VES', 2, 'Venezuelan sovereign bolivar'),
	('VND', 0, 'Vietnamese dong'),
	('VUV', 0, 'Vanuatu vatu'),
	('WST', 2, 'Samoan tala'),
	('XAF', 0, 'CFA franc BEAC'),
	('XCD', 2, 'East Caribbean dollar'),
	('XCG', 2, 'Caribbean guilder'),
	('XOF', 0, 'CFA franc BCEAO'),
	('XPF', 0, 'CFP franc'),
	('YER', 2, 'Yemeni rial'),
	('ZAR', 2, 'South African rand'),
	('ZMW', 2, 'Zambian kwacha'),
	('ZWG', 2, 'Zimbabwe gold');

CREATE TABLE plum_internal.company (
	company_id	bigserial PRIMARY KEY,
	name		text NOT NULL CHECK (name <> ''),
	base_currency text NOT NULL REFERENCES plum_internal.currency (code),
	scale		smallint NOT NULL CHECK (scale BETWEEN 0 AND 4),
	points_validity interval NOT NULL CHECK (points_validity > interval '0'),
	code_denominations numeric[] NOT NULL,
	max_grant	numeric NOT NULL CHECK (max_grant > 0),
	created		timestamptz NOT NULL,
	tier_window interval NOT NULL DEFAULT '1 year'
	CHECK (tier_window > interval '0')
);

CREATE TABLE plum_internal.admin (
	admin_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	email		plum.recipient NOT NULL,
	role		text NOT NULL CHECK (role IN ('super_admin', 'admin')),
	threshold	numeric NOT NULL CHECK (threshold >= 0),
	created_total numeric NOT NULL DEFAULT 0 CHECK (created_total >= 0),
	pool		numeric NOT NULL DEFAULT 0,
	created		timestamptz NOT NULL,
	chain_head	bytea,
	UNIQUE (company_id, email)
);

-- pg_dump keeps every plum row (currencies come with the extension script itself)
SELECT pg_catalog.pg_extension_config_dump('plum_internal.company', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.company_company_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.admin', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.admin_admin_id_seq', '');

-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
-- An admin's pool is admin.pool plus its stripes: points earned by events are drawn from a stripe
-- no other transaction holds (plum_internal.debit_earned), so concurrent events funded by one
-- admin do not queue on the admin's row until commit.
CREATE TABLE plum_internal.pool_stripe (
	admin_id	bigint NOT NULL REFERENCES plum_internal.admin,
	stripe		smallint NOT NULL CHECK (stripe BETWEEN 0 AND 15),
	amount		numeric NOT NULL DEFAULT 0 CHECK (amount >= 0),
	PRIMARY KEY (admin_id, stripe)
);
SELECT pg_catalog.pg_extension_config_dump('plum_internal.pool_stripe', '');
REVOKE ALL ON plum_internal.pool_stripe FROM PUBLIC;
-- @end

-- @api
COMMENT ON TABLE plum_internal.currency IS 'ISO 4217 currencies a company may choose as its base currency, with their minor units.';
COMMENT ON COLUMN plum_internal.currency.code IS 'ISO 4217 alphabetic code, e.g. USD.';
COMMENT ON COLUMN plum_internal.currency.minor_unit IS 'Decimals of the currency: USD 2, JPY 0, KWD 3. Amounts must be exact to it.';
COMMENT ON COLUMN plum_internal.currency.name IS 'English name of the currency.';
COMMENT ON TABLE plum_internal.company IS 'Tenants. 1 point = 1 unit of the base currency. Written only by plum.create_company().';
COMMENT ON COLUMN plum_internal.company.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.company.name IS 'Company name.';
COMMENT ON COLUMN plum_internal.company.base_currency IS 'ISO 4217 base currency; 1 point = 1 unit of it.';
COMMENT ON COLUMN plum_internal.company.scale IS 'Decimals of the base currency (its minor unit); every amount is exact to it.';
COMMENT ON COLUMN plum_internal.company.points_validity IS 'How long a points grant lives from its issue (default 1 year).';
COMMENT ON COLUMN plum_internal.company.code_denominations IS 'Denominations codes may be issued in.';
COMMENT ON COLUMN plum_internal.company.max_grant IS 'The largest single points grant.';
COMMENT ON COLUMN plum_internal.company.created IS 'When the company was created (plum clock).';
COMMENT ON COLUMN plum_internal.company.tier_window IS 'The rolling window (ending at plum''s clock) over which a member''s purchase spend decides its loyalty tier.';
COMMENT ON TABLE plum_internal.admin IS 'Admins of a company, each with a threshold (the most value it may ever create) and an undistributed pool that never expires. Thresholds and pools are enforced by trigger on every write.';
COMMENT ON COLUMN plum_internal.admin.admin_id IS 'Admin id.';
COMMENT ON COLUMN plum_internal.admin.company_id IS 'The company the admin belongs to.';
COMMENT ON COLUMN plum_internal.admin.email IS 'The admin''s email address.';
COMMENT ON COLUMN plum_internal.admin.role IS 'super_admin (may change thresholds) or admin.';
COMMENT ON COLUMN plum_internal.admin.threshold IS 'The most value this admin may ever create.';
COMMENT ON COLUMN plum_internal.admin.created_total IS 'Value this admin has created so far: points created, plus the value of its links open or redeemed (never above threshold).';
COMMENT ON TABLE plum_internal.pool_stripe IS 'Parts of admin pools set aside for points earned by events: an admin''s pool is admin.pool plus the amounts of its stripes.';
COMMENT ON COLUMN plum_internal.pool_stripe.admin_id IS 'The admin whose pool it is part of.';
COMMENT ON COLUMN plum_internal.pool_stripe.stripe IS 'Stripe number, 0 to 15.';
COMMENT ON COLUMN plum_internal.pool_stripe.amount IS 'Points of the pool held in this stripe.';
COMMENT ON COLUMN plum_internal.admin.pool IS 'Undistributed value: created and not yet handed out (never below zero; never expires).';
COMMENT ON COLUMN plum_internal.admin.created IS 'When the admin was added (plum clock).';
COMMENT ON COLUMN plum_internal.admin.chain_head IS 'The head of the admin''s pool chain: the hash of its last create, reserve, unreserve or code_issue ledger row (NULL before the first).';

-- Enforce thresholds and pools on every write of plum_internal.admin, whoever writes it.
CREATE FUNCTION plum_internal.admin_guard() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_scale smallint;
BEGIN
	SELECT c.scale INTO v_scale FROM plum_internal.company c WHERE c.company_id = NEW.company_id;
	-- the money limit (src/money.h, 10^18 - 1 minor units): sums over admins never overflow
	IF NEW.created_total > (10::numeric ^ 18 - 1) / 10::numeric ^ v_scale
			AND (TG_OP = 'INSERT' OR NEW.created_total > OLD.created_total) THEN
		PERFORM plum_internal.raise('PU008', 'admin total exceeds the money limit',
			format('Admin %s has created %s; %s more would pass %s, the most plum handles.', NEW.admin_id,
				round(CASE WHEN TG_OP = 'UPDATE' THEN OLD.created_total ELSE 0 END, v_scale),
				round(NEW.created_total - CASE WHEN TG_OP = 'UPDATE' THEN OLD.created_total ELSE 0 END, v_scale),
				round((10::numeric ^ 18 - 1) / 10::numeric ^ v_scale, v_scale)));
	END IF;
	IF NEW.created_total > NEW.threshold THEN
		IF TG_OP = 'UPDATE' AND NEW.created_total > OLD.created_total THEN
			PERFORM plum_internal.raise('PU004', 'admin threshold exceeded',
				format('Admin %s has a threshold of %s and has created %s; creating %s more would make %s.',
					NEW.admin_id, round(NEW.threshold, v_scale), round(OLD.created_total, v_scale),
					round(NEW.created_total - OLD.created_total, v_scale), round(NEW.created_total, v_scale)),
				'A super admin of the company can raise the threshold with plum.set_threshold().');
		ELSE
			PERFORM plum_internal.raise('PU004', 'admin threshold exceeded',
				format('Admin %s would have a threshold of %s but has created %s.',
					NEW.admin_id, round(NEW.threshold, v_scale), round(NEW.created_total, v_scale)),
				'A threshold cannot be set below what the admin has already created.');
		END IF;
	END IF;
	IF NEW.pool < 0 THEN
		PERFORM plum_internal.raise('PU001', 'insufficient pool',
			format('Admin %s''s pool would be %s.', NEW.admin_id, round(NEW.pool, v_scale)),
			'Create points into the pool with plum.create_points() first.');
	END IF;
	IF NEW.pool > NEW.created_total THEN
		PERFORM plum_internal.raise('PU009', 'pool above what the admin created',
			format('Admin %s''s pool would be %s but it has created %s.', NEW.admin_id,
				round(NEW.pool, v_scale), round(NEW.created_total, v_scale)));
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION plum_internal.admin_guard() IS
	'Trigger: an admin never creates more than its threshold (PU004), its pool never goes below zero (PU001) nor above what it created.';
CREATE TRIGGER admin_guard BEFORE INSERT OR UPDATE ON plum_internal.admin
	FOR EACH ROW EXECUTE FUNCTION plum_internal.admin_guard();

-- Validate an amount of a company's currency: NULL (22004), NaN/infinite/zero/negative/too many decimals (PU008).
CREATE FUNCTION plum_internal.valid_amount(amount numeric, scale smallint, what text DEFAULT 'amount') RETURNS numeric
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, plum, pg_temp
	RETURN round(plum_internal.check_amount(amount, scale, what)::numeric / (10::numeric ^ scale), scale);
COMMENT ON FUNCTION plum_internal.valid_amount(numeric, smallint, text) IS
	'Internal: the amount rounded to the currency''s decimals after plum_internal.check_amount() refused anything invalid.';

-- The admin, or PU005: the one look-up every admin_id argument goes through.
CREATE FUNCTION plum_internal.admin_row(admin_id bigint) RETURNS plum_internal.admin
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin plum_internal.admin;
BEGIN
	SELECT * INTO v_admin FROM plum_internal.admin a WHERE a.admin_id = admin_row.admin_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown admin', format('There is no admin %s.', admin_row.admin_id));
	END IF;
	PERFORM plum_internal.check_admin(admin_row.admin_id, v_admin.company_id);
	RETURN v_admin;
END
$$;
COMMENT ON FUNCTION plum_internal.admin_row(bigint) IS
	'Internal: the admin with this id, or PU005; PU009 when the calling role may not act as it (plum_internal.check_admin).';

-- The admin's company, or PU005.
CREATE FUNCTION plum_internal.admin_company(admin_id bigint) RETURNS plum_internal.company
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company plum_internal.company;
BEGIN
	SELECT c.* INTO v_company FROM plum_internal.admin a JOIN plum_internal.company c USING (company_id)
		WHERE a.admin_id = admin_company.admin_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown admin', format('There is no admin %s.', admin_company.admin_id));
	END IF;
	PERFORM plum_internal.check_admin(admin_company.admin_id, v_company.company_id);
	RETURN v_company;
END
$$;
COMMENT ON FUNCTION plum_internal.admin_company(bigint) IS
	'Internal: the company of the admin with this id, or PU005; PU009 when the calling role may not act as it (plum_internal.check_admin).';

-- An admin's whole pool is admin.pool plus its stripes: the one place that adds them up.  A view,
-- so that plum.admins and plum.liability read it as part of their own plan (no function call per
-- row) with the view owner's privileges (their readers may not read pool_stripe).
CREATE VIEW plum_internal.admin_pool AS
	SELECT a.admin_id, a.company_id, a.email, a.role, a.threshold, a.created_total, a.created,
		a.pool + coalesce((SELECT sum(s.amount) FROM plum_internal.pool_stripe s WHERE s.admin_id = a.admin_id), 0) AS pool
	FROM plum_internal.admin a;
REVOKE ALL ON plum_internal.admin_pool FROM PUBLIC;
COMMENT ON VIEW plum_internal.admin_pool IS 'Internal: every admin with its whole pool (admin.pool plus its pool stripes), not rounded. Read by plum.admins, plum.liability, plum.create_points and plum_internal.verify_pools.';
COMMENT ON COLUMN plum_internal.admin_pool.admin_id IS 'Admin id.';
COMMENT ON COLUMN plum_internal.admin_pool.company_id IS 'The company the admin belongs to.';
COMMENT ON COLUMN plum_internal.admin_pool.email IS 'The admin''s email address.';
COMMENT ON COLUMN plum_internal.admin_pool.role IS 'super_admin or admin.';
COMMENT ON COLUMN plum_internal.admin_pool.threshold IS 'The most value the admin may ever create.';
COMMENT ON COLUMN plum_internal.admin_pool.created_total IS 'Value the admin has created so far (admin.created_total).';
COMMENT ON COLUMN plum_internal.admin_pool.created IS 'When the admin was added.';
COMMENT ON COLUMN plum_internal.admin_pool.pool IS 'The admin''s whole pool: admin.pool plus the amounts of its pool stripes.';

-- Move every stripe of an admin's pool back into admin.pool (locks: the admin's row, then its
-- stripes in order: the canonical order); returns the whole pool.
CREATE FUNCTION plum_internal.gather_stripes(admin_id bigint) RETURNS numeric
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_pool numeric;
	v_striped numeric;
BEGIN
	SELECT a.pool INTO v_pool FROM plum_internal.admin a WHERE a.admin_id = gather_stripes.admin_id FOR UPDATE;
	SELECT coalesce(sum(x.amount), 0) INTO v_striped FROM (SELECT s.amount FROM plum_internal.pool_stripe s
		WHERE s.admin_id = gather_stripes.admin_id ORDER BY s.stripe FOR UPDATE) x;
	IF v_striped > 0 THEN
		UPDATE plum_internal.pool_stripe s SET amount = 0 WHERE s.admin_id = gather_stripes.admin_id AND s.amount <> 0;
		UPDATE plum_internal.admin a SET pool = a.pool + v_striped WHERE a.admin_id = gather_stripes.admin_id;
	END IF;
	RETURN v_pool + v_striped;
END
$$;
COMMENT ON FUNCTION plum_internal.gather_stripes(bigint) IS
	'Internal: move the admin''s pool stripes back into admin.pool (locking the admin''s row, then the stripes in order); returns the whole pool.';

-- Take amount from an admin's pool for points earned by an event, or PU001 with the figures.
-- Usually one UPDATE of a stripe that can pay it and that no other transaction holds (SKIP LOCKED:
-- never waits), held until commit; else the admin's row and all its stripes are locked in order,
-- gathered, debited, and half of what is left is spread over the 16 stripes again.
CREATE FUNCTION plum_internal.debit_earned(admin_id bigint, amount numeric, scale smallint, what text DEFAULT '')
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_pool numeric;
	v_each numeric;
BEGIN
	UPDATE plum_internal.pool_stripe s SET amount = s.amount - debit_earned.amount
		WHERE s.admin_id = debit_earned.admin_id AND s.stripe = (SELECT f.stripe FROM plum_internal.pool_stripe f
			WHERE f.admin_id = debit_earned.admin_id AND f.amount >= debit_earned.amount
			ORDER BY (f.stripe + pg_backend_pid()) % 16 LIMIT 1 FOR UPDATE SKIP LOCKED);
	IF FOUND THEN
		RETURN;
	END IF;
	v_pool := plum_internal.gather_stripes(debit_earned.admin_id);
	IF v_pool < amount THEN
		PERFORM plum_internal.raise('PU001', 'insufficient pool',
			format('Admin %s''s pool is %s, requested %s%s.', debit_earned.admin_id, round(v_pool, scale), round(amount, scale), what),
			'Create points into the pool with plum.create_points() first.');
	END IF;
	v_each := trunc((v_pool - amount) / 32, scale);
	UPDATE plum_internal.admin a SET pool = a.pool - debit_earned.amount - 16 * v_each WHERE a.admin_id = debit_earned.admin_id;
	IF v_each > 0 THEN
		INSERT INTO plum_internal.pool_stripe AS s (admin_id, stripe, amount)
			SELECT debit_earned.admin_id, g, v_each FROM generate_series(0, 15) g
			ON CONFLICT ON CONSTRAINT pool_stripe_pkey DO UPDATE SET amount = s.amount + excluded.amount;
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.debit_earned(bigint, numeric, smallint, text) IS
	'Internal: take an amount from the admin''s pool for earned points, from a pool stripe no other transaction holds when one can pay it (no waiting on the admin''s row), else gathering the stripes under the admin''s row lock and spreading half of the rest over them again; PU001 when the whole pool is short.';

-- Take amount from an admin's pool (the row lock serialises the pool), or PU001 with the figures.
CREATE FUNCTION plum_internal.debit_pool(admin_id bigint, amount numeric, scale smallint, what text DEFAULT '',
		entry jsonb DEFAULT NULL)
	RETURNS numeric
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_pool numeric;
	v_entry plum_internal.journal;
BEGIN
	-- the pool's own ledger row (reserve, code_issue), if given, chains on the pool in the same UPDATE
	IF entry IS NOT NULL THEN
		v_entry := jsonb_populate_record(NULL::plum_internal.journal, entry);
	END IF;
	UPDATE plum_internal.admin a SET pool = a.pool - debit_pool.amount,
		chain_head = CASE WHEN entry IS NULL THEN a.chain_head ELSE plum_internal.entry_hash(a.chain_head, v_entry) END
		WHERE a.admin_id = debit_pool.admin_id AND a.pool >= debit_pool.amount RETURNING a.pool, a.chain_head INTO v_pool, v_entry.hash;
	IF NOT FOUND THEN
		-- the rest of the pool is in its stripes: gather them back (the admin's row, then the stripes in order)
		PERFORM plum_internal.gather_stripes(debit_pool.admin_id);
		UPDATE plum_internal.admin a SET pool = a.pool - debit_pool.amount,
			chain_head = CASE WHEN entry IS NULL THEN a.chain_head ELSE plum_internal.entry_hash(a.chain_head, v_entry) END
			WHERE a.admin_id = debit_pool.admin_id AND a.pool >= debit_pool.amount RETURNING a.pool, a.chain_head INTO v_pool, v_entry.hash;
	END IF;
	IF NOT FOUND THEN
		SELECT a.pool INTO v_pool FROM plum_internal.admin a WHERE a.admin_id = debit_pool.admin_id;
		PERFORM plum_internal.raise('PU001', 'insufficient pool',
			format('Admin %s''s pool is %s, requested %s%s.', debit_pool.admin_id, round(v_pool, scale),
				round(debit_pool.amount, scale), what),
			'Create points into the pool with plum.create_points() first.');
	END IF;
	IF entry IS NOT NULL THEN
		INSERT INTO plum_internal.journal SELECT v_entry.*;
	END IF;
	RETURN v_pool;
END
$$;
COMMENT ON FUNCTION plum_internal.debit_pool(bigint, numeric, smallint, text, jsonb) IS
	'Internal: take an amount from the admin''s pool and return the new pool; PU001 (with the pool and the request) when it is short. '
	'entry (the columns of a ledger row of the pool: reserve, code_issue) is chained on the pool''s head in the same UPDATE and written.';

-- A points grant within the company's largest grant, or PU008 (nth: the grant's place in a bulk call).
CREATE FUNCTION plum_internal.check_grant(company_id bigint, scale smallint, max_grant numeric, amount numeric,
		nth bigint DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	IF amount > max_grant THEN
		PERFORM plum_internal.raise('PU008', 'amount exceeds the largest grant',
			format('%s is %s; the largest grant of company %s is %s.',
				CASE WHEN nth IS NULL THEN 'The amount' ELSE format('Amount #%s', nth) END,
				round(amount, scale), company_id, round(max_grant, scale)),
			'Split the grant, or raise the company''s largest grant.');
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.check_grant(bigint, smallint, numeric, numeric, bigint) IS
	'Internal: PU008 when a points grant is over the company''s largest grant.';

CREATE FUNCTION plum.create_company(name text, base_currency text, points_validity interval DEFAULT '1 year',
		code_denominations numeric[] DEFAULT '{5,10,50,100,500,1000,5000}', max_grant numeric DEFAULT 50000,
		tier_window interval DEFAULT '1 year')
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_currency plum_internal.currency;
	v_denoms numeric[];
	v_id bigint;
	v_bad numeric;
BEGIN
	PERFORM plum_internal.not_null(name, 'name');
	PERFORM plum_internal.not_null(base_currency, 'base_currency');
	PERFORM plum_internal.not_null(points_validity, 'points_validity');
	PERFORM plum_internal.not_null(code_denominations, 'code_denominations');
	PERFORM plum_internal.not_null(max_grant, 'max_grant');
	PERFORM plum_internal.not_null(tier_window, 'tier_window');
	IF plum_internal.trim_name(name) = '' THEN
		PERFORM plum_internal.raise('22023', 'company name must not be empty');
	END IF;
	SELECT * INTO v_currency FROM plum_internal.currency c WHERE c.code = upper(plum_internal.trim_name(base_currency));
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('22023', format('unknown currency "%s"', base_currency),
			'The base currency must be an ISO 4217 code listed in plum.currencies.',
			'Use a code such as USD, EUR, JPY or KWD.');
	END IF;
	-- positive for ANY issue instant: no part negative ('1 month -29 days' is 1 day after some
	-- instants and -1 day after others), and not zero
	IF points_validity <= interval '0' OR isfinite(points_validity) IS NOT TRUE
			OR extract(year FROM points_validity) * 12 + extract(month FROM points_validity) < 0
			OR extract(day FROM points_validity) < 0
			OR extract(epoch FROM points_validity - date_trunc('day', points_validity)) < 0 THEN
		PERFORM plum_internal.raise('22023', 'points validity must be positive',
			format('The points validity is %s.', points_validity),
			'Give a validity whose parts are all positive or zero, such as ''1 year'' or ''90 days''.');
	END IF;
	-- today's lots must be able to expire: now() + validity within the timestamp range (year 294276)
	BEGIN
		PERFORM plum.now() + points_validity;
	EXCEPTION WHEN datetime_field_overflow THEN
		PERFORM plum_internal.raise('22023', 'points validity is too long',
			format('The points validity is %s; a lot issued now would expire past the largest timestamp (year 294276).',
				points_validity));
	END;
	IF array_ndims(code_denominations) > 1 THEN
		PERFORM plum_internal.raise('22023', 'code denominations must be a one-dimensional array',
			format('The denominations are %s.', code_denominations));
	END IF;
	IF cardinality(code_denominations) = 0 OR array_position(code_denominations, NULL) IS NOT NULL THEN
		PERFORM plum_internal.raise('PU008', 'invalid code denominations',
			format('The denominations are %s; give at least one and no NULL.', code_denominations));
	END IF;
	SELECT array_agg(plum_internal.valid_amount(d, v_currency.minor_unit, 'denomination') ORDER BY d)
		INTO v_denoms FROM unnest(code_denominations) AS d;
	SELECT d INTO v_bad FROM unnest(v_denoms) d GROUP BY d HAVING count(*) > 1 LIMIT 1;
	IF FOUND THEN
		PERFORM plum_internal.raise('PU008', 'duplicate code denomination',
			format('The denomination %s is listed more than once.', v_bad));
	END IF;
	max_grant := plum_internal.valid_amount(max_grant, v_currency.minor_unit, 'largest grant');
	IF tier_window <= interval '0' OR isfinite(tier_window) IS NOT TRUE
			OR extract(year FROM tier_window) * 12 + extract(month FROM tier_window) < 0
			OR extract(day FROM tier_window) < 0
			OR extract(epoch FROM tier_window - date_trunc('day', tier_window)) < 0 THEN
		PERFORM plum_internal.raise('22023', 'tier window must be positive',
			format('The tier window is %s.', tier_window),
			'Give a window whose parts are all positive or zero, such as ''1 year'' or ''90 days''.');
	END IF;
	PERFORM plum_internal.check_unconfined('create companies');

	INSERT INTO plum_internal.company (name, base_currency, scale, points_validity, code_denominations, max_grant, created,
			tier_window)
		VALUES (plum_internal.trim_name(create_company.name), v_currency.code, v_currency.minor_unit, create_company.points_validity,
			v_denoms, create_company.max_grant, plum.now(), create_company.tier_window)
		RETURNING company_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.create_company(text, text, interval, numeric[], numeric, interval) IS
	'Create a company (tenant) with an ISO 4217 base currency (1 point = 1 unit), points validity, code denominations, largest grant and tier window (the rolling spend that decides loyalty tiers); returns its id.';

CREATE FUNCTION plum.add_admin(company_id bigint, email plum.recipient, role text DEFAULT 'admin', threshold numeric DEFAULT 0)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company plum_internal.company;
	v_id bigint;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(email, 'email');
	PERFORM plum_internal.not_null(role, 'role');
	PERFORM plum_internal.not_null(threshold, 'threshold');
	SELECT * INTO v_company FROM plum_internal.company c WHERE c.company_id = add_admin.company_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', add_admin.company_id));
	END IF;
	PERFORM plum_internal.check_super_admin(add_admin.company_id);
	IF plum.recipient_kind(email) <> 'email' THEN
		PERFORM plum_internal.raise('22023', 'an admin must have an email address',
			format('"%s" is a phone number.', email));
	END IF;
	IF role NOT IN ('super_admin', 'admin') THEN
		PERFORM plum_internal.raise('22023', format('invalid admin role "%s"', role), NULL,
			'The role is super_admin or admin.');
	END IF;
	IF threshold < 0 THEN
		PERFORM plum_internal.raise('PU008', 'threshold must not be negative', format('The threshold is %s.', threshold));
	ELSIF threshold <> 0 THEN
		threshold := plum_internal.valid_amount(threshold, v_company.scale, 'threshold');
	END IF;
	PERFORM 1 FROM plum_internal.admin a WHERE a.company_id = add_admin.company_id AND a.email = add_admin.email;
	IF FOUND THEN
		PERFORM plum_internal.raise('23505', 'admin already exists',
			format('Company %s already has an admin %s.', add_admin.company_id, email));
	END IF;
	INSERT INTO plum_internal.admin (company_id, email, role, threshold, created)
		VALUES (add_admin.company_id, add_admin.email, add_admin.role, round(add_admin.threshold, v_company.scale), plum.now())
		RETURNING admin_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.add_admin(bigint, plum.recipient, text, numeric) IS
	'Add an admin (role super_admin or admin) to a company with a threshold: the most value it may ever create. Returns the admin id.';

CREATE FUNCTION plum.set_threshold(by_admin bigint, admin_id bigint, threshold numeric) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_by plum_internal.admin;
	v_target plum_internal.admin;
	v_scale smallint;
BEGIN
	PERFORM plum_internal.not_null(by_admin, 'by_admin');
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(threshold, 'threshold');
	v_by := plum_internal.admin_row(by_admin);
	-- the target is any admin of the company (not one the caller must act as)
	SELECT * INTO v_target FROM plum_internal.admin a WHERE a.admin_id = set_threshold.admin_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown admin', format('There is no admin %s.', set_threshold.admin_id));
	END IF;
	IF v_target.company_id <> v_by.company_id THEN
		PERFORM plum_internal.raise('PU009', 'admin belongs to another company',
			format('Admin %s is in company %s; admin %s is in company %s.', by_admin, v_by.company_id,
				set_threshold.admin_id, v_target.company_id));
	END IF;
	IF v_by.role <> 'super_admin' THEN
		PERFORM plum_internal.raise('PU009', 'only a super admin may change thresholds',
			format('Admin %s is an %s.', by_admin, v_by.role),
			'Ask a super admin of the company.');
	END IF;
	SELECT c.scale INTO v_scale FROM plum_internal.company c WHERE c.company_id = v_by.company_id;
	IF threshold < 0 THEN
		PERFORM plum_internal.raise('PU008', 'threshold must not be negative', format('The threshold is %s.', threshold));
	ELSIF threshold <> 0 THEN
		threshold := plum_internal.valid_amount(threshold, v_scale, 'threshold');
	END IF;
	UPDATE plum_internal.admin a SET threshold = round(set_threshold.threshold, v_scale) WHERE a.admin_id = set_threshold.admin_id;
END
$$;
COMMENT ON FUNCTION plum.set_threshold(bigint, bigint, numeric) IS
	'A super admin (by_admin) sets the threshold of an admin of the same company; never below what that admin already created (PU004).';

CREATE FUNCTION plum.create_points(admin_id bigint, amount numeric) RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company bigint;
	v_scale smallint;
	v_entry bigint;
	v_now timestamptz := plum.now();
	v_hash bytea;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	SELECT c.company_id, c.scale INTO v_company, v_scale FROM plum_internal.admin_company(create_points.admin_id) c;
	amount := plum_internal.valid_amount(amount, v_scale);
	v_entry := nextval('plum_internal.journal_entry_id_seq');
	-- the row lock serialises one admin's creations; the trigger enforces the threshold
	UPDATE plum_internal.admin a SET created_total = a.created_total + amount, pool = a.pool + amount,
		chain_head = plum_internal.entry_hash(a.chain_head, v_entry, v_company, v_now, 'create', amount,
			create_points.admin_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
		WHERE a.admin_id = create_points.admin_id RETURNING a.chain_head INTO v_hash;
	INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, hash)
		VALUES (v_entry, v_company, v_now, 'create', amount, create_points.admin_id, v_hash);
	RETURN round((SELECT p.pool FROM plum_internal.admin_pool p WHERE p.admin_id = create_points.admin_id), v_scale);
END
$$;
COMMENT ON FUNCTION plum.create_points(bigint, numeric) IS
	'Create points into the admin''s undistributed pool (never expires), within its threshold (PU004); returns the new pool.';
-- Views for DBAs and BI tools: stable names and columns (SPEC, "Views").

CREATE VIEW plum.admins WITH (security_barrier) AS
	SELECT a.admin_id, a.company_id, a.email, a.role,
		round(a.threshold, c.scale) AS threshold,
		round(a.created_total, c.scale) AS created,
		round(a.pool, c.scale) AS pool,
		round(a.threshold - a.created_total, c.scale) AS headroom,
		c.base_currency AS currency,
		a.created AS created_at
	FROM plum_internal.admin_pool a JOIN plum_internal.company c USING (company_id)
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR a.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.admins IS 'Admins with their threshold, the value they created so far, and their undistributed pool. A role confined to companies sees only theirs (plum.grant_company).';
COMMENT ON COLUMN plum.admins.admin_id IS 'Admin id.';
COMMENT ON COLUMN plum.admins.company_id IS 'Company id.';
COMMENT ON COLUMN plum.admins.email IS 'The admin''s email address.';
COMMENT ON COLUMN plum.admins.role IS 'super_admin or admin.';
COMMENT ON COLUMN plum.admins.threshold IS 'The most value the admin may ever create.';
COMMENT ON COLUMN plum.admins.created IS 'Value the admin has created so far: points created plus its open and redeemed links (counts against the threshold).';
COMMENT ON COLUMN plum.admins.pool IS 'Undistributed value (never expires).';
COMMENT ON COLUMN plum.admins.headroom IS 'threshold - created: what the admin may still create.';
COMMENT ON COLUMN plum.admins.currency IS 'The company''s base currency.';
COMMENT ON COLUMN plum.admins.created_at IS 'When the admin was added.';
-- verify(): replay the whole ledger against admin pools and every area's balances.


CREATE VIEW plum.companies WITH (security_barrier) AS
	SELECT c.company_id, c.name, c.base_currency AS currency,
		pg_catalog.jsonb_build_object(
			'points_validity', c.points_validity::text,
			'code_denominations', (SELECT pg_catalog.jsonb_agg(round(d, c.scale) ORDER BY d) FROM unnest(c.code_denominations) AS d),
			'max_grant', round(c.max_grant, c.scale)) AS settings,
		c.created,
		c.scale AS decimals,
		c.points_validity,
		(SELECT array_agg(round(d, c.scale) ORDER BY d) FROM unnest(c.code_denominations) AS d) AS code_denominations,
		round(c.max_grant, c.scale) AS max_grant
	FROM plum_internal.company c
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR c.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.companies IS 'Companies (tenants) with their base currency and settings, for BI tools and DBAs. A role confined to companies sees only theirs.';
COMMENT ON COLUMN plum.companies.company_id IS 'Company id (the id every other view and function names company_id).';
COMMENT ON COLUMN plum.companies.name IS 'Company name.';
COMMENT ON COLUMN plum.companies.currency IS 'ISO 4217 base currency; 1 point = 1 unit of it.';
COMMENT ON COLUMN plum.companies.settings IS 'The settings as one JSON object: points_validity (interval text), code_denominations, max_grant.';
COMMENT ON COLUMN plum.companies.created IS 'When the company was created (plum clock).';
COMMENT ON COLUMN plum.companies.decimals IS 'Decimals of the base currency (its minor unit): every amount is exact to it.';
COMMENT ON COLUMN plum.companies.points_validity IS 'How long a points grant lives from its issue.';
COMMENT ON COLUMN plum.companies.code_denominations IS 'Denominations codes may be issued in.';
COMMENT ON COLUMN plum.companies.max_grant IS 'The largest single points grant.';

CREATE VIEW plum.currencies AS
	SELECT c.code AS currency, c.minor_unit AS decimals, c.name FROM plum_internal.currency c;
COMMENT ON VIEW plum.currencies IS 'ISO 4217 currencies a company may choose as its base currency, with their decimals.';
COMMENT ON COLUMN plum.currencies.currency IS 'ISO 4217 alphabetic code, e.g. USD.';
COMMENT ON COLUMN plum.currencies.decimals IS 'Decimals of the currency (minor unit): USD 2, JPY 0, KWD 3. Amounts must be exact to it.';
COMMENT ON COLUMN plum.currencies.name IS 'English name of the currency.';

-- API functions: nobody but the roles below (and superusers) may call them
REVOKE EXECUTE ON FUNCTION
	plum.create_company(text, text, interval, numeric[], numeric, interval),
	plum.add_admin(bigint, plum.recipient, text, numeric),
	plum.set_threshold(bigint, bigint, numeric),
	plum.create_points(bigint, numeric),
	plum_internal.admin_guard(),
	plum_internal.valid_amount(numeric, smallint, text),
	plum_internal.admin_row(bigint),
	plum_internal.admin_company(bigint),
	plum_internal.debit_pool(bigint, numeric, smallint, text, jsonb),
	plum_internal.gather_stripes(bigint),
	plum_internal.debit_earned(bigint, numeric, smallint, text),
	plum_internal.check_grant(bigint, smallint, numeric, numeric, bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.create_company(text, text, interval, numeric[], numeric, interval),
	plum.add_admin(bigint, plum.recipient, text, numeric),
	plum.set_threshold(bigint, bigint, numeric),
	plum.create_points(bigint, numeric)
	TO plum_admin;
GRANT SELECT ON plum.admins, plum.companies, plum.currencies TO plum_reader;
