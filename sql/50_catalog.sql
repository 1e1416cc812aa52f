-- Campaigns and curated catalogs: what codes and links are spent on.

CREATE TABLE plum_internal.campaign (
	campaign_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	admin_id	bigint NOT NULL REFERENCES plum_internal.admin,
	name		text NOT NULL CHECK (name <> ''),
	mode		text NOT NULL CHECK (mode IN ('points', 'codes', 'links')),
	expires_at	timestamptz,
	created		timestamptz NOT NULL
);

CREATE TABLE plum_internal.item (
	item_id		bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	kind		text NOT NULL CHECK (kind IN ('gift_card', 'experience', 'merchandise', 'travel', 'charity', 'discount')),
	brand		text NOT NULL CHECK (brand <> ''),
	name		text NOT NULL CHECK (name <> ''),
	category	text NOT NULL CHECK (category <> ''),
	price		numeric CHECK (price > 0),
	min_value	numeric CHECK (min_value > 0),
	max_value	numeric,
	vendor		text,
	active		boolean NOT NULL DEFAULT true,
	created		timestamptz NOT NULL,
	CHECK ((price IS NOT NULL AND min_value IS NULL AND max_value IS NULL)
		OR (price IS NULL AND min_value IS NOT NULL AND max_value IS NOT NULL AND min_value <= max_value))
);
CREATE INDEX item_company ON plum_internal.item (company_id);

CREATE TABLE plum_internal.curation (
	rule_id		bigserial PRIMARY KEY,
	campaign_id	bigint NOT NULL REFERENCES plum_internal.campaign,
	include		boolean NOT NULL,
	item_id		bigint REFERENCES plum_internal.item,
	brand		text,
	category	text,
	CHECK (num_nonnulls(item_id, brand, category) = 1)
);
CREATE UNIQUE INDEX curation_rule ON plum_internal.curation (campaign_id, include, coalesce(item_id, 0), lower(coalesce(brand, '')), lower(coalesce(category, '')));

