-- test/reliability/upgrade_load.sql — data made through plum 0.1.0's API, for upgrade.sh: two
-- companies (USD, JPY), admins with thresholds, points lots over several months with keys, bulk
-- grants, FIFO redemptions, a partial reversal, an expiry sweep, campaigns, items and curation,
-- codes (issued, distributed, partly redeemed, cancelled), links (redeemed, cancelled, open),
-- deliveries (now and scheduled, released, claimed, reported).  Only 0.1.0 signatures.
-- What the later steps need (ids, codes, tokens, first results) goes into upg.ref, outside plum.
\set ON_ERROR_STOP 1
SET TimeZone = 'UTC';
CREATE SCHEMA upg;
CREATE TABLE upg.ref (name text PRIMARY KEY, val text NOT NULL);

-- January: companies, admins, pools, the first lots
SET plum.now = '2025-01-01 09:00:00+00';
SELECT plum.create_company('Upgrade Dollar', 'USD', '90 days') AS usd \gset
SELECT plum.create_company('Upgrade Yen', 'JPY', code_denominations => '{500,1000,5000}', max_grant => 100000) AS jpy \gset
SELECT plum.add_admin(:usd, 'boss@usd.test', 'super_admin', 1000000) AS uboss \gset
SELECT plum.add_admin(:usd, 'Clerk@USD.test', 'admin') AS uclerk \gset
SELECT plum.set_threshold(:uboss, :uclerk, 5000);
SELECT plum.add_admin(:jpy, 'boss@jpy.test', 'super_admin', 50000000) AS jboss \gset
SELECT plum.add_admin(:jpy, 'Clerk@JPY.test', 'admin', 2000000) AS jclerk \gset
SELECT plum.create_points(:uboss, 100000);
SELECT plum.create_points(:uclerk, 4000.50);
SELECT plum.create_points(:jboss, 10000000);
SELECT plum.create_points(:jclerk, 1500000);
SELECT plum.give_points(:uboss, 'Alice@Example.COM', 100, 'welcome', 'g-alice-1') AS g_alice_1 \gset
SELECT plum.give_points(:uclerk, '+1 (415) 555-0100', 40.50, NULL, 'g-phone-1');
SELECT plum.give_points_bulk(:uboss, ARRAY['bob@example.com', 'carol@example.com', 'dan@example.com', 'alice@example.com'],
	ARRAY[10, 20.25, 30, 5], 'bulk january');
SELECT plum.give_points(:jboss, 'taro@example.jp', 5000, 'yokoso', 'g-taro-1');
SELECT plum.give_points_bulk(:jclerk, ARRAY['hanako@example.jp', '+81 80 0000 1111', 'taro@example.jp'], ARRAY[1200, 800, 700]);

-- February: more lots in the same wallets
SET plum.now = '2025-02-01 12:00:00+00';
SELECT plum.give_points(:uboss, 'alice@example.com', 50, 'february', 'g-alice-2');
SELECT plum.give_points(:uboss, 'bob@example.com', 25, NULL, 'g-bob-2');
SELECT plum.give_points(:uclerk, 'alice@example.com', 7.25);
SELECT plum.give_points(:jboss, 'taro@example.jp', 3000, NULL, 'g-taro-2');
SELECT plum.give_points(:jboss, 'hanako@example.jp', 900);

-- March: FIFO redemptions across lots, with keys; a partial reversal
SET plum.now = '2025-03-01 08:30:00+00';
SELECT plum.redeem_points(:usd, 'alice@example.com', 120, 'order-a1', 'r-alice-1') AS r_alice_1 \gset
SELECT plum.redeem_points(:usd, 'bob@example.com', 12.50, 'order-b1', 'r-bob-1') AS r_bob_1 \gset
SELECT plum.redeem_points(:usd, '+14155550100', 40.50, 'order-p1');
SELECT plum.redeem_points(:jpy, 'taro@example.jp', 6000, 'order-t1', 'r-taro-1') AS r_taro_1 \gset
SELECT plum.redeem_points(:jpy, 'hanako@example.jp', 1500, 'order-h1');
SELECT plum.reverse_redemption(:r_alice_1, 30, 'rev-alice-1') AS rev_alice_1 \gset
SELECT plum.reverse_redemption(:r_taro_1, 1000);

