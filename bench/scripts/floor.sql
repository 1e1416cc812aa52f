-- The floor: the least work any correct redemption must do.  One transaction
-- (one statement, one round trip, like a plum call) updates one balance row
-- and inserts one journal row.
\set id random(1, :nwallets)
\set cents random(1, 500)
WITH debit AS (
	UPDATE floor_balance SET balance = balance - :cents / 100.0
	 WHERE id = :id AND balance >= :cents / 100.0
	RETURNING id
)
INSERT INTO floor_journal (account, amount) SELECT id, -(:cents / 100.0) FROM debit;
