-- Campaigns, items and curated catalogs.
-- every feature test starts from an empty plum, so ids in messages are stable
DROP EXTENSION plum;
CREATE EXTENSION plum;
\set SHOW_CONTEXT never
\i test/include/try.sql
-- names of the catalog's items, in id order
CREATE FUNCTION pg_temp.catalog(c bigint) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(name, ', ' ORDER BY item_id), '(empty)') FROM plum.campaign_catalog(c)
$$;
SET TimeZone = 'UTC';
SET plum.now = '2026-06-01 00:00:00+00';

SELECT plum.create_company('FoodCo', 'USD') AS food \gset
SELECT plum.create_company('Other', 'EUR') AS other \gset
SELECT plum.add_admin(:food, 'boss@food.test', 'super_admin', 1000) AS boss \gset
SELECT plum.add_admin(:other, 'boss@other.test', 'super_admin', 1000) AS oboss \gset

-- campaigns
SELECT plum.create_campaign(:boss, 'Staff thanks', 'links') AS staff \gset
SELECT plum.create_campaign(:boss, 'Super Bowl', 'codes', '2026-07-01 00:00:00+00') AS bowl \gset
SELECT plum.create_campaign(:boss, 'Loyalty', 'points') AS loyalty \gset
SELECT name, mode, expires_at, state FROM plum.campaigns ORDER BY campaign_id;
SELECT pg_temp.try(format($$SELECT plum.create_campaign(%s, 'X', 'cash')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_campaign(%s, ' ', 'codes')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_campaign(%s, NULL, 'codes')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_campaign(%s, 'X', NULL)$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_campaign(%s, 'X', 'codes', '2026-05-31 00:00:00+00')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum.create_campaign(%s, 'X', 'codes', 'infinity')$$, :boss));
SELECT pg_temp.try($$SELECT plum.create_campaign(4242, 'X', 'codes')$$);

-- items: fixed price or a value range
SELECT plum.add_item(:food, 'gift_card', 'Burger Barn', 'Burger Barn $25', 'food', price => 25) AS burger \gset
SELECT plum.add_item(:food, 'gift_card', 'Pizza Planet', 'Pizza Planet card', 'food', min_value => 5, max_value => 100) AS pizza \gset
SELECT plum.add_item(:food, 'experience', 'SkyDive', 'Tandem jump', 'adventure', 250, vendor => 'SkyDive Ltd') AS dive \gset
SELECT plum.add_item(:food, 'merchandise', 'Bowl Shop', 'Team jersey', 'football', 60) AS jersey \gset
SELECT plum.add_item(:food, 'charity', 'Red Cross', 'Donation', 'charity', min_value => 1, max_value => 1000) AS charity \gset
SELECT plum.add_item(:food, 'travel', 'FlyAway', 'Weekend trip', 'travel', 500.50) AS trip \gset
SELECT plum.add_item(:other, 'discount', 'Burger Barn', 'Burger Barn 10%', 'food', 10) AS other_item \gset
SELECT item_id = :burger AS is_burger, kind, brand, name, category, price, min_value, max_value, vendor, active, currency
	FROM plum.items ORDER BY item_id;
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'car', 'B', 'N', 'C', 1)$$, :food));
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'gift_card', '', 'N', 'C', 1)$$, :food));
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'gift_card', NULL, 'N', 'C', 1)$$, :food));
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'gift_card', 'B', 'N', 'C')$$, :food));
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'gift_card', 'B', 'N', 'C', 1, 1, 2)$$, :food));
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'gift_card', 'B', 'N', 'C', min_value => 1)$$, :food));
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'gift_card', 'B', 'N', 'C', min_value => 10, max_value => 5)$$, :food));
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'gift_card', 'B', 'N', 'C', 0)$$, :food));
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'gift_card', 'B', 'N', 'C', 1.234)$$, :food));
SELECT pg_temp.try(format($$SELECT plum.add_item(%s, 'gift_card', 'B', 'N', 'C', 'NaN')$$, :food));
SELECT pg_temp.try($$SELECT plum.add_item(999, 'gift_card', 'B', 'N', 'C', 1)$$);

