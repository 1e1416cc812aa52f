-- Engagement (issue 10): points earned by the application's events under rules, exactly once per
-- (company, event, event_ref), within caps, funded from the rule admin's pool; pending lots;
-- referrals; tiers by rolling spend; badges; leaderboards.

-- @new-in 0.2.0 (also appended to the upgrade from 0.1.0)
CREATE TABLE plum_internal.earning_rule (
	rule_id		bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	admin_id	bigint NOT NULL REFERENCES plum_internal.admin,
	name		text NOT NULL,
	event		text NOT NULL,
	points		numeric CHECK (points > 0),
	percent		numeric CHECK (percent > 0 AND percent <= 100),
	min_amount	numeric CHECK (min_amount >= 0),
	exclude_categories text[],
	pending		interval,
	cap			numeric CHECK (cap >= 0),
	cap_period	interval,
	starts_at	timestamptz,
	ends_at		timestamptz,
	active		boolean NOT NULL DEFAULT true,
	created		timestamptz NOT NULL,
	CHECK (points IS NOT NULL OR percent IS NOT NULL)
);
CREATE INDEX earning_rule_event ON plum_internal.earning_rule (company_id, event);

CREATE TABLE plum_internal.accrual_cap (
	company_id	bigint PRIMARY KEY REFERENCES plum_internal.company,
	cap			numeric NOT NULL CHECK (cap >= 0),
	period		interval NOT NULL
);

CREATE TABLE plum_internal.event (
	event_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	recipient	plum.recipient NOT NULL,
	event		text NOT NULL,
	event_ref	text NOT NULL,
	amount		numeric,
	lines		jsonb,
	attrs		jsonb NOT NULL DEFAULT '{}',
	at			timestamptz NOT NULL,
	reversed_at	timestamptz,
	UNIQUE (company_id, event, event_ref)
);
CREATE INDEX event_recipient ON plum_internal.event (company_id, recipient, event, at);

CREATE TABLE plum_internal.award (
	award_id	bigint PRIMARY KEY,			-- the give ledger entry (= lot id); 0-award rows get a sequence value
	event_id	bigint NOT NULL REFERENCES plum_internal.event,
	company_id	bigint NOT NULL,
	recipient	plum.recipient NOT NULL,
	rule_id		bigint REFERENCES plum_internal.earning_rule,
	badge_id	bigint,
	admin_id	bigint NOT NULL,
	desired		numeric NOT NULL,
	awarded		numeric NOT NULL CHECK (awarded >= 0),
	multiplier	numeric NOT NULL DEFAULT 1,
	at			timestamptz NOT NULL,
	issued_at	timestamptz NOT NULL,
	available_at timestamptz NOT NULL,
	expires_at	timestamptz NOT NULL,
	taken_back	numeric NOT NULL DEFAULT 0,
	reversed	boolean NOT NULL DEFAULT false
);
CREATE INDEX award_event ON plum_internal.award (event_id);
CREATE INDEX award_window ON plum_internal.award (company_id, recipient, at);

CREATE TABLE plum_internal.referral_code (
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	referrer	plum.recipient NOT NULL,
	code		text NOT NULL UNIQUE,
	PRIMARY KEY (company_id, referrer)
);

CREATE TABLE plum_internal.referral (
	referral_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	referrer	plum.recipient NOT NULL,
	referee		plum.recipient NOT NULL,
	code		text NOT NULL,
	referred_at	timestamptz NOT NULL,
	qualified_at timestamptz,
	qualifying_event_id bigint,
	state		text NOT NULL DEFAULT 'referred' CHECK (state IN ('referred', 'qualified', 'reversed')),
	UNIQUE (company_id, referee)
);
CREATE INDEX referral_referrer ON plum_internal.referral (company_id, referrer);

CREATE TABLE plum_internal.tier (
	tier_id		bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	admin_id	bigint NOT NULL,
	name		text NOT NULL,
	min_spend	numeric NOT NULL CHECK (min_spend >= 0),
	multiplier	numeric NOT NULL CHECK (multiplier BETWEEN 1 AND 10),
	UNIQUE (company_id, name),
	UNIQUE (company_id, min_spend)
);

CREATE TABLE plum_internal.badge (
	badge_id	bigserial PRIMARY KEY,
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	admin_id	bigint NOT NULL,
	name		text NOT NULL,
	event		text NOT NULL,
	min_count	integer NOT NULL CHECK (min_count >= 1),
	min_amount	numeric CHECK (min_amount >= 0),
	points		numeric NOT NULL CHECK (points >= 0),
	UNIQUE (company_id, name)
);

CREATE TABLE plum_internal.member_badge (
	badge_id	bigint NOT NULL REFERENCES plum_internal.badge,
	company_id	bigint NOT NULL,
	recipient	plum.recipient NOT NULL,
	awarded_at	timestamptz NOT NULL,
	event_id	bigint NOT NULL,
	revoked_at	timestamptz,
	PRIMARY KEY (badge_id, recipient)
);

-- one row per member (a recipient with an event) of a company: its row lock serialises the
-- member's events (caps, badges, referrals); a row lock, unlike an advisory lock, takes no slot
-- of the lock table, so one transaction may record any number of events
CREATE TABLE plum_internal.member (
	company_id	bigint NOT NULL REFERENCES plum_internal.company,
	recipient	plum.recipient NOT NULL,
	PRIMARY KEY (company_id, recipient)
);

