-- The floor's plain tables: one balance row per wallet (:wallets rows holding
-- :balance each) and a journal.  The balance table leaves room for HOT
-- updates, as plum's wallet table does.  psql variables: wallets, balance.
\set ON_ERROR_STOP on
CREATE TABLE floor_balance (id int PRIMARY KEY, balance numeric) WITH (fillfactor = 80);
CREATE TABLE floor_journal (id bigserial PRIMARY KEY, account int, amount numeric, at timestamptz DEFAULT now());
INSERT INTO floor_balance SELECT i, :balance FROM generate_series(1, :wallets) i;
VACUUM ANALYZE floor_balance, floor_journal;
