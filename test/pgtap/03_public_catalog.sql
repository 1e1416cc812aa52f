-- pgTAP: the public catalog of 0.2.0 — schema plum holds the API, plum_internal the plumbing;
-- the views and casts added for BI tools and drivers.
BEGIN;
SELECT plan(22);

SELECT has_schema('plum_internal');
SELECT schema_privs_are('plum_internal', 'plum_reader', ARRAY[]::text[]);
SELECT schema_privs_are('plum_internal', 'plum_app', ARRAY[]::text[]);
SELECT schema_privs_are('plum_internal', 'plum_admin', ARRAY[]::text[]);
SELECT tables_are('plum', ARRAY[]::name[], 'schema plum has no tables');
SELECT sequences_are('plum', ARRAY[]::name[], 'schema plum has no sequences');
SELECT hasnt_function('plum', 'raise', 'helpers are not in schema plum');
SELECT hasnt_function('plum', 'recipient_in', 'type support is not in schema plum');
SELECT hasnt_function('plum', 'wallet_consume', 'the lot algebra is not in schema plum');
SELECT has_view('plum', 'companies', 'view plum.companies');
SELECT columns_are('plum', 'companies', ARRAY['company_id', 'name', 'currency', 'settings', 'created', 'decimals',
	'points_validity', 'code_denominations', 'max_grant']);
SELECT has_view('plum', 'currencies', 'view plum.currencies');
SELECT has_column('plum', 'ledger', 'delta', 'plum.ledger has a signed delta');
SELECT col_type_is('plum', 'ledger', 'delta', 'numeric', 'plum.ledger.delta is numeric');
SELECT has_column('plum', 'ledger', 'holder', 'plum.ledger names the holder');
SELECT has_cast('character varying', 'plum.code', 'varchar casts to plum.code (JDBC)');
SELECT cast_context_is('character varying', 'plum.code', 'implicit');
SELECT has_cast('plum.wallet', 'jsonb', 'plum.wallet casts to jsonb');
SELECT has_cast('character varying', 'plum.recipient', 'varchar casts to plum.recipient');
SELECT results_eq($$SELECT count(*)::int FROM pg_proc WHERE proname = 'issue_codes' AND proargnames @> ARRAY['code']$$,
	ARRAY[1], 'issue_codes returns a column named code');
SELECT has_type('plum', 'delivery', 'claim_deliveries returns plum.delivery');
SELECT function_returns('plum', 'claim_deliveries', ARRAY['text', 'text', 'integer', 'interval'], 'setof plum.delivery');

SELECT * FROM finish();
ROLLBACK;
