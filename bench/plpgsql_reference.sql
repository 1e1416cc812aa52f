-- bench/plpgsql_reference.sql — what a user would write without plum.
--
-- The same semantics as plum.redeem_points (SPEC, "Points"), written the
-- usual way: one row per lot in a table, the recipient's live lots locked
-- FOR UPDATE in FIFO order (issue time, then lot id), a loop that consumes
-- them oldest first, updating the lot it takes part of and deleting the lots
-- it empties, all-or-nothing (PU001 when the live balance is short, and the
-- error rolls every change back), and one journal row per redemption that
-- records which lots gave how much (so that a reversal could return them).
-- Every name is schema-qualified and no SET clause is attached, so that the
-- reference pays for nothing a careful user would avoid.
-- bench/run measures plum against it; it is not part of the extension.

CREATE SCHEMA ref;

CREATE TABLE ref.lots (
	company_id	bigint NOT NULL,
	recipient	text NOT NULL,
	lot_id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	issued_at	timestamptz NOT NULL,
	expires_at	timestamptz NOT NULL,
	amount		numeric NOT NULL CHECK (amount > 0),
	remaining	numeric NOT NULL CHECK (remaining > 0 AND remaining <= amount)
) WITH (fillfactor = 80);			-- room for HOT updates of remaining, as plum's wallet table has
CREATE INDEX lots_fifo ON ref.lots (company_id, recipient, issued_at, lot_id);

CREATE TABLE ref.journal (
	entry_id	bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	company_id	bigint NOT NULL,
	at			timestamptz NOT NULL,
	kind		text NOT NULL,
	recipient	text NOT NULL,
	amount		numeric NOT NULL,
	reference	text,
	lot_ids		bigint[],			-- the lots a redemption took from, in FIFO order
	taken		numeric[]			-- how much it took from each
);

-- Redeem amount from the recipient's live lots, oldest first; the journal entry id.
CREATE FUNCTION ref.redeem_points(p_company bigint, p_recipient text, p_amount numeric,
								  p_reference text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql
	AS $$
DECLARE
	v_now		timestamptz := now();
	v_recipient	text := lower(btrim(p_recipient));
	v_left		numeric := p_amount;
	v_take		numeric;
	v_lot		record;
	v_ids		bigint[] := '{}';
	v_taken		numeric[] := '{}';
	v_entry		bigint;
BEGIN
	IF p_company IS NULL OR p_recipient IS NULL OR p_amount IS NULL THEN
		RAISE EXCEPTION 'arguments must not be null' USING ERRCODE = '22004';
	END IF;
	IF p_amount <= 0 OR p_amount = 'NaN' OR p_amount <> round(p_amount, 2) THEN
		RAISE EXCEPTION 'invalid amount' USING ERRCODE = 'PU008',
			DETAIL = format('The amount is %s.', p_amount);
	END IF;

	FOR v_lot IN
		SELECT l.lot_id, l.remaining
		  FROM ref.lots l
		 WHERE l.company_id = p_company AND l.recipient = v_recipient
		   AND l.expires_at > v_now
		 ORDER BY l.issued_at, l.lot_id
		   FOR UPDATE
	LOOP
		v_take := least(v_lot.remaining, v_left);
		IF v_take = v_lot.remaining THEN
			DELETE FROM ref.lots WHERE lot_id = v_lot.lot_id;
		ELSE
			UPDATE ref.lots SET remaining = remaining - v_take WHERE lot_id = v_lot.lot_id;
		END IF;
		v_ids := v_ids || v_lot.lot_id;
		v_taken := v_taken || v_take;
		v_left := v_left - v_take;
		EXIT WHEN v_left = 0;
	END LOOP;

	IF v_left > 0 THEN
		RAISE EXCEPTION 'insufficient balance' USING ERRCODE = 'PU001',
			DETAIL = format('Balance is %s, requested %s.', p_amount - v_left, p_amount);
	END IF;

	INSERT INTO ref.journal (company_id, at, kind, recipient, amount, reference, lot_ids, taken)
		 VALUES (p_company, v_now, 'redeemed', v_recipient, -p_amount, p_reference, v_ids, v_taken)
	  RETURNING entry_id INTO v_entry;
	RETURN v_entry;
END
$$;
COMMENT ON FUNCTION ref.redeem_points(bigint, text, numeric, text) IS 'Bench reference: what a user would write without plum (lots table, FOR UPDATE, FIFO loop).';

-- The live balance of a recipient.
CREATE FUNCTION ref.points_balance(p_company bigint, p_recipient text)
	RETURNS numeric
	LANGUAGE sql STABLE
	AS $$
	SELECT coalesce(sum(l.remaining), 0)
	  FROM ref.lots l
	 WHERE l.company_id = p_company AND l.recipient = lower(btrim(p_recipient))
	   AND l.expires_at > now()
$$;
COMMENT ON FUNCTION ref.points_balance(bigint, text) IS 'Bench reference: the live balance of a recipient, from the lots table.';