-- mid-April: the USD January lots (90 days) have expired; the sweep records them
SET plum.now = '2025-04-15 00:00:00+00';
SELECT plum.expire_points() AS expired;

-- codes, items, curation, links
SELECT plum.create_campaign(:uboss, 'Spring codes', 'codes', '2026-06-30 00:00+00') AS spring \gset
SELECT plum.create_campaign(:uclerk, 'Clerk codes', 'codes') AS clerk_codes \gset
SELECT plum.create_campaign(:uboss, 'Thanks', 'links', '2026-12-31 00:00+00') AS thanks \gset
SELECT plum.create_campaign(:jboss, 'Yen codes', 'codes') AS yen_codes \gset
SELECT plum.create_campaign(:uboss, 'Points promo', 'points') AS promo \gset
SELECT plum.add_item(:usd, 'gift_card', 'Burger Barn', 'Burger Barn card', 'food', min_value => 5, max_value => 100) AS burger \gset
SELECT plum.add_item(:usd, 'gift_card', 'Pizza Planet', 'Pizza Planet 25', 'food', price => 25) AS pizza \gset
SELECT plum.add_item(:usd, 'merchandise', 'Book Nook', 'Book Nook 30', 'books', price => 30, vendor => 'Tango') AS books \gset
SELECT plum.add_item(:jpy, 'gift_card', 'Sushi Go', 'Sushi Go card', 'food', min_value => 500, max_value => 10000) AS sushi \gset
SELECT plum.curate(:thanks, true, category => 'food');
SELECT plum.curate(:thanks, true, item_id => :books);
SELECT plum.curate(:thanks, false, brand => 'Pizza Planet');
SELECT plum.curate(:spring, false, category => 'books');

CREATE TABLE upg.code (n integer PRIMARY KEY, code text NOT NULL);
INSERT INTO upg.code SELECT row_number() OVER (), c::text FROM plum.issue_codes(:uboss, :spring, 10, 6) AS c;
INSERT INTO upg.code SELECT 6 + row_number() OVER (), c::text FROM plum.issue_codes(:uboss, :spring, 50, 2) AS c;
INSERT INTO upg.code SELECT 8 + row_number() OVER (), c::text FROM plum.issue_codes(:uclerk, :clerk_codes, 5, 3) AS c;
INSERT INTO upg.code SELECT 11 + row_number() OVER (), c::text FROM plum.issue_codes(:jboss, :yen_codes, 1000, 3) AS c;
SELECT plum.mark_codes_distributed(ARRAY(SELECT code FROM upg.code WHERE n IN (1, 2, 3, 7, 9, 12)));
-- 15 over codes 1 and 2 (code 2 keeps 5); 55 over code 7 (drained) then code 4 (keeps 5)
SELECT * FROM plum.redeem_codes(ARRAY(SELECT code FROM upg.code WHERE n IN (1, 2) ORDER BY n), 15, item_id => :burger,
	reference => 'order-c1', idempotency_key => 'rc-1');
SELECT * FROM plum.redeem_codes(ARRAY(SELECT code FROM upg.code WHERE n IN (7, 4) ORDER BY n DESC), 55, reference => 'order-c2');
SELECT * FROM plum.redeem_codes(ARRAY(SELECT code FROM upg.code WHERE n = 12), 400, item_id => :sushi, idempotency_key => 'rc-yen-1');
SELECT plum.cancel_codes(:uboss, ARRAY(SELECT code FROM upg.code WHERE n IN (5, 8)));
SELECT plum.cancel_codes(:uclerk, ARRAY(SELECT code FROM upg.code WHERE n = 10));