-- no rules: every active item of the company
SELECT pg_temp.catalog(:staff) AS staff_catalog;
-- a food-delivery company hides its competitors' gift cards
SELECT plum.curate(:staff, false, brand => 'burger barn');
SELECT plum.curate(:staff, false, brand => 'Burger Barn');
SELECT count(*) AS rules FROM plum_internal.curation WHERE campaign_id = :staff;
SELECT pg_temp.catalog(:staff) AS staff_catalog;
-- a Super Bowl campaign shows only on-theme items
SELECT plum.curate(:bowl, true, category => 'football');
SELECT plum.curate(:bowl, true, item_id => :pizza);
SELECT pg_temp.catalog(:bowl) AS bowl_catalog;
SELECT plum.curate(:bowl, false, item_id => :pizza);
SELECT pg_temp.catalog(:bowl) AS bowl_catalog;
-- an inactive item is in no catalog
SELECT plum.set_item_active(:jersey, false);
SELECT pg_temp.catalog(:bowl) AS bowl_catalog;
SELECT plum.set_item_active(:jersey, true);
SELECT plum_internal.in_catalog(:bowl, :jersey) AS jersey_in_bowl, plum_internal.in_catalog(:bowl, :dive) AS dive_in_bowl,
	plum_internal.in_catalog(:staff, :other_item) AS other_company_item;
SELECT plum_internal.item_accepts(:burger, 25) AS exact_price, plum_internal.item_accepts(:burger, 25.01) AS other_price,
	plum_internal.item_accepts(:pizza, 5) AS range_low, plum_internal.item_accepts(:pizza, 100) AS range_high,
	plum_internal.item_accepts(:pizza, 100.01) AS above_range, plum_internal.item_accepts(424242, 1) AS unknown_item;
SELECT pg_temp.try(format($$SELECT plum.curate(%s, true)$$, :bowl));
SELECT pg_temp.try(format($$SELECT plum.curate(%s, true, %s, 'x')$$, :bowl, :pizza));
SELECT pg_temp.try(format($$SELECT plum.curate(%s, true, %s)$$, :bowl, :other_item));
SELECT pg_temp.try(format($$SELECT plum.curate(%s, true, 777)$$, :bowl));
SELECT pg_temp.try(format($$SELECT plum.curate(%s, true, brand => ' ')$$, :bowl));
SELECT pg_temp.try(format($$SELECT plum.curate(%s, NULL, brand => 'x')$$, :bowl));
SELECT pg_temp.try($$SELECT plum.curate(999, true, brand => 'x')$$);
SELECT pg_temp.try($$SELECT plum.campaign_catalog(999)$$);
SELECT pg_temp.try($$SELECT plum.campaign_catalog(NULL)$$);
SELECT pg_temp.try($$SELECT plum.set_item_active(999, true)$$);

-- check_campaign, the gate codes and links pass through
SELECT (plum_internal.check_campaign(:boss, :bowl, 'codes')).name;
SELECT pg_temp.try(format($$SELECT plum_internal.check_campaign(%s, %s, 'links')$$, :boss, :bowl));
SELECT pg_temp.try(format($$SELECT plum_internal.check_campaign(%s, %s, 'codes')$$, :oboss, :bowl));
SELECT pg_temp.try(format($$SELECT plum_internal.check_campaign(%s, 999, 'codes')$$, :boss));
SELECT pg_temp.try(format($$SELECT plum_internal.check_campaign(999, %s, 'codes')$$, :bowl));
SET plum.now = '2026-07-01 00:00:00+00';
SELECT pg_temp.try(format($$SELECT plum_internal.check_campaign(%s, %s, 'codes')$$, :boss, :bowl));
SELECT name, state FROM plum.campaigns ORDER BY campaign_id;