SELECT pg_catalog.pg_extension_config_dump('plum_internal.member', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.earning_rule', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.earning_rule_rule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.accrual_cap', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.event', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.event_event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.award', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.referral_code', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.referral', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.referral_referral_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.tier', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.tier_tier_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.badge', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.badge_badge_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('plum_internal.member_badge', '');
-- as sql/99_privileges.sql does for every table of a fresh install (the upgrade does not run it)
REVOKE ALL ON plum_internal.member, plum_internal.earning_rule, plum_internal.accrual_cap, plum_internal.event, plum_internal.award,
	plum_internal.referral_code, plum_internal.referral, plum_internal.tier, plum_internal.badge, plum_internal.member_badge
	FROM PUBLIC;
REVOKE ALL ON SEQUENCE plum_internal.earning_rule_rule_id_seq, plum_internal.event_event_id_seq,
	plum_internal.referral_referral_id_seq, plum_internal.tier_tier_id_seq, plum_internal.badge_badge_id_seq FROM PUBLIC;
-- @end

-- @api
COMMENT ON TABLE plum_internal.earning_rule IS 'Earning rules: what an event earns (fixed points plus a percentage of the eligible amount), funded from the rule admin''s pool, within caps.';
COMMENT ON TABLE plum_internal.member IS 'One row per member (a recipient with an event) of a company; its row lock serialises the member''s events.';
COMMENT ON COLUMN plum_internal.member.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.member.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON TABLE plum_internal.accrual_cap IS 'A company''s accrual cap: the most all rules together award one recipient in any window of period.';
COMMENT ON TABLE plum_internal.event IS 'Events recorded by plum.record_event() (and referral/referred events plum fires): exactly one row per (company, event, event_ref).';
COMMENT ON TABLE plum_internal.award IS 'One row per rule (or badge) award of an event: desired and awarded amounts, the lot it went into, and what reverse_event took back.';
COMMENT ON TABLE plum_internal.referral_code IS 'One stable referral code per referrer.';
COMMENT ON TABLE plum_internal.referral IS 'Referrals: a referee attributed to a referrer, qualified at the referee''s first purchase.';
COMMENT ON TABLE plum_internal.tier IS 'Loyalty tiers: reached at min_spend of rolling purchase spend; multiply purchase awards.';
COMMENT ON TABLE plum_internal.badge IS 'Badges: awarded once per recipient when its count (and total amount) of an event reaches the thresholds.';
COMMENT ON TABLE plum_internal.member_badge IS 'Badges awarded to recipients.';
COMMENT ON COLUMN plum_internal.accrual_cap.cap IS 'Most awarded per recipient in any window of the period.';
COMMENT ON COLUMN plum_internal.accrual_cap.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.accrual_cap.period IS 'The rolling window of the accrual cap.';
COMMENT ON COLUMN plum_internal.award.admin_id IS 'The admin whose pool funds it (or who made it).';
COMMENT ON COLUMN plum_internal.award.at IS 'When the event was recorded (the cap windows count from it).';
COMMENT ON COLUMN plum_internal.award.available_at IS 'When the lot becomes available (pending before).';
COMMENT ON COLUMN plum_internal.award.award_id IS 'The give ledger entry (= lot id) of the award; negative for an award of 0 (no lot).';
COMMENT ON COLUMN plum_internal.award.awarded IS 'Points actually awarded after caps.';
COMMENT ON COLUMN plum_internal.award.badge_id IS 'The badge whose bonus it is (NULL for a rule award).';
COMMENT ON COLUMN plum_internal.award.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.award.desired IS 'Points the rule asked (after the tier multiplier), before caps.';
COMMENT ON COLUMN plum_internal.award.event_id IS 'Event id.';
COMMENT ON COLUMN plum_internal.award.expires_at IS 'When the lot expires.';
COMMENT ON COLUMN plum_internal.award.issued_at IS 'When the lot was issued.';
COMMENT ON COLUMN plum_internal.award.multiplier IS 'The tier multiplier used.';
COMMENT ON COLUMN plum_internal.award.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON COLUMN plum_internal.award.reversed IS 'The event was reversed: its cap room is given back.';
COMMENT ON COLUMN plum_internal.award.rule_id IS 'The rule that awarded it (NULL for a badge bonus).';
COMMENT ON COLUMN plum_internal.award.taken_back IS 'Points taken back by reverse_event.';
COMMENT ON COLUMN plum_internal.badge.admin_id IS 'The admin whose pool funds it (or who made it).';
COMMENT ON COLUMN plum_internal.badge.badge_id IS 'Badge id.';
COMMENT ON COLUMN plum_internal.badge.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.badge.event IS 'The event name it applies to.';
COMMENT ON COLUMN plum_internal.badge.min_amount IS 'Least event amount (or total amount for a badge) required.';
COMMENT ON COLUMN plum_internal.badge.min_count IS 'Events of that name needed.';
COMMENT ON COLUMN plum_internal.badge.name IS 'Name.';
COMMENT ON COLUMN plum_internal.badge.points IS 'Bonus points from the admins pool (0: none).';
COMMENT ON COLUMN plum_internal.earning_rule.active IS 'Whether the rule applies.';
COMMENT ON COLUMN plum_internal.earning_rule.admin_id IS 'The admin whose pool funds it (or who made it).';
COMMENT ON COLUMN plum_internal.earning_rule.cap IS 'Most awarded per recipient in any window of the period.';
COMMENT ON COLUMN plum_internal.earning_rule.cap_period IS 'The rule caps rolling window.';
COMMENT ON COLUMN plum_internal.earning_rule.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.earning_rule.created IS 'When the rule was added.';
COMMENT ON COLUMN plum_internal.earning_rule.ends_at IS 'The rule applies before this instant (NULL: no end).';
COMMENT ON COLUMN plum_internal.earning_rule.event IS 'The event name it applies to.';
COMMENT ON COLUMN plum_internal.earning_rule.exclude_categories IS 'Line categories not counted in the eligible amount.';
COMMENT ON COLUMN plum_internal.earning_rule.min_amount IS 'Least event amount (or total amount for a badge) required.';
COMMENT ON COLUMN plum_internal.earning_rule.name IS 'Name.';
COMMENT ON COLUMN plum_internal.earning_rule.pending IS 'Return window: lots are pending this long.';
COMMENT ON COLUMN plum_internal.earning_rule.percent IS 'Percent of the eligible amount paid, in (0, 100].';
COMMENT ON COLUMN plum_internal.earning_rule.points IS 'Fixed points paid.';
COMMENT ON COLUMN plum_internal.earning_rule.rule_id IS 'Rule id.';
COMMENT ON COLUMN plum_internal.earning_rule.starts_at IS 'The rule applies from this instant (NULL: always).';
COMMENT ON COLUMN plum_internal.event.amount IS 'The events value in the base currency.';
COMMENT ON COLUMN plum_internal.event.at IS 'When (plum clock).';
COMMENT ON COLUMN plum_internal.event.attrs IS 'Free attributes given by the application.';
COMMENT ON COLUMN plum_internal.event.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.event.event IS 'The event name it applies to.';
COMMENT ON COLUMN plum_internal.event.event_id IS 'Event id.';
COMMENT ON COLUMN plum_internal.event.event_ref IS 'The applications reference; (company, event, event_ref) is unique.';
COMMENT ON COLUMN plum_internal.event.lines IS 'Optional line detail: [{sku, category, amount}].';
COMMENT ON COLUMN plum_internal.event.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON COLUMN plum_internal.event.reversed_at IS 'When reverse_event reversed it (NULL: not reversed).';
COMMENT ON COLUMN plum_internal.member_badge.awarded_at IS 'When the badge was awarded.';
COMMENT ON COLUMN plum_internal.member_badge.badge_id IS 'Badge id.';
COMMENT ON COLUMN plum_internal.member_badge.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.member_badge.event_id IS 'The event that reached the thresholds.';
COMMENT ON COLUMN plum_internal.member_badge.revoked_at IS 'When a reversed event took the recipient back below the badge''s thresholds (its bonus was taken back); NULL while held.';
COMMENT ON COLUMN plum_internal.member_badge.recipient IS 'The recipient (normalised email or E.164 phone).';
COMMENT ON COLUMN plum_internal.referral.code IS 'The referral code used.';
COMMENT ON COLUMN plum_internal.referral.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.referral.qualified_at IS 'When the referees first purchase qualified it.';
COMMENT ON COLUMN plum_internal.referral.qualifying_event_id IS 'The purchase event that qualified it.';
COMMENT ON COLUMN plum_internal.referral.referee IS 'The new customer referred.';
COMMENT ON COLUMN plum_internal.referral.referral_id IS 'Referral id.';
COMMENT ON COLUMN plum_internal.referral.referred_at IS 'When plum.refer() attributed the referee.';
COMMENT ON COLUMN plum_internal.referral.referrer IS 'The referrer.';
COMMENT ON COLUMN plum_internal.referral.state IS 'referred, qualified or reversed.';
COMMENT ON COLUMN plum_internal.referral_code.code IS 'Referral code (canonical upper-case Crockford base-32).';
COMMENT ON COLUMN plum_internal.referral_code.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.referral_code.referrer IS 'The referrer.';
COMMENT ON COLUMN plum_internal.tier.admin_id IS 'The admin whose pool funds it (or who made it).';
COMMENT ON COLUMN plum_internal.tier.company_id IS 'Company id.';
COMMENT ON COLUMN plum_internal.tier.min_spend IS 'Purchase spend in the tier window that reaches the tier.';
COMMENT ON COLUMN plum_internal.tier.multiplier IS 'Multiplier of purchase awards, in [1, 10].';
COMMENT ON COLUMN plum_internal.tier.name IS 'Name.';
COMMENT ON COLUMN plum_internal.tier.tier_id IS 'Tier id.';

-- the event names plum accepts: built-in or custom
CREATE FUNCTION plum_internal.check_event_name(event text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF event !~ '^[a-z][a-z0-9_]{0,62}$' THEN
		PERFORM plum_internal.raise('22023', 'invalid event name',
			format('The event name is "%s".', left(event, 80)),
			'An event is purchase, signup, birthday, review, social, survey, or a name matching ^[a-z][a-z0-9_]{0,62}$.');
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.check_event_name(text) IS 'Internal: 22023 unless the event name matches ^[a-z][a-z0-9_]{0,62}$.';

-- a positive interval or 22023
CREATE FUNCTION plum_internal.check_period(p interval, what text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF p IS NOT NULL AND (p <= interval '0' OR isfinite(p) IS NOT TRUE
			OR extract(year FROM p) * 12 + extract(month FROM p) < 0 OR extract(day FROM p) < 0
			OR extract(epoch FROM p - date_trunc('day', p)) < 0) THEN
		PERFORM plum_internal.raise('22023', format('%s must be a positive interval', what), format('The %s is %s.', what, p));
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.check_period(interval, text) IS 'Internal: 22023 unless the interval is positive for any instant.';

-- a non-negative amount exact to the currency, or PU008
CREATE FUNCTION plum_internal.check_nonneg(amount numeric, scale smallint, what text) RETURNS numeric
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF amount IS NULL OR amount = 0 THEN
		RETURN amount;
	END IF;
	IF amount < 0 OR amount = 'NaN'::numeric THEN
		PERFORM plum_internal.raise('PU008', format('invalid %s', what), format('The %s is %s; it must not be negative.', what, amount));
	END IF;
	-- plum_internal.valid_amount() inlined (an SQL function with SET is planned on every call)
	RETURN round(plum_internal.check_amount(amount, scale, what)::numeric / (10::numeric ^ scale), scale);
END
$$;
COMMENT ON FUNCTION plum_internal.check_nonneg(numeric, smallint, text) IS 'Internal: the amount (NULL or 0 as they are), or PU008 when negative, NaN, infinite or not exact to the currency.';

-- A recipient's rolling purchase spend as of at (events at or before at, not reversed by then)
CREATE FUNCTION plum_internal.spend(company_id bigint, recipient plum.recipient, at timestamptz, tier_window interval,
		exclude_event bigint DEFAULT NULL)
	RETURNS numeric
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	RETURN (SELECT coalesce(sum(e.amount), 0) FROM plum_internal.event e
		WHERE e.company_id = spend.company_id AND e.recipient = spend.recipient AND e.event = 'purchase'
			AND e.at <= spend.at AND e.at > spend.at - spend.tier_window
			AND (e.reversed_at IS NULL OR e.reversed_at > spend.at)
			AND e.event_id IS DISTINCT FROM spend.exclude_event);
COMMENT ON FUNCTION plum_internal.spend(bigint, plum.recipient, timestamptz, interval, bigint) IS
	'Internal: a recipient''s purchase spend in the tier window ending at an instant, less events reversed by then.';

-- The tier for a spend (NULL below every tier)
CREATE FUNCTION plum_internal.tier_for(company_id bigint, spend numeric) RETURNS plum_internal.tier
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, plum, pg_temp
	RETURN (SELECT t FROM plum_internal.tier t WHERE t.company_id = tier_for.company_id AND t.min_spend <= tier_for.spend
		ORDER BY t.min_spend DESC LIMIT 1);
COMMENT ON FUNCTION plum_internal.tier_for(bigint, numeric) IS 'Internal: the tier with the highest min_spend not above the spend, or NULL.';

-- Serialise one recipient's events (caps, badges, referrals): the member's row, created if absent,
-- locked until the end of the transaction (before any pool or wallet: the canonical lock order)
CREATE FUNCTION plum_internal.lock_member(company_id bigint, recipient plum.recipient) RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
BEGIN
	PERFORM FROM plum_internal.member m WHERE m.company_id = lock_member.company_id AND m.recipient = lock_member.recipient
		FOR UPDATE;
	IF NOT FOUND THEN
		-- a concurrent first event of the member: the insert waits for it, then the row is locked
		INSERT INTO plum_internal.member (company_id, recipient) VALUES (lock_member.company_id, lock_member.recipient)
			ON CONFLICT DO NOTHING;
		PERFORM FROM plum_internal.member m WHERE m.company_id = lock_member.company_id AND m.recipient = lock_member.recipient
			FOR UPDATE;
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.lock_member(bigint, plum.recipient) IS
	'Internal: lock the member''s row (created if absent) until the end of the transaction, before reading cap windows, so two events of one recipient never pass a cap together.';

-- Apply every applicable rule of an event and award the badges it makes the recipient reach (the
-- event row is written, the member locked). The awards are computed first; then each funding
-- admin's pool is debited once (admins in order, before the wallet: the canonical lock order),
-- the wallet takes every lot in one UPDATE (each give ledger row chained on the one before), and
-- the ledger, award and badge rows are written in one statement each.
CREATE FUNCTION plum_internal.award_event(co plum_internal.company, ev plum_internal.event, multiplier numeric)
	RETURNS TABLE(rule_id bigint, desired numeric, awarded numeric, lot_id bigint, available_at timestamptz)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	r plum_internal.earning_rule;
	v_rules plum_internal.earning_rule[];
	b plum_internal.badge;
	v_ccap numeric;
	v_cperiod interval;
	v_badges boolean;
	v_next timestamptz;
	v_multi boolean := false;
	v_eligible numeric;
	v_room numeric;
	v_given numeric := 0;
	v_count bigint;
	v_sum numeric;
	v_avail timestamptz;
	v_admin bigint;
	v_total numeric;
	v_lots plum.wallet;
	v_head bytea;
	v_any boolean := false;
	v_ref text := 'event:' || ev.event_id;
	n integer := 0;
	i integer;
	-- one element per award: the rules in order, then the badges (expiries are
	-- plum_internal.expiry_of() inlined: an SQL function with SET is parsed on every call)
	a_rule bigint[];
	a_badge bigint[];
	a_admin bigint[];
	a_desired numeric[];
	a_awarded numeric[];
	a_id bigint[];
	a_avail timestamptz[];
	a_exp timestamptz[];
	a_note text[];
	a_mult numeric[];
	a_hash bytea[];
BEGIN
	-- the applicable rules, the company's accrual cap and whether any badge counts this event, in one statement
	SELECT array_agg(x ORDER BY x.rule_id),
			(SELECT c.cap FROM plum_internal.accrual_cap c WHERE c.company_id = co.company_id),
			(SELECT c.period FROM plum_internal.accrual_cap c WHERE c.company_id = co.company_id),
			EXISTS (SELECT FROM plum_internal.badge y WHERE y.company_id = co.company_id AND y.event = ev.event)
		INTO v_rules, v_ccap, v_cperiod, v_badges
		FROM plum_internal.earning_rule x
		WHERE x.company_id = co.company_id AND x.event = ev.event AND x.active
			AND (x.starts_at IS NULL OR x.starts_at <= ev.at) AND (x.ends_at IS NULL OR ev.at < x.ends_at)
			AND (x.min_amount IS NULL OR ev.amount >= x.min_amount);
	FOREACH r IN ARRAY coalesce(v_rules, '{}')
	LOOP
		v_eligible := coalesce(ev.amount, 0);
		IF r.exclude_categories IS NOT NULL AND ev.lines IS NOT NULL THEN
			v_eligible := v_eligible - coalesce((SELECT sum((l->>'amount')::numeric)
				FROM jsonb_array_elements(ev.lines) l WHERE (l->>'category') = ANY (r.exclude_categories)), 0);
		END IF;
		desired := trunc((coalesce(r.points, 0) + coalesce(r.percent, 0) * greatest(v_eligible, 0) / 100) * award_event.multiplier, co.scale);
		awarded := desired;
		IF r.cap IS NOT NULL AND awarded > 0 THEN
			SELECT r.cap - coalesce(sum(a.awarded), 0) INTO v_room FROM plum_internal.award a
				WHERE a.company_id = co.company_id AND a.recipient = ev.recipient AND a.rule_id = r.rule_id
					AND NOT a.reversed AND a.at > ev.at - r.cap_period;
			awarded := least(awarded, greatest(v_room, 0));
		END IF;
		IF v_ccap IS NOT NULL AND awarded > 0 THEN
			-- the awards of this event's earlier rules count too
			SELECT v_ccap - coalesce(sum(a.awarded), 0) - v_given INTO v_room FROM plum_internal.award a
				WHERE a.company_id = co.company_id AND a.recipient = ev.recipient AND a.rule_id IS NOT NULL
					AND NOT a.reversed AND a.at > ev.at - v_cperiod;
			awarded := least(awarded, greatest(v_room, 0));
		END IF;
		awarded := round(awarded, co.scale);
		v_given := v_given + awarded;
		n := n + 1;
		-- every array gets element n (NULL when none), so that they stay aligned from 1
		a_rule[n] := r.rule_id;
		a_badge[n] := NULL;
		a_admin[n] := r.admin_id;
		a_desired[n] := desired;
		a_awarded[n] := awarded;
		a_mult[n] := award_event.multiplier;
		IF awarded > 0 THEN
			v_any := true;
			a_id[n] := nextval('plum_internal.journal_entry_id_seq');
			v_avail := CASE WHEN r.pending IS NULL THEN ev.at ELSE ((ev.at AT TIME ZONE 'UTC') + r.pending) AT TIME ZONE 'UTC' END;
			a_avail[n] := v_avail;
			a_exp[n] := ((v_avail AT TIME ZONE 'UTC') + co.points_validity) AT TIME ZONE 'UTC';
			a_note[n] := format('earned: rule %s, %s %s, multiplier %s', r.rule_id, ev.event, ev.event_ref, award_event.multiplier);
		ELSE
			a_id[n] := -nextval('plum_internal.journal_entry_id_seq');
			a_avail[n] := ev.at;
			a_exp[n] := 'infinity';
			a_note[n] := NULL;
		END IF;
	END LOOP;

	FOR b IN SELECT * FROM plum_internal.badge x WHERE v_badges AND x.company_id = co.company_id AND x.event = ev.event
			AND NOT EXISTS (SELECT FROM plum_internal.member_badge m WHERE m.badge_id = x.badge_id AND m.recipient = ev.recipient
				AND m.revoked_at IS NULL)
			ORDER BY x.badge_id
	LOOP
		IF v_count IS NULL THEN
			SELECT count(*), coalesce(sum(e.amount), 0) INTO v_count, v_sum FROM plum_internal.event e
				WHERE e.company_id = co.company_id AND e.recipient = ev.recipient AND e.event = ev.event AND e.reversed_at IS NULL;
		END IF;
		CONTINUE WHEN v_count < b.min_count OR (b.min_amount IS NOT NULL AND v_sum < b.min_amount);
		-- a badge revoked by a reversal is awarded again when its thresholds are reached again
		INSERT INTO plum_internal.member_badge AS m (badge_id, company_id, recipient, awarded_at, event_id)
			VALUES (b.badge_id, co.company_id, ev.recipient, ev.at, ev.event_id)
			ON CONFLICT ON CONSTRAINT member_badge_pkey DO UPDATE
			SET awarded_at = excluded.awarded_at, event_id = excluded.event_id, revoked_at = NULL
			WHERE m.revoked_at IS NOT NULL;
		CONTINUE WHEN NOT FOUND OR b.points = 0;
		n := n + 1;
		v_any := true;
		a_rule[n] := NULL;
		a_badge[n] := b.badge_id;
		a_admin[n] := b.admin_id;
		a_desired[n] := b.points;
		a_awarded[n] := b.points;
		a_mult[n] := 1;
		a_id[n] := nextval('plum_internal.journal_entry_id_seq');
		a_avail[n] := ev.at;
		a_exp[n] := ((ev.at AT TIME ZONE 'UTC') + co.points_validity) AT TIME ZONE 'UTC';
		a_note[n] := format('badge %s: %s', b.badge_id, b.name);
	END LOOP;

	IF v_any THEN
		-- each funding admin's pool once, in admin order, before the wallet
		v_total := 0;
		FOR i IN 1 .. n LOOP
			CONTINUE WHEN a_awarded[i] = 0;
			IF v_admin IS NULL THEN
				v_admin := a_admin[i];
			ELSIF v_admin <> a_admin[i] THEN
				v_multi := true;
			END IF;
			v_total := v_total + a_awarded[i];
		END LOOP;
		IF NOT v_multi THEN
			PERFORM plum_internal.debit_earned(v_admin, v_total, co.scale, format(' for earned points of %s', ev.recipient));
		ELSE
			FOR v_admin, v_total IN SELECT x.admin, sum(x.amount) FROM unnest(a_admin, a_awarded) x(admin, amount)
					WHERE x.amount > 0 GROUP BY x.admin ORDER BY x.admin
			LOOP
				PERFORM plum_internal.debit_earned(v_admin, v_total, co.scale, format(' for earned points of %s', ev.recipient));
			END LOOP;
		END IF;
		-- the wallet, locked (lots expired by now are first recorded as breakage by settle_account)
		SELECT acc.lots, acc.chain_head, acc.next_expiry INTO v_lots, v_head, v_next FROM plum_internal.account acc
			WHERE acc.company_id = co.company_id AND acc.recipient = ev.recipient
			FOR UPDATE;
		IF FOUND AND v_next <= ev.at THEN
			PERFORM plum_internal.settle_account(co.company_id, ev.recipient, ev.at);
			SELECT acc.lots, acc.chain_head INTO v_lots, v_head FROM plum_internal.account acc
				WHERE acc.company_id = co.company_id AND acc.recipient = ev.recipient;
		ELSIF NOT FOUND THEN
			INSERT INTO plum_internal.account (company_id, recipient, lots)
				VALUES (co.company_id, ev.recipient, plum_internal.wallet_empty(co.scale))
				ON CONFLICT ON CONSTRAINT account_pkey DO NOTHING;
			SELECT acc.lots, acc.chain_head INTO v_lots, v_head FROM plum_internal.account acc
				WHERE acc.company_id = co.company_id AND acc.recipient = ev.recipient
				FOR UPDATE;
		END IF;
		v_lots := plum_internal.wallet_live(v_lots, ev.at);
		FOR i IN 1 .. n LOOP
			a_hash[i] := NULL;
			CONTINUE WHEN a_awarded[i] = 0;
			v_lots := plum_internal.wallet_add(v_lots, a_id[i], ev.at, a_exp[i], a_awarded[i], ev.at, a_avail[i]);
			v_head := plum_internal.entry_hash(v_head, a_id[i], co.company_id, ev.at, 'give', a_awarded[i], a_admin[i],
				ev.recipient, a_id[i], NULL, v_ref, a_note[i], NULL, NULL, NULL, NULL, NULL, NULL, NULL);
			a_hash[i] := v_head;
		END LOOP;
		-- the wallet and its chain head in one statement (the row is locked since settle_account)
		UPDATE plum_internal.account acc SET lots = v_lots, chain_head = v_head
			WHERE acc.company_id = co.company_id AND acc.recipient = ev.recipient;
	END IF;
	IF n > 0 THEN
		-- the give ledger rows (awards of 0 have none) and the award rows, in one statement
		WITH j AS (
			INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, lot_id, reference, note, hash, multiplier)
				SELECT x.id, co.company_id, ev.at, 'give', x.amount, x.admin, ev.recipient, x.id, v_ref, x.note, x.hash,
						CASE WHEN ev.event = 'purchase' AND x.badge IS NULL THEN x.mult END
					FROM unnest(a_id, a_awarded, a_admin, a_note, a_hash, a_mult, a_badge) x(id, amount, admin, note, hash, mult, badge)
					WHERE x.amount > 0
					ORDER BY x.id)
		INSERT INTO plum_internal.award (award_id, event_id, company_id, recipient, rule_id, badge_id, admin_id, desired, awarded,
				multiplier, at, issued_at, available_at, expires_at)
			SELECT x.id, ev.event_id, co.company_id, ev.recipient, x.rule, x.badge, x.admin, x.desired, x.amount,
					x.mult, ev.at, ev.at, x.avail, x.exp
				FROM unnest(a_id, a_rule, a_badge, a_admin, a_desired, a_awarded, a_mult, a_avail, a_exp)
					x(id, rule, badge, admin, desired, amount, mult, avail, exp);
	END IF;
	FOR i IN 1 .. n LOOP
		CONTINUE WHEN a_rule[i] IS NULL;
		rule_id := a_rule[i];
		desired := a_desired[i];
		awarded := a_awarded[i];
		lot_id := CASE WHEN a_awarded[i] > 0 THEN a_id[i] END;
		available_at := CASE WHEN a_awarded[i] > 0 THEN a_avail[i] END;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION plum_internal.award_event(plum_internal.company, plum_internal.event, numeric) IS
	'Internal: every active rule of the event''s name in its dates and minimum applies once: fixed points plus percent of the eligible amount, times the multiplier, rounded down; clipped by the rule''s cap and the company''s accrual cap over their windows (reversed awards do not count); badges the event makes the recipient reach are awarded with their bonus. Each funding admin''s pool is debited once (PU001 when short), then the wallet takes every lot in one update, each give ledger row chained on the wallet.';

-- Record an event (new, or the exactly-once replay) and apply its rules; the internal path of
-- record_event and of the referral/referred events plum fires.
CREATE FUNCTION plum_internal.fire_event(co plum_internal.company, recipient plum.recipient, event text, event_ref text,
		amount numeric, lines jsonb, attrs jsonb)
	RETURNS TABLE(rule_id bigint, desired numeric, awarded numeric, lot_id bigint, available_at timestamptz)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_ev plum_internal.event;
	v_mult numeric := 1;
	v_ref plum_internal.referral;
BEGIN
	INSERT INTO plum_internal.event AS e (company_id, recipient, event, event_ref, amount, lines, attrs, at)
		VALUES (co.company_id, fire_event.recipient, fire_event.event, fire_event.event_ref, fire_event.amount,
			fire_event.lines, coalesce(fire_event.attrs, '{}'), v_now)
		ON CONFLICT ON CONSTRAINT event_company_id_event_event_ref_key DO NOTHING
		RETURNING * INTO v_ev;
	IF v_ev.event_id IS NULL THEN
		-- exactly once: the first recording's result, or PU006 for other arguments
		SELECT * INTO STRICT v_ev FROM plum_internal.event e
			WHERE e.company_id = co.company_id AND e.event = fire_event.event AND e.event_ref = fire_event.event_ref;
		IF v_ev.recipient <> fire_event.recipient OR v_ev.amount IS DISTINCT FROM fire_event.amount
				OR v_ev.lines IS DISTINCT FROM fire_event.lines THEN
			PERFORM plum_internal.raise('PU006', 'event already recorded with other arguments',
				format('The event %s "%s" of company %s was recorded at %s with another recipient, amount or lines.',
					fire_event.event, fire_event.event_ref, co.company_id, v_ev.at),
				'An event_ref identifies one event: record a new event under a new reference.');
		END IF;
		RETURN QUERY SELECT a.rule_id, round(a.desired, co.scale), round(a.awarded, co.scale),
				CASE WHEN a.awarded > 0 THEN a.award_id END, CASE WHEN a.awarded > 0 THEN a.available_at END
			FROM plum_internal.award a WHERE a.event_id = v_ev.event_id AND a.rule_id IS NOT NULL ORDER BY a.rule_id;
		RETURN;
	END IF;

	PERFORM plum_internal.lock_member(co.company_id, fire_event.recipient);
	IF fire_event.event = 'purchase' THEN
		-- the tier held just before this event: plum_internal.spend() inlined (the spend is read only
		-- when the company has tiers)
		SELECT t.multiplier INTO v_mult FROM plum_internal.tier t
			WHERE t.company_id = co.company_id
				AND t.min_spend <= (SELECT coalesce(sum(e.amount), 0) FROM plum_internal.event e
					WHERE e.company_id = co.company_id AND e.recipient = fire_event.recipient AND e.event = 'purchase'
						AND e.at <= v_now AND e.at > v_now - co.tier_window
						AND (e.reversed_at IS NULL OR e.reversed_at > v_now) AND e.event_id <> v_ev.event_id)
			ORDER BY t.min_spend DESC LIMIT 1;
		v_mult := coalesce(v_mult, 1);
	END IF;
	-- a referee's first purchase after refer qualifies the referral: both sides' rules fire below;
	-- the referrer's member row is locked now, before any pool or wallet (the canonical order)
	IF fire_event.event = 'purchase' THEN
		SELECT * INTO v_ref FROM plum_internal.referral r
			WHERE r.company_id = co.company_id AND r.referee = fire_event.recipient AND r.state = 'referred'
				AND r.referred_at <= v_now
			FOR UPDATE;
		IF FOUND THEN
			PERFORM plum_internal.lock_member(co.company_id, v_ref.referrer);
		END IF;
	END IF;
	RETURN QUERY SELECT * FROM plum_internal.award_event(co, v_ev, v_mult);

	IF fire_event.event = 'purchase' THEN
		IF v_ref.referral_id IS NOT NULL THEN
			UPDATE plum_internal.referral r SET state = 'qualified', qualified_at = v_now, qualifying_event_id = v_ev.event_id
				WHERE r.referral_id = v_ref.referral_id;
			PERFORM plum_internal.fire_event(co, v_ref.referrer, 'referral', 'referral:' || v_ref.referral_id, NULL, NULL, '{}');
			PERFORM plum_internal.fire_event(co, v_ref.referee, 'referred', 'referral:' || v_ref.referral_id, NULL, NULL, '{}');
		END IF;
	END IF;
END
$$;
COMMENT ON FUNCTION plum_internal.fire_event(plum_internal.company, plum.recipient, text, text, numeric, jsonb, jsonb) IS
	'Internal: record an event exactly once (a replay returns the first result, PU006 with other arguments), apply its rules with the tier multiplier held before it, award badges, and qualify a referral at the referee''s first purchase.';

CREATE FUNCTION plum.record_event(company_id bigint, recipient plum.recipient, event text, event_ref text,
		amount numeric DEFAULT NULL, lines jsonb DEFAULT NULL, attrs jsonb DEFAULT '{}')
	RETURNS TABLE(rule_id bigint, desired numeric, awarded numeric, lot_id bigint, available_at timestamptz)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_co plum_internal.company;
	v_sum numeric;
	v_line jsonb;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(recipient, 'recipient');
	PERFORM plum_internal.not_null(event, 'event');
	PERFORM plum_internal.not_null(event_ref, 'event_ref');
	PERFORM plum_internal.check_event_name(event);
	IF event_ref = '' OR length(event_ref) > 200 THEN
		PERFORM plum_internal.raise('22023', 'invalid event reference',
			format('The event_ref is %s characters long; give 1 to 200.', length(event_ref)));
	END IF;
	IF event = 'purchase' AND amount IS NULL THEN
		PERFORM plum_internal.raise('22004', 'a purchase event needs an amount', 'The amount is NULL.');
	END IF;
	IF lines IS NOT NULL THEN
		IF jsonb_typeof(lines) <> 'array' THEN
			PERFORM plum_internal.raise('22023', 'malformed event lines', 'The lines must be a JSON array of objects.');
		END IF;
		IF amount IS NULL THEN
			PERFORM plum_internal.raise('22023', 'event lines without an amount', 'Give the event''s amount with its lines.');
		END IF;
		v_sum := 0;
		FOR v_line IN SELECT l FROM jsonb_array_elements(lines) l LOOP
			IF jsonb_typeof(v_line) <> 'object' OR jsonb_typeof(v_line->'amount') <> 'number'
					OR (v_line ? 'category' AND jsonb_typeof(v_line->'category') <> 'string')
					OR (v_line->>'amount')::numeric < 0 THEN
				PERFORM plum_internal.raise('22023', 'malformed event line',
					format('The line %s needs a non-negative numeric "amount" and a text "category".', left(v_line::text, 80)));
			END IF;
			v_sum := v_sum + (v_line->>'amount')::numeric;
		END LOOP;
		IF v_sum <> amount THEN
			PERFORM plum_internal.raise('22023', 'event lines do not add up to the amount',
				format('The lines add up to %s; the amount is %s.', v_sum, amount));
		END IF;
	END IF;
	IF attrs IS NOT NULL AND jsonb_typeof(attrs) <> 'object' THEN
		PERFORM plum_internal.raise('22023', 'malformed event attributes', 'The attrs must be a JSON object.');
	END IF;
	SELECT * INTO v_co FROM plum_internal.company c WHERE c.company_id = record_event.company_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', record_event.company_id));
	END IF;
	amount := plum_internal.check_nonneg(amount, v_co.scale, 'amount');
	PERFORM plum_internal.check_company(v_co.company_id);
	IF event IN ('referral', 'referred') THEN
		PERFORM plum_internal.raise('PU009', 'event fired by plum itself',
			format('%s events are fired by plum when a referral qualifies.', event),
			'Record the referee''s purchase; plum fires referral and referred events.');
	END IF;
	RETURN QUERY SELECT * FROM plum_internal.fire_event(v_co, recipient, event, event_ref, amount, lines, coalesce(attrs, '{}'));
END
$$;
COMMENT ON FUNCTION plum.record_event(bigint, plum.recipient, text, text, numeric, jsonb, jsonb) IS
	'Record an application event exactly once per (company, event, event_ref) and award what the company''s earning rules pay for it: one row per applicable rule with desired (after the tier multiplier) and awarded (after caps) points, the lot and when it becomes available. A replay returns the first result; other arguments are PU006; a short pool refuses the whole event (PU001).';

-- Take back one event's awards (and the referral events it qualified); returns the amount taken back.
CREATE FUNCTION plum_internal.unfire_event(co plum_internal.company, ev_id bigint) RETURNS numeric
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_now timestamptz := plum.now();
	v_ev plum_internal.event;
	a plum_internal.award;
	v_total numeric := 0;
	v_take record;
	v_entry bigint;
	v_hash bytea;
	v_ref plum_internal.referral;
	v_other bigint;
	v_revoked bigint[];
BEGIN
	SELECT * INTO v_ev FROM plum_internal.event e WHERE e.event_id = ev_id;
	PERFORM plum_internal.lock_member(co.company_id, v_ev.recipient);
	SELECT * INTO v_ev FROM plum_internal.event e WHERE e.event_id = ev_id FOR UPDATE;
	IF v_ev.reversed_at IS NOT NULL THEN
		RETURN 0;
	END IF;
	-- the badges of this event's name the recipient holds and no longer reaches without it: revoked,
	-- their bonus taken back with the event's awards
	WITH held AS (
		SELECT m.badge_id, b.min_count, b.min_amount FROM plum_internal.member_badge m JOIN plum_internal.badge b USING (badge_id)
		WHERE m.company_id = co.company_id AND m.recipient = v_ev.recipient AND m.revoked_at IS NULL AND b.event = v_ev.event),
	still AS (
		SELECT count(*) AS n, coalesce(sum(e.amount), 0) AS total FROM plum_internal.event e
		WHERE e.company_id = co.company_id AND e.recipient = v_ev.recipient AND e.event = v_ev.event
			AND e.reversed_at IS NULL AND e.event_id <> ev_id)
	SELECT array_agg(held.badge_id ORDER BY held.badge_id) INTO v_revoked FROM held, still
		WHERE still.n < held.min_count OR (held.min_amount IS NOT NULL AND still.total < held.min_amount);
	IF v_revoked IS NOT NULL THEN
		UPDATE plum_internal.member_badge m SET revoked_at = v_now
			WHERE m.badge_id = ANY (v_revoked) AND m.recipient = v_ev.recipient;
	END IF;
	-- pools first, then the wallet: the lock order of give_points
	PERFORM 1 FROM plum_internal.admin ad WHERE ad.admin_id IN (SELECT x.admin_id FROM plum_internal.award x
			WHERE x.event_id = ev_id OR (x.badge_id = ANY (v_revoked) AND x.company_id = co.company_id AND x.recipient = v_ev.recipient))
		ORDER BY ad.admin_id FOR UPDATE;
	PERFORM plum_internal.settle_account(co.company_id, v_ev.recipient, v_now);
	FOR a IN SELECT * FROM plum_internal.award x
			WHERE ((x.event_id = ev_id AND x.rule_id IS NOT NULL)
					OR (x.badge_id = ANY (v_revoked) AND x.company_id = co.company_id AND x.recipient = v_ev.recipient))
				AND x.awarded > x.taken_back ORDER BY x.award_id
	LOOP
		SELECT t.wallet, t.taken INTO v_take FROM plum_internal.account acc,
			plum_internal.wallet_take_back(acc.lots, a.issued_at, a.available_at, a.expires_at, a.awarded - a.taken_back, v_now) t
			WHERE acc.company_id = co.company_id AND acc.recipient = v_ev.recipient;
		CONTINUE WHEN v_take.taken IS NULL OR v_take.taken = 0;
		v_entry := nextval('plum_internal.journal_entry_id_seq');
		UPDATE plum_internal.account acc SET lots = v_take.wallet,
			chain_head = plum_internal.entry_hash(acc.chain_head, v_entry, co.company_id, v_now, 'takeback', v_take.taken,
				a.admin_id, v_ev.recipient, a.award_id, NULL, format('event:%s', ev_id), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
			WHERE acc.company_id = co.company_id AND acc.recipient = v_ev.recipient
			RETURNING acc.chain_head INTO v_hash;
		UPDATE plum_internal.admin ad SET pool = ad.pool + v_take.taken WHERE ad.admin_id = a.admin_id;
		INSERT INTO plum_internal.journal (entry_id, company_id, at, kind, amount, admin_id, recipient, lot_id, reference, hash)
			VALUES (v_entry, co.company_id, v_now, 'takeback', v_take.taken, a.admin_id, v_ev.recipient, a.award_id,
				format('event:%s', ev_id), v_hash);
		UPDATE plum_internal.award x SET taken_back = x.taken_back + v_take.taken WHERE x.award_id = a.award_id;
		v_total := v_total + v_take.taken;
	END LOOP;
	UPDATE plum_internal.award x SET reversed = true WHERE x.event_id = ev_id AND x.rule_id IS NOT NULL;
	UPDATE plum_internal.event e SET reversed_at = v_now WHERE e.event_id = ev_id;
	-- the referral this event qualified: both sides' awards go too
	SELECT * INTO v_ref FROM plum_internal.referral r WHERE r.qualifying_event_id = ev_id AND r.state = 'qualified' FOR UPDATE;
	IF FOUND THEN
		UPDATE plum_internal.referral r SET state = 'reversed' WHERE r.referral_id = v_ref.referral_id;
		FOR v_other IN SELECT e.event_id FROM plum_internal.event e WHERE e.company_id = co.company_id
				AND e.event IN ('referral', 'referred') AND e.event_ref = 'referral:' || v_ref.referral_id ORDER BY e.event_id
		LOOP
			v_total := v_total + plum_internal.unfire_event(co, v_other);
		END LOOP;
	END IF;
	RETURN v_total;
END
$$;
COMMENT ON FUNCTION plum_internal.unfire_event(plum_internal.company, bigint) IS
	'Internal: take back what an event''s own lots still hold (pending or live) to each rule admin''s pool (takeback ledger rows), give its cap room back, and reverse the referral it qualified; 0 when already reversed.';

CREATE FUNCTION plum.reverse_event(company_id bigint, event text, event_ref text) RETURNS numeric
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_co plum_internal.company;
	v_id bigint;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(event, 'event');
	PERFORM plum_internal.not_null(event_ref, 'event_ref');
	PERFORM plum_internal.check_event_name(event);
	SELECT * INTO v_co FROM plum_internal.company c WHERE c.company_id = reverse_event.company_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', reverse_event.company_id));
	END IF;
	PERFORM plum_internal.check_company(v_co.company_id);
	SELECT e.event_id INTO v_id FROM plum_internal.event e
		WHERE e.company_id = v_co.company_id AND e.event = reverse_event.event AND e.event_ref = reverse_event.event_ref;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown event',
			format('Company %s has no %s event "%s".', v_co.company_id, event, left(event_ref, 80)));
	END IF;
	IF event IN ('referral', 'referred') THEN
		PERFORM plum_internal.raise('PU009', 'event fired by plum itself',
			'referral and referred events are reversed with the purchase that qualified them.');
	END IF;
	RETURN round(plum_internal.unfire_event(v_co, v_id), v_co.scale);
END
$$;
COMMENT ON FUNCTION plum.reverse_event(bigint, text, text) IS
	'Reverse an event (a refunded order, a retracted review): takes back what its own lots still hold, pending or live, to the rule admins'' pools, gives the cap room back, and reverses the referral it qualified. Returns the amount taken back (0 on a second call); points already redeemed or expired stay so. Unknown event: PU005.';

CREATE FUNCTION plum.add_earning_rule(admin_id bigint, name text, event text, points numeric DEFAULT NULL,
		percent numeric DEFAULT NULL, min_amount numeric DEFAULT NULL, exclude_categories text[] DEFAULT NULL,
		pending interval DEFAULT NULL, cap numeric DEFAULT NULL, cap_period interval DEFAULT NULL,
		starts_at timestamptz DEFAULT NULL, ends_at timestamptz DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_co plum_internal.company;
	v_id bigint;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(name, 'name');
	PERFORM plum_internal.not_null(event, 'event');
	PERFORM plum_internal.check_event_name(event);
	IF plum_internal.trim_name(name) = '' THEN
		PERFORM plum_internal.raise('22023', 'rule name must not be empty');
	END IF;
	IF points IS NULL AND percent IS NULL THEN
		PERFORM plum_internal.raise('PU008', 'rule pays nothing', 'Both points and percent are NULL.',
			'Give fixed points, a percent of the amount, or both.');
	END IF;
	IF percent IS NOT NULL AND NOT (percent > 0 AND percent <= 100) THEN
		PERFORM plum_internal.raise('PU008', 'percent out of range', format('The percent is %s; it must be in (0, 100].', percent));
	END IF;
	IF (cap IS NULL) <> (cap_period IS NULL) THEN
		PERFORM plum_internal.raise('22023', 'a cap needs a period',
			format('The cap is %s and the cap period %s.', coalesce(cap::text, 'NULL'), coalesce(cap_period::text, 'NULL')));
	END IF;
	PERFORM plum_internal.check_period(pending, 'pending window');
	PERFORM plum_internal.check_period(cap_period, 'cap period');
	IF starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at <= starts_at THEN
		PERFORM plum_internal.raise('22023', 'rule ends before it starts', format('It starts at %s and ends at %s.', starts_at, ends_at));
	END IF;
	IF exclude_categories IS NOT NULL AND array_position(exclude_categories, NULL) IS NOT NULL THEN
		PERFORM plum_internal.raise('22023', 'excluded categories must not contain NULL');
	END IF;
	v_co := plum_internal.admin_company(add_earning_rule.admin_id);
	IF points IS NOT NULL THEN
		points := plum_internal.valid_amount(points, v_co.scale, 'points');
	END IF;
	min_amount := plum_internal.check_nonneg(min_amount, v_co.scale, 'minimum amount');
	cap := plum_internal.check_nonneg(cap, v_co.scale, 'cap');
	IF pending IS NOT NULL THEN
		BEGIN
			PERFORM plum.now() + pending + v_co.points_validity;
		EXCEPTION WHEN datetime_field_overflow THEN
			PERFORM plum_internal.raise('22023', 'pending window is too long', format('The pending window is %s.', pending));
		END;
	END IF;
	INSERT INTO plum_internal.earning_rule (company_id, admin_id, name, event, points, percent, min_amount, exclude_categories,
			pending, cap, cap_period, starts_at, ends_at, created)
		VALUES (v_co.company_id, add_earning_rule.admin_id, plum_internal.trim_name(add_earning_rule.name), add_earning_rule.event,
			add_earning_rule.points, add_earning_rule.percent, add_earning_rule.min_amount, add_earning_rule.exclude_categories,
			add_earning_rule.pending, add_earning_rule.cap, add_earning_rule.cap_period, add_earning_rule.starts_at,
			add_earning_rule.ends_at, plum.now())
		RETURNING rule_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.add_earning_rule(bigint, text, text, numeric, numeric, numeric, text[], interval, numeric, interval, timestamptz, timestamptz) IS
	'An earning rule of the admin''s company, funded from its pool: fixed points plus percent (0, 100] of the event''s amount less excluded categories, rounded down; for events of at least min_amount, in [starts_at, ends_at); lots pending for the pending window; at most cap per recipient in any window of cap_period. Returns the rule id.';

CREATE FUNCTION plum.set_rule_active(admin_id bigint, rule_id bigint, active boolean) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_co plum_internal.company;
	v_rule plum_internal.earning_rule;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(rule_id, 'rule_id');
	PERFORM plum_internal.not_null(active, 'active');
	v_co := plum_internal.admin_company(set_rule_active.admin_id);
	SELECT * INTO v_rule FROM plum_internal.earning_rule r WHERE r.rule_id = set_rule_active.rule_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown rule', format('There is no earning rule %s.', set_rule_active.rule_id));
	END IF;
	PERFORM plum_internal.check_company(v_rule.company_id);
	IF v_rule.company_id <> v_co.company_id THEN
		PERFORM plum_internal.raise('PU009', 'not permitted',
			format('Rule %s belongs to company %s; admin %s is of company %s.', v_rule.rule_id, v_rule.company_id,
				set_rule_active.admin_id, v_co.company_id));
	END IF;
	UPDATE plum_internal.earning_rule r SET active = set_rule_active.active WHERE r.rule_id = v_rule.rule_id;
END
$$;
COMMENT ON FUNCTION plum.set_rule_active(bigint, bigint, boolean) IS
	'Turn an earning rule on or off (an admin of the rule''s company; PU009 otherwise).';

CREATE FUNCTION plum.set_accrual_cap(admin_id bigint, cap numeric, period interval) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_admin plum_internal.admin;
	v_co plum_internal.company;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	IF cap IS NOT NULL THEN
		PERFORM plum_internal.not_null(period, 'period');
		IF cap < 0 OR cap = 'NaN'::numeric THEN
			PERFORM plum_internal.raise('PU008', 'invalid cap', format('The cap is %s; it must not be negative.', cap));
		END IF;
		PERFORM plum_internal.check_period(period, 'period');
	END IF;
	v_co := plum_internal.admin_company(set_accrual_cap.admin_id);
	v_admin := plum_internal.admin_row(set_accrual_cap.admin_id);
	IF v_admin.role <> 'super_admin' THEN
		PERFORM plum_internal.raise('PU009', 'not permitted',
			format('Admin %s is not a super admin of company %s.', v_admin.admin_id, v_co.company_id),
			'Only a super admin sets the company''s accrual cap.');
	END IF;
	IF cap IS NULL THEN
		DELETE FROM plum_internal.accrual_cap c WHERE c.company_id = v_co.company_id;
	ELSE
		cap := plum_internal.check_nonneg(cap, v_co.scale, 'cap');
		INSERT INTO plum_internal.accrual_cap AS c (company_id, cap, period) VALUES (v_co.company_id, set_accrual_cap.cap, set_accrual_cap.period)
			ON CONFLICT (company_id) DO UPDATE SET cap = excluded.cap, period = excluded.period;
	END IF;
END
$$;
COMMENT ON FUNCTION plum.set_accrual_cap(bigint, numeric, interval) IS
	'The company''s accrual cap (a super admin): the most all rules together award one recipient in any window of period; a NULL cap removes it.';

CREATE FUNCTION plum.referral_code(company_id bigint, referrer plum.recipient) RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_code text;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(referrer, 'referrer');
	IF NOT EXISTS (SELECT FROM plum_internal.company c WHERE c.company_id = referral_code.company_id) THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', referral_code.company_id));
	END IF;
	PERFORM plum_internal.check_company(referral_code.company_id);
	LOOP
		SELECT r.code INTO v_code FROM plum_internal.referral_code r
			WHERE r.company_id = referral_code.company_id AND r.referrer = referral_code.referrer;
		EXIT WHEN FOUND;
		-- 60 random bits in Crockford base-32 (a plum.code without its hyphens)
		INSERT INTO plum_internal.referral_code (company_id, referrer, code)
			VALUES (referral_code.company_id, referral_code.referrer, replace(plum_internal.code_random()::text, '-', ''))
			ON CONFLICT DO NOTHING;
	END LOOP;
	RETURN v_code;
END
$$;
COMMENT ON FUNCTION plum.referral_code(bigint, plum.recipient) IS
	'The referrer''s referral code (13 characters of Crockford base-32, 60 random bits, case-insensitive), the same on every call.';

CREATE FUNCTION plum.refer(company_id bigint, code text, referee plum.recipient) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_rc plum_internal.referral_code;
	v_id bigint;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(code, 'code');
	PERFORM plum_internal.not_null(referee, 'referee');
	IF NOT EXISTS (SELECT FROM plum_internal.company c WHERE c.company_id = refer.company_id) THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', refer.company_id));
	END IF;
	PERFORM plum_internal.check_company(refer.company_id);
	SELECT * INTO v_rc FROM plum_internal.referral_code r
		WHERE r.company_id = refer.company_id
			AND r.code = translate(upper(regexp_replace(refer.code, '[\s-]', '', 'g')), 'ILO', '110');
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown referral code',
			format('Company %s has no referral code "%s".', refer.company_id, left(code, 40)));
	END IF;
	PERFORM plum_internal.check_company(refer.company_id);
	IF v_rc.referrer = referee THEN
		PERFORM plum_internal.raise('PU009', 'self-referral', format('%s cannot refer themselves.', referee));
	END IF;
	PERFORM plum_internal.lock_member(refer.company_id, referee);
	-- a loop: the referee is one of the referrer's own referrers
	IF EXISTS (WITH RECURSIVE up(who, depth) AS (
				SELECT r.referrer, 1 FROM plum_internal.referral r WHERE r.company_id = refer.company_id AND r.referee = v_rc.referrer
				UNION ALL
				SELECT r.referrer, up.depth + 1 FROM up JOIN plum_internal.referral r
					ON r.company_id = refer.company_id AND r.referee = up.who WHERE up.depth < 1000)
			SELECT FROM up WHERE up.who = referee) THEN
		PERFORM plum_internal.raise('PU009', 'referral loop',
			format('%s is already among the referrers of %s.', referee, v_rc.referrer));
	END IF;
	IF EXISTS (SELECT FROM plum_internal.referral r WHERE r.company_id = refer.company_id AND r.referee = refer.referee) THEN
		PERFORM plum_internal.raise('PU003', 'already referred', format('%s was already referred.', referee));
	END IF;
	IF EXISTS (SELECT FROM plum_internal.event e WHERE e.company_id = refer.company_id AND e.recipient = refer.referee
			AND e.event = 'purchase') THEN
		PERFORM plum_internal.raise('PU009', 'existing customer',
			format('%s already has a purchase; referrals are for new customers.', referee));
	END IF;
	INSERT INTO plum_internal.referral (company_id, referrer, referee, code, referred_at)
		VALUES (refer.company_id, v_rc.referrer, refer.referee, v_rc.code, plum.now())
		ON CONFLICT ON CONSTRAINT referral_company_id_referee_key DO NOTHING
		RETURNING referral_id INTO v_id;
	IF v_id IS NULL THEN
		PERFORM plum_internal.raise('PU003', 'already referred', format('%s was already referred.', referee));
	END IF;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.refer(bigint, text, plum.recipient) IS
	'Attribute a new customer (referee) to the referral code''s referrer, once (PU003 when already referred); self-referral, loops and existing customers are PU009; unknown code PU005. The referral qualifies at the referee''s first purchase. Returns the referral id.';

CREATE FUNCTION plum.add_tier(admin_id bigint, name text, min_spend numeric, multiplier numeric DEFAULT 1) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_co plum_internal.company;
	v_id bigint;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(name, 'name');
	PERFORM plum_internal.not_null(min_spend, 'min_spend');
	PERFORM plum_internal.not_null(multiplier, 'multiplier');
	IF plum_internal.trim_name(name) = '' THEN
		PERFORM plum_internal.raise('22023', 'tier name must not be empty');
	END IF;
	IF NOT (multiplier >= 1 AND multiplier <= 10) THEN
		PERFORM plum_internal.raise('PU008', 'multiplier out of range', format('The multiplier is %s; it must be in [1, 10].', multiplier));
	END IF;
	IF min_spend < 0 OR min_spend = 'NaN'::numeric THEN
		PERFORM plum_internal.raise('PU008', 'invalid minimum spend', format('The minimum spend is %s; it must not be negative.', min_spend));
	END IF;
	v_co := plum_internal.admin_company(add_tier.admin_id);
	min_spend := plum_internal.check_nonneg(min_spend, v_co.scale, 'minimum spend');
	INSERT INTO plum_internal.tier (company_id, admin_id, name, min_spend, multiplier)
		VALUES (v_co.company_id, add_tier.admin_id, plum_internal.trim_name(add_tier.name), add_tier.min_spend, add_tier.multiplier)
		RETURNING tier_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.add_tier(bigint, text, numeric, numeric) IS
	'A loyalty tier of the admin''s company: reached at min_spend of purchase spend in the company''s tier window; multiplies purchase awards by multiplier in [1, 10]. Returns the tier id.';

CREATE FUNCTION plum.member_tier(company_id bigint, recipient plum.recipient) RETURNS text
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_co plum_internal.company;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(recipient, 'recipient');
	SELECT * INTO v_co FROM plum_internal.company c WHERE c.company_id = member_tier.company_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', member_tier.company_id));
	END IF;
	PERFORM plum_internal.check_company(v_co.company_id);
	RETURN (plum_internal.tier_for(v_co.company_id,
		plum_internal.spend(v_co.company_id, recipient, plum.now(), v_co.tier_window))).name;
END
$$;
COMMENT ON FUNCTION plum.member_tier(bigint, plum.recipient) IS
	'The recipient''s tier as of plum''s clock: the tier with the highest min_spend not above its purchase spend in the tier window (less reversed events); NULL below every tier.';

CREATE FUNCTION plum.add_badge(admin_id bigint, name text, event text, min_count integer DEFAULT 1,
		min_amount numeric DEFAULT NULL, points numeric DEFAULT 0) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_co plum_internal.company;
	v_id bigint;
BEGIN
	PERFORM plum_internal.not_null(admin_id, 'admin_id');
	PERFORM plum_internal.not_null(name, 'name');
	PERFORM plum_internal.not_null(event, 'event');
	PERFORM plum_internal.not_null(min_count, 'min_count');
	PERFORM plum_internal.not_null(points, 'points');
	PERFORM plum_internal.check_event_name(event);
	IF plum_internal.trim_name(name) = '' THEN
		PERFORM plum_internal.raise('22023', 'badge name must not be empty');
	END IF;
	IF min_count < 1 THEN
		PERFORM plum_internal.raise('PU008', 'invalid minimum count', format('The minimum count is %s; it must be at least 1.', min_count));
	END IF;
	v_co := plum_internal.admin_company(add_badge.admin_id);
	min_amount := plum_internal.check_nonneg(min_amount, v_co.scale, 'minimum amount');
	points := coalesce(plum_internal.check_nonneg(points, v_co.scale, 'points'), 0);
	INSERT INTO plum_internal.badge (company_id, admin_id, name, event, min_count, min_amount, points)
		VALUES (v_co.company_id, add_badge.admin_id, plum_internal.trim_name(add_badge.name), add_badge.event,
			add_badge.min_count, add_badge.min_amount, add_badge.points)
		RETURNING badge_id INTO v_id;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION plum.add_badge(bigint, text, text, integer, numeric, numeric) IS
	'A badge of the admin''s company: awarded once per recipient at the event that makes its count of event events reach min_count (and their total amount min_amount), with an optional bonus of points from the admin''s pool. Returns the badge id.';

CREATE FUNCTION plum.leaderboard(company_id bigint, since timestamptz, until timestamptz, top integer DEFAULT 10)
	RETURNS TABLE(rank bigint, recipient plum.recipient, points numeric)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, plum, pg_temp
	AS $$
DECLARE
	v_co plum_internal.company;
BEGIN
	PERFORM plum_internal.not_null(company_id, 'company_id');
	PERFORM plum_internal.not_null(since, 'since');
	PERFORM plum_internal.not_null(until, 'until');
	PERFORM plum_internal.not_null(top, 'top');
	IF top < 1 THEN
		PERFORM plum_internal.raise('22023', 'top must be at least 1', format('top is %s.', top));
	END IF;
	SELECT * INTO v_co FROM plum_internal.company c WHERE c.company_id = leaderboard.company_id;
	IF NOT FOUND THEN
		PERFORM plum_internal.raise('PU005', 'unknown company', format('There is no company %s.', leaderboard.company_id));
	END IF;
	PERFORM plum_internal.check_company(v_co.company_id);
	RETURN QUERY
	SELECT x.rank, x.recipient, x.points FROM (
		SELECT pg_catalog.rank() OVER (ORDER BY e.earned DESC) AS rank, e.recipient, round(e.earned, v_co.scale) AS points
		FROM (SELECT j.recipient, sum(CASE j.kind WHEN 'give' THEN j.amount ELSE -j.amount END) AS earned
			FROM plum_internal.journal j
			WHERE j.company_id = v_co.company_id AND j.kind IN ('give', 'takeback') AND j.at >= since AND j.at < until
			GROUP BY j.recipient) e
		WHERE e.earned > 0) x
	WHERE x.rank <= top
	ORDER BY x.rank, x.recipient::text;
END
$$;
COMMENT ON FUNCTION plum.leaderboard(bigint, timestamptz, timestamptz, integer) IS
	'Recipients ranked by points earned (give_points, rules, badges) in [since, until), net of points taken back by reversals; standard competition ranking (1, 2, 2, 4), ties listed by recipient text; ranks up to top.';

CREATE VIEW plum.referrals WITH (security_barrier) AS
	SELECT r.referral_id, r.company_id, r.referrer, r.referee, r.code, r.referred_at, r.qualified_at,
		coalesce((SELECT sum(a.awarded - a.taken_back) FROM plum_internal.event e JOIN plum_internal.award a USING (event_id)
			WHERE e.company_id = r.company_id AND e.event = 'referral' AND e.event_ref = 'referral:' || r.referral_id), 0) AS referrer_awarded,
		coalesce((SELECT sum(a.awarded - a.taken_back) FROM plum_internal.event e JOIN plum_internal.award a USING (event_id)
			WHERE e.company_id = r.company_id AND e.event = 'referred' AND e.event_ref = 'referral:' || r.referral_id), 0) AS referee_awarded,
		r.state
	FROM plum_internal.referral r
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR r.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.referrals IS 'Referrals: who referred whom with which code, when it qualified (the referee''s first purchase), what each side was awarded (net of reversals), and its state. A role confined to companies sees only theirs.';
COMMENT ON COLUMN plum.referrals.referral_id IS 'Referral id (plum.refer()).';
COMMENT ON COLUMN plum.referrals.company_id IS 'Company id.';
COMMENT ON COLUMN plum.referrals.referrer IS 'The recipient whose code was used.';
COMMENT ON COLUMN plum.referrals.referee IS 'The new customer referred.';
COMMENT ON COLUMN plum.referrals.code IS 'The referral code used.';
COMMENT ON COLUMN plum.referrals.referred_at IS 'When plum.refer() attributed the referee.';
COMMENT ON COLUMN plum.referrals.qualified_at IS 'When the referee''s first purchase qualified the referral (NULL until then).';
COMMENT ON COLUMN plum.referrals.referrer_awarded IS 'Points the referral rules awarded the referrer, net of reversals.';
COMMENT ON COLUMN plum.referrals.referee_awarded IS 'Points the referred rules awarded the referee, net of reversals.';
COMMENT ON COLUMN plum.referrals.state IS 'referred, qualified or reversed (the qualifying purchase was reversed).';

CREATE VIEW plum.member_badges WITH (security_barrier) AS
	SELECT m.company_id, m.recipient, m.badge_id, b.name AS badge, m.awarded_at
	FROM plum_internal.member_badge m JOIN plum_internal.badge b USING (badge_id)
	WHERE m.revoked_at IS NULL
		AND ((SELECT plum_internal.caller_companies()) IS NULL OR m.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.member_badges IS 'Badges recipients hold: awarded at the event that reached the thresholds; a badge whose thresholds a reversed event took the recipient back below is revoked (not shown, its bonus taken back) until they are reached again. A role confined to companies sees only theirs.';
COMMENT ON COLUMN plum.member_badges.company_id IS 'Company id.';
COMMENT ON COLUMN plum.member_badges.recipient IS 'The recipient.';
COMMENT ON COLUMN plum.member_badges.badge_id IS 'Badge id (plum.add_badge()).';
COMMENT ON COLUMN plum.member_badges.badge IS 'The badge''s name.';
COMMENT ON COLUMN plum.member_badges.awarded_at IS 'When the event that reached the badge''s thresholds was recorded.';

CREATE VIEW plum.members WITH (security_barrier) AS
	WITH who AS (
		SELECT a.company_id, a.recipient FROM plum_internal.account a
		UNION
		SELECT e.company_id, e.recipient FROM plum_internal.event e)
	SELECT w.company_id, w.recipient,
		(SELECT t.name FROM plum_internal.tier t WHERE t.company_id = w.company_id AND t.min_spend <= s.spend
			ORDER BY t.min_spend DESC LIMIT 1) AS tier,
		s.spend,
		coalesce(plum_internal.wallet_balance(acc.lots, plum.now()), 0) AS balance,
		coalesce(plum_internal.wallet_pending(acc.lots, plum.now()), 0) AS pending,
		coalesce(j.earned, 0) AS earned,
		coalesce(j.redeemed, 0) AS redeemed,
		least(j.first_at, ev.first_at) AS first_seen,
		ev.last_at AS last_event_at
	FROM who w
		JOIN plum_internal.company c USING (company_id)
		LEFT JOIN plum_internal.account acc ON acc.company_id = w.company_id AND acc.recipient = w.recipient
		CROSS JOIN LATERAL (SELECT coalesce(sum(e.amount), 0) AS spend FROM plum_internal.event e
			WHERE e.company_id = w.company_id AND e.recipient = w.recipient AND e.event = 'purchase'
				AND e.at <= plum.now() AND e.at > plum.now() - c.tier_window
				AND (e.reversed_at IS NULL OR e.reversed_at > plum.now())) s
		LEFT JOIN LATERAL (SELECT sum(CASE x.kind WHEN 'give' THEN x.amount WHEN 'takeback' THEN -x.amount ELSE 0 END) AS earned,
				sum(CASE x.kind WHEN 'redeem' THEN x.amount WHEN 'restore' THEN -x.amount ELSE 0 END) AS redeemed,
				min(x.at) AS first_at
			FROM plum_internal.journal x WHERE x.company_id = w.company_id AND x.recipient = w.recipient) j ON true
		LEFT JOIN LATERAL (SELECT min(e.at) AS first_at, max(e.at) AS last_at FROM plum_internal.event e
			WHERE e.company_id = w.company_id AND e.recipient = w.recipient) ev ON true
	WHERE ((SELECT plum_internal.caller_companies()) IS NULL OR w.company_id = ANY ((SELECT plum_internal.caller_companies())::bigint[]));
COMMENT ON VIEW plum.members IS 'Loyalty members (recipients with a wallet or an event) as of plum''s clock: tier, rolling spend, balance, pending, earned and redeemed points, first seen and last event. A role confined to companies sees only theirs.';
COMMENT ON COLUMN plum.members.company_id IS 'Company id.';
COMMENT ON COLUMN plum.members.recipient IS 'The recipient.';
COMMENT ON COLUMN plum.members.tier IS 'The tier held now (NULL below every tier).';
COMMENT ON COLUMN plum.members.spend IS 'Purchase spend in the company''s tier window, less reversed events.';
COMMENT ON COLUMN plum.members.balance IS 'Live points balance now.';
COMMENT ON COLUMN plum.members.pending IS 'Points earned but not available yet.';
COMMENT ON COLUMN plum.members.earned IS 'Points earned in total (grants, rules, badges), net of points taken back.';
COMMENT ON COLUMN plum.members.redeemed IS 'Points redeemed in total, net of reversed redemptions.';
COMMENT ON COLUMN plum.members.first_seen IS 'The first ledger row or event of the recipient.';
COMMENT ON COLUMN plum.members.last_event_at IS 'The recipient''s latest event (NULL when none).';

REVOKE EXECUTE ON FUNCTION
	plum.record_event(bigint, plum.recipient, text, text, numeric, jsonb, jsonb),
	plum.reverse_event(bigint, text, text),
	plum.add_earning_rule(bigint, text, text, numeric, numeric, numeric, text[], interval, numeric, interval, timestamptz, timestamptz),
	plum.set_rule_active(bigint, bigint, boolean),
	plum.set_accrual_cap(bigint, numeric, interval),
	plum.referral_code(bigint, plum.recipient),
	plum.refer(bigint, text, plum.recipient),
	plum.add_tier(bigint, text, numeric, numeric),
	plum.member_tier(bigint, plum.recipient),
	plum.add_badge(bigint, text, text, integer, numeric, numeric),
	plum.leaderboard(bigint, timestamptz, timestamptz, integer),
	plum_internal.check_event_name(text),
	plum_internal.check_period(interval, text),
	plum_internal.check_nonneg(numeric, smallint, text),
	plum_internal.spend(bigint, plum.recipient, timestamptz, interval, bigint),
	plum_internal.tier_for(bigint, numeric),
	plum_internal.lock_member(bigint, plum.recipient),
	plum_internal.award_event(plum_internal.company, plum_internal.event, numeric),
	plum_internal.fire_event(plum_internal.company, plum.recipient, text, text, numeric, jsonb, jsonb),
	plum_internal.unfire_event(plum_internal.company, bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	plum.record_event(bigint, plum.recipient, text, text, numeric, jsonb, jsonb),
	plum.reverse_event(bigint, text, text),
	plum.referral_code(bigint, plum.recipient),
	plum.refer(bigint, text, plum.recipient),
	plum.member_tier(bigint, plum.recipient),
	plum.leaderboard(bigint, timestamptz, timestamptz, integer)
	TO plum_app;
GRANT EXECUTE ON FUNCTION
	plum.add_earning_rule(bigint, text, text, numeric, numeric, numeric, text[], interval, numeric, interval, timestamptz, timestamptz),
	plum.set_rule_active(bigint, bigint, boolean),
	plum.set_accrual_cap(bigint, numeric, interval),
	plum.add_tier(bigint, text, numeric, numeric),
	plum.add_badge(bigint, text, text, integer, numeric, numeric)
	TO plum_admin;
GRANT SELECT ON plum.referrals, plum.member_badges, plum.members TO plum_reader;