SELECT plum.create_link(:uboss, :thanks, 25) AS link1 \gset
SELECT plum.create_link(:uboss, :thanks, 30, 'dan@example.com') AS link2 \gset
SELECT plum.create_link(:uboss, :thanks, 25) AS link3 \gset
SELECT plum.create_link(:uboss, :thanks, 40) AS link4 \gset
SELECT plum.create_link(:uboss, :thanks, 30) AS link5 \gset
SELECT plum.redeem_link(:'link1', :burger, 'order-l1') AS bill_link1 \gset
SELECT plum.redeem_link(:'link2', :books);
SELECT plum.cancel_link(:uboss, :'link4');

-- deliveries: now (points, codes, a link) and scheduled (points, codes)
SELECT plum.distribute(:uboss, 'email', 'alice@example.com', 'Hi {{name}}, {{amount}} until {{expires_at}}',
	points => 5, vars => '{"name": "Alice"}') AS d_points \gset
SELECT plum.distribute(:uboss, 'sms', '+1 415 555 0100', 'Your code {{code}} ({{amount}})',
	codes => ARRAY(SELECT code FROM upg.code WHERE n = 3)::plum.code[]) AS d_codes \gset
SELECT plum.distribute(:uboss, 'qr', 'kiosk-7', 'Scan {{link}}', link => :'link5',
	vars => '{"link_base": "https://rewards.example/l/"}') AS d_link \gset
SELECT plum.distribute(:uboss, 'email', 'erin@example.com', '{{amount}} for you', points => 15,
	send_at => '2025-05-01 09:00+00') AS d_sched_1 \gset
SELECT plum.distribute(:uboss, 'whatsapp', '+14155550199', 'Codes {{code}}', codes => ARRAY(SELECT code FROM upg.code WHERE n = 6)::plum.code[],
	send_at => '2025-05-01 09:00+00') AS d_sched_2 \gset
SELECT plum.distribute(:uboss, 'email', 'frank@example.com', 'Later: {{amount}}', points => 20,
	send_at => '2026-01-01 00:00+00') AS d_sched_later \gset
SELECT plum.distribute(:jboss, 'api', 'user:77', '{{amount}} yen', points => 1500, recipient => 'taro@example.jp',
	send_at => '2026-02-01 00:00+00') AS d_sched_yen \gset

-- May: release, claims, reports
SET plum.now = '2025-05-01 09:00:30+00';
SELECT plum.release_deliveries() AS released;
SELECT count(*) FROM plum.claim_deliveries('email', 'sender-1', 10, '10 minutes');
SELECT count(*) FROM plum.claim_deliveries('sms', 'sender-2', 10);
SELECT plum.report_delivery(:d_points, 'sender-1', 'sent');
SELECT plum.report_delivery(:d_points, 'sender-1', 'delivered');
SELECT plum.report_delivery(:d_sched_1, 'sender-1', 'failed', 'mailbox full');
SELECT plum.report_delivery(:d_codes, 'sender-2', 'bounced', 'unknown number');
SET plum.now = '2025-05-01 09:03:00+00';
SELECT count(*) FROM plum.claim_deliveries('email', 'sender-3', 10, '1 hour');

-- what the later steps need
INSERT INTO upg.ref VALUES
	('usd', :'usd'), ('jpy', :'jpy'), ('uboss', :'uboss'), ('uclerk', :'uclerk'), ('jboss', :'jboss'),
	('spring', :'spring'), ('thanks', :'thanks'), ('burger', :'burger'), ('sushi', :'sushi'),
	('g_alice_1', :'g_alice_1'), ('r_alice_1', :'r_alice_1'), ('r_bob_1', :'r_bob_1'), ('r_taro_1', :'r_taro_1'),
	('rev_alice_1', :'rev_alice_1'), ('link3', :'link3'), ('bill_link1', :'bill_link1');
SELECT * FROM plum.verify();