CREATE TYPE plum.catalog_item AS (
	item_id		bigint,
	company_id	bigint,
	kind		text,
	brand		text,
	name		text,
	category	text,
	price		numeric,
	min_value	numeric,
	max_value	numeric,
	vendor		text,
	currency	text
);
SELECT pg_catalog.pg_extension_config_dump('plum_internal.campaign', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.campaign_campaign_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.item', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.item_item_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.curation', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.curation_rule_id_seq', '');

-- @api
COMMENT ON TABLE plum_internal.campaign IS 'An admin''s use of one reward mode, with an optional expiry and a curated catalog. Written by plum.create_campaign().';
COMMENT ON COLUMN plum_internal.campaign.campaign_id IS 'Campaign id.';
COMMENT ON COLUMN plum_internal.campaign.company_id IS 'The company.';
COMMENT ON COLUMN plum_internal.campaign.admin_id IS 'The admin who created the campaign.';
COMMENT ON COLUMN plum_internal.campaign.name IS 'Campaign name.';
COMMENT ON COLUMN plum_internal.campaign.mode IS 'points, codes or links.';
COMMENT ON COLUMN plum_internal.campaign.expires_at IS 'When the campaign''s codes and links stop being redeemable (NULL: never).';
COMMENT ON COLUMN plum_internal.campaign.created IS 'When the campaign was created (plum clock).';
COMMENT ON TABLE plum_internal.item IS 'Catalog items a company offers: gift cards, experiences, merchandise, travel, charity, discounts; a fixed price or a value range, in the company''s currency.';
COMMENT ON COLUMN plum_internal.item.item_id IS 'Item id.';
COMMENT ON COLUMN plum_internal.item.company_id IS 'The company offering the item.';
COMMENT ON COLUMN plum_internal.item.kind IS 'gift_card, experience, merchandise, travel, charity or discount.';
COMMENT ON COLUMN plum_internal.item.brand IS 'Brand.';
COMMENT ON COLUMN plum_internal.item.name IS 'Item name.';
COMMENT ON COLUMN plum_internal.item.category IS 'Category.';
COMMENT ON COLUMN plum_internal.item.price IS 'Fixed price (NULL for a flexible value range).';
COMMENT ON COLUMN plum_internal.item.min_value IS 'Smallest value of a flexible item.';
COMMENT ON COLUMN plum_internal.item.max_value IS 'Largest value of a flexible item.';
COMMENT ON COLUMN plum_internal.item.vendor IS 'Vendor that fulfils the item.';
COMMENT ON COLUMN plum_internal.item.active IS 'Whether the item is offered (inactive items are in no catalog).';
COMMENT ON COLUMN plum_internal.item.created IS 'When the item was added (plum clock).';
COMMENT ON TABLE plum_internal.curation IS 'Curation rules of a campaign''s catalog: include rules restrict it to what they name, exclude rules remove items. Matched by item, brand or category (brand and category case-insensitively).';
COMMENT ON COLUMN plum_internal.curation.rule_id IS 'Rule id.';
COMMENT ON COLUMN plum_internal.curation.campaign_id IS 'The campaign.';
COMMENT ON COLUMN plum_internal.curation.include IS 'true: include rule; false: exclude rule.';
COMMENT ON COLUMN plum_internal.curation.item_id IS 'The item the rule names, or NULL.';
COMMENT ON COLUMN plum_internal.curation.brand IS 'The brand the rule names, or NULL.';
COMMENT ON COLUMN plum_internal.curation.category IS 'The category the rule names, or NULL.';
COMMENT ON TYPE plum.catalog_item IS 'An item of a campaign''s curated catalog, as returned by plum.campaign_catalog().';

CREATE FUNCTION plum.create_campaign(admin_id bigint, name text, mode text, expires_at timestamptz DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin plum_internal.admin;
	v_id bigint;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(name, 'name');
	PERFORM plum_internal.not_null(mode, 'mode');
	v_admin := plum_internal.admin_row(create_campaign.admin_id);
	IF plum_internal.trim_name(name) = '' THEN
		PERFORM plum_internal.raise('22023', 'campaign name must not be empty');
	END IF;
	IF mode NOT IN ('points', 'codes', 'links') THEN
		PERFORM plum_internal.raise('22023', format('invalid campaign mode "%s"', mode), NULL, 'The mode is points, codes or links.');
	END IF;
	IF expires_at IS NOT NULL AND (NOT isfinite(expires_at) OR expires_at <= plum.now()) THEN
		PERFORM plum_internal.raise('22023', 'campaign expiry must be a future instant',
			format('The expiry is %s; now is %s.', expires_at, plum.now()));
	END IF;
	INSERT INTO plum_internal.campaign (company_id, admin_id, name, mode, expires_at, created)
		VALUES (v_admin.company_id, create_campaign.admin_id, plum_internal.trim_name(create_campaign.name), create_campaign.mode,
			create_campaign.expires_at, plum.now())
		RETURNING campaign_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.create_campaign(bigint, text, text, timestamptz) IS
	'Create a campaign of the admin''s company in one reward mode (points, codes or links) with an optional expiry; returns its id.';

CREATE FUNCTION plum.add_item(company_id bigint, kind text, brand text, name text, category text,
		price numeric DEFAULT NULL, min_value numeric DEFAULT NULL, max_value numeric DEFAULT NULL, vendor text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_scale smallint;
	v_id bigint;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(kind, 'kind');
	PERFORM plum_internal.not_null(brand, 'brand');
	PERFORM plum_internal.not_null(name, 'name');
	PERFORM plum_internal.not_null(category, 'category');
	SELECT c.scale INTO v_scale FROM plum_internal.company c WHERE c.company_id = add_item.company_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', add_item.company_id));
	END IF;
	PERFORM plum_internal.check_company(add_item.company_id);
	IF kind NOT IN ('gift_card', 'experience', 'merchandise', 'travel', 'charity', 'discount') THEN
		PERFORM plum_internal.raise('22023', format('invalid item kind "%s"', kind), NULL,
			'The kind is gift_card, experience, merchandise, travel, charity or discount.');
	END IF;
	IF plum_internal.trim_name(brand) = '' OR plum_internal.trim_name(name) = '' OR plum_internal.trim_name(category) = '' THEN
		PERFORM plum_internal.raise('22023', 'item brand, name and category must not be empty');
	END IF;
	IF price IS NOT NULL THEN
		IF min_value IS NOT NULL OR max_value IS NOT NULL THEN
			PERFORM plum_internal.raise('22023', 'an item has a fixed price or a value range, not both',
				format('The price is %s, the range %s to %s.', price, min_value, max_value));
		END IF;
		price := plum_internal.valid_amount(price, v_scale, 'price');
	ELSIF min_value IS NULL OR max_value IS NULL THEN
		PERFORM plum_internal.raise('22023', 'an item needs a fixed price or a value range',
			NULL, 'Give price, or both min_value and max_value.');
	ELSE
		min_value := plum_internal.valid_amount(min_value, v_scale, 'min_value');
		max_value := plum_internal.valid_amount(max_value, v_scale, 'max_value');
		IF min_value > max_value THEN
			PERFORM plum_internal.raise('PU008', 'invalid value range',
				format('The range is %s to %s; the minimum is above the maximum.', min_value, max_value));
		END IF;
	END IF;
	INSERT INTO plum_internal.item (company_id, kind, brand, name, category, price, min_value, max_value, vendor, created)
		VALUES (add_item.company_id, add_item.kind, plum_internal.trim_name(add_item.brand), plum_internal.trim_name(add_item.name), plum_internal.trim_name(add_item.category),
			add_item.price, add_item.min_value, add_item.max_value, nullif(plum_internal.trim_name(add_item.vendor), ''), plum.now())
		RETURNING item_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.add_item(bigint, text, text, text, text, numeric, numeric, numeric, text) IS
	'Add a catalog item to a company: kind, brand, name, category, a fixed price or a value range (min_value..max_value), vendor. Returns its id.';

CREATE FUNCTION plum.set_item_active(item_id bigint, active boolean) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.not_null(item_id, 'item_id');
	PERFORM plum_internal.not_null(active, 'active');
	PERFORM plum_internal.check_company((SELECT i.company_id FROM plum_internal.item i WHERE i.item_id = set_item_active.item_id));
	UPDATE plum_internal.item i SET active = set_item_active.active WHERE i.item_id = set_item_active.item_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown item', format('There is no item %s.', set_item_active.item_id));
	END IF;
END
$$;
COMMENT ON FUNCTION plum.set_item_active(bigint, boolean) IS
	'Offer (true) or withdraw (false) an item: inactive items are in no campaign''s catalog.';

CREATE FUNCTION plum.curate(campaign_id bigint, include boolean, item_id bigint DEFAULT NULL,
		brand text DEFAULT NULL, category text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_company bigint;
	v_item_company bigint;
BEGIN
	PERFORM plum_internal.not_null(campaign_id, 'campaign_id');
	PERFORM plum_internal.not_null(include, 'include');
	SELECT c.company_id INTO v_company FROM plum_internal.campaign c WHERE c.campaign_id = curate.campaign_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown campaign', format('There is no campaign %s.', curate.campaign_id));
	END IF;
	PERFORM plum_internal.check_company(v_company);
	IF num_nonnulls(item_id, brand, category) <> 1 THEN
		PERFORM plum_internal.raise('22023', 'a curation rule names exactly one of item, brand or category',
			format('It names %s of them.', num_nonnulls(item_id, brand, category)));
	END IF;
	IF item_id IS NOT NULL THEN
		SELECT i.company_id INTO v_item_company FROM plum_internal.item i WHERE i.item_id = curate.item_id;
		IF NOT FOUND THEN
			PERFORM plum_internal.raise('PU005', 'unknown item', format('There is no item %s.', curate.item_id));
		END IF;
		IF v_item_company <> v_company THEN
			PERFORM plum_internal.raise('PU009', 'item belongs to another company',
				format('Item %s is company %s''s; campaign %s is company %s''s.', curate.item_id, v_item_company,
					curate.campaign_id, v_company));
		END IF;
	ELSIF plum_internal.trim_name(coalesce(brand, category)) = '' THEN
		PERFORM plum_internal.raise('22023', 'a curation rule''s brand or category must not be empty');
	END IF;
	INSERT INTO plum_internal.curation (campaign_id, include, item_id, brand, category)
		VALUES (curate.campaign_id, curate.include, curate.item_id, plum_internal.trim_name(curate.brand), plum_internal.trim_name(curate.category))
		ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION plum.curate(bigint, boolean, bigint, text, text) IS
	'Add a curation rule to a campaign''s catalog: include (true) or exclude (false) one item, a brand or a category. Adding a rule twice changes nothing.';

-- Whether an item is in a campaign's curated catalog (internal; used by codes and links).
-- PL/pgSQL rather than SQL: its plan is prepared once per session, where a SQL function with
-- subqueries would be planned on every call. Called only from functions that pin search_path.
CREATE FUNCTION plum_internal.in_catalog(campaign_id bigint, item_id bigint) RETURNS boolean
	LANGUAGE plpgsql STABLE
	AS $$
BEGIN
	RETURN EXISTS (
		SELECT 1 FROM plum_internal.campaign c JOIN plum_internal.item i ON i.company_id OPERATOR(pg_catalog.=) c.company_id
		WHERE c.campaign_id OPERATOR(pg_catalog.=) in_catalog.campaign_id
		AND i.item_id OPERATOR(pg_catalog.=) in_catalog.item_id AND i.active
		AND (NOT EXISTS (SELECT 1 FROM plum_internal.curation r WHERE r.campaign_id OPERATOR(pg_catalog.=) c.campaign_id AND r.include)
			OR EXISTS (SELECT 1 FROM plum_internal.curation r WHERE r.campaign_id OPERATOR(pg_catalog.=) c.campaign_id AND r.include
				AND (r.item_id OPERATOR(pg_catalog.=) i.item_id
					OR pg_catalog.lower(r.brand) OPERATOR(pg_catalog.=) pg_catalog.lower(i.brand)
					OR pg_catalog.lower(r.category) OPERATOR(pg_catalog.=) pg_catalog.lower(i.category))))
		AND NOT EXISTS (SELECT 1 FROM plum_internal.curation r WHERE r.campaign_id OPERATOR(pg_catalog.=) c.campaign_id AND NOT r.include
				AND (r.item_id OPERATOR(pg_catalog.=) i.item_id
					OR pg_catalog.lower(r.brand) OPERATOR(pg_catalog.=) pg_catalog.lower(i.brand)
					OR pg_catalog.lower(r.category) OPERATOR(pg_catalog.=) pg_catalog.lower(i.category))));
END
$$;
COMMENT ON FUNCTION plum_internal.in_catalog(bigint, bigint) IS
	'Whether an item is in a campaign''s curated catalog: active, of the campaign''s company, matched by an include rule if there are any, by no exclude rule.';

-- Whether an item can be had for exactly this value (internal; redeem_link in C checks the same rule in its own plan).
CREATE FUNCTION plum_internal.item_accepts(item_id bigint, value numeric) RETURNS boolean
	LANGUAGE plpgsql STABLE
	AS $$
BEGIN
	RETURN COALESCE((SELECT CASE WHEN i.price IS NOT NULL THEN i.price OPERATOR(pg_catalog.=) item_accepts.value
			ELSE item_accepts.value OPERATOR(pg_catalog.>=) i.min_value AND item_accepts.value OPERATOR(pg_catalog.<=) i.max_value END
		FROM plum_internal.item i WHERE i.item_id OPERATOR(pg_catalog.=) item_accepts.item_id), false);
END
$$;
COMMENT ON FUNCTION plum_internal.item_accepts(bigint, numeric) IS
	'Whether an item can be had for exactly this value: its fixed price, or a value within its range.';

CREATE FUNCTION plum.campaign_catalog(campaign_id bigint) RETURNS SETOF plum.catalog_item
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM plum_internal.not_null(campaign_id, 'campaign_id');
	PERFORM plum_internal.check_company(c.company_id) FROM plum_internal.campaign c WHERE c.campaign_id = campaign_catalog.campaign_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown campaign', format('There is no campaign %s.', campaign_catalog.campaign_id));
	END IF;
	RETURN QUERY
		SELECT i.item_id, i.company_id, i.kind, i.brand, i.name, i.category,
			round(i.price, co.scale), round(i.min_value, co.scale), round(i.max_value, co.scale), i.vendor, co.base_currency
		FROM plum_internal.campaign c
		JOIN plum_internal.item i ON i.company_id = c.company_id
		JOIN plum_internal.company co ON co.company_id = c.company_id
		WHERE c.campaign_id = campaign_catalog.campaign_id AND plum_internal.in_catalog(c.campaign_id, i.item_id)
		ORDER BY i.item_id;
END
$$;
COMMENT ON FUNCTION plum.campaign_catalog(bigint) IS
	'A campaign''s curated catalog: every active item of its company, restricted by include rules (if any) and without excluded items.';

-- The campaign an admin issues or links from, after every check (internal; used by codes and links).
CREATE FUNCTION plum_internal.check_campaign(admin_id bigint, campaign_id bigint, mode text) RETURNS plum_internal.campaign
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin plum_internal.admin;
	v_campaign plum_internal.campaign;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(campaign_id, 'campaign_id');
	v_admin := plum_internal.admin_row(check_campaign.admin_id);
	SELECT * INTO v_campaign FROM plum_internal.campaign c WHERE c.campaign_id = check_campaign.campaign_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown campaign', format('There is no campaign %s.', check_campaign.campaign_id));
	END IF;
	IF v_campaign.company_id <> v_admin.company_id THEN
		PERFORM plum_internal.raise('PU009', 'campaign belongs to another company',
			format('Campaign %s is company %s''s; admin %s is company %s''s.', check_campaign.campaign_id,
				v_campaign.company_id, check_campaign.admin_id, v_admin.company_id));
	END IF;
	IF v_campaign.mode <> check_campaign.mode THEN
		PERFORM plum_internal.raise('PU009', 'wrong campaign mode',
			format('Campaign %s is a %s campaign, not a %s campaign.', check_campaign.campaign_id, v_campaign.mode, check_campaign.mode));
	END IF;
	IF v_campaign.expires_at <= plum.now() THEN
		PERFORM plum_internal.raise('PU002', 'campaign expired',
			format('Campaign %s expired at %s.', check_campaign.campaign_id, v_campaign.expires_at));
	END IF;
	RETURN v_campaign;
END
$$;
COMMENT ON FUNCTION plum_internal.check_campaign(bigint, bigint, text) IS
	'Internal: the campaign, after refusing an unknown admin or campaign (PU005), another company''s campaign or a wrong mode (PU009), an expired campaign (PU002).';

CREATE VIEW plum.campaigns WITH (security_barrier) AS
	SELECT c.campaign_id, c.company_id, c.admin_id, c.name, c.mode, c.expires_at, c.created,
		CASE WHEN c.expires_at <= plum.now() THEN 'expired' ELSE 'active' END AS state,
		(SELECT count(*) FROM plum_internal.curation r WHERE r.campaign_id = c.campaign_id) AS curation_rules
	FROM plum_internal.campaign c
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR c.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.campaigns IS 'Campaigns with their mode, expiry and state as of plum''s clock. A role confined to companies sees only theirs.';
COMMENT ON COLUMN plum.campaigns.campaign_id IS 'Campaign id.';
COMMENT ON COLUMN plum.campaigns.company_id IS 'Company id.';
COMMENT ON COLUMN plum.campaigns.admin_id IS 'The admin who created it.';
COMMENT ON COLUMN plum.campaigns.name IS 'Campaign name.';
COMMENT ON COLUMN plum.campaigns.mode IS 'points, codes or links.';
COMMENT ON COLUMN plum.campaigns.expires_at IS 'Expiry (NULL: never).';
COMMENT ON COLUMN plum.campaigns.created IS 'When it was created.';
COMMENT ON COLUMN plum.campaigns.state IS 'active or expired.';
COMMENT ON COLUMN plum.campaigns.curation_rules IS 'Number of curation rules on its catalog.';

CREATE VIEW plum.items WITH (security_barrier) AS
	SELECT i.item_id, i.company_id, i.kind, i.brand, i.name, i.category,
		round(i.price, co.scale) AS price, round(i.min_value, co.scale) AS min_value, round(i.max_value, co.scale) AS max_value,
		i.vendor, i.active, co.base_currency AS currency, i.created
	FROM plum_internal.item i JOIN plum_internal.company co USING (company_id)
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR i.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.items IS 'Catalog items of every company (a role confined to companies sees only theirs).';
COMMENT ON COLUMN plum.items.item_id IS 'Item id.';
COMMENT ON COLUMN plum.items.company_id IS 'Company id.';
COMMENT ON COLUMN plum.items.kind IS 'gift_card, experience, merchandise, travel, charity or discount.';
COMMENT ON COLUMN plum.items.brand IS 'Brand.';
COMMENT ON COLUMN plum.items.name IS 'Item name.';
COMMENT ON COLUMN plum.items.category IS 'Category.';
COMMENT ON COLUMN plum.items.price IS 'Fixed price, or NULL for a value range.';
COMMENT ON COLUMN plum.items.min_value IS 'Smallest value of a flexible item.';
COMMENT ON COLUMN plum.items.max_value IS 'Largest value of a flexible item.';
COMMENT ON COLUMN plum.items.vendor IS 'Vendor.';
COMMENT ON COLUMN plum.items.active IS 'Whether it is offered.';
COMMENT ON COLUMN plum.items.currency IS 'The company''s currency the prices are in.';
COMMENT ON COLUMN plum.items.created IS 'When it was added.';

REVOKE EXECUTE ON FUNCTION
	plum.create_campaign(bigint, text, text, timestamptz),
	plum.add_item(bigint, text, text, text, text, numeric, numeric, numeric, text),
	plum.set_item_active(bigint, boolean),
	plum.curate(bigint, boolean, bigint, text, text),
	plum.campaign_catalog(bigint),
	plum_internal.in_catalog(bigint, bigint),
	plum_internal.item_accepts(bigint, numeric),
	plum_internal.check_campaign(bigint, bigint, text)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.create_campaign(bigint, text, text, timestamptz),
	plum.add_item(bigint, text, text, text, text, numeric, numeric, numeric, text),
	plum.set_item_active(bigint, boolean),
	plum.curate(bigint, boolean, bigint, text, text)
	TO plum_admin;
GRANT EXECUTE ON FUNCTION plum.campaign_catalog(bigint) TO plum_app;
GRANT SELECT ON plum.campaigns, plum.items TO plum_reader;
