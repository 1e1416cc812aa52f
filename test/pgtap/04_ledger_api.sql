-- pgTAP: the tamper-evident ledger's SQL surface (SPEC "Tenant isolation and identity": ledger_digest).
BEGIN;
SELECT plan(10);

SELECT has_function('plum', 'ledger_digest', ARRAY['bigint']);
SELECT function_returns('plum', 'ledger_digest', ARRAY['bigint'], 'text');
SELECT is_definer('plum', 'ledger_digest', ARRAY['bigint']);
SELECT has_function('plum', 'ledger_heads', ARRAY['bigint']);
SELECT function_returns('plum', 'ledger_heads', ARRAY['bigint'], 'setof record');
SELECT function_privs_are('plum', 'ledger_digest', ARRAY['bigint'], 'plum_reader', ARRAY['EXECUTE'],
	'auditors (plum_reader) may take the digest');
SELECT function_privs_are('plum', 'ledger_heads', ARRAY['bigint'], 'plum_reader', ARRAY[]::text[],
	'the heads (they name codes and tokens) are not plum_reader''s');

SET LOCAL plum.now = '2026-01-01 00:00:00+00';
SELECT plum.create_company('Tap Co', 'USD') AS c \gset
SELECT plum.add_admin(:c, 'boss@tap.test', 'super_admin', 1000) AS a \gset
SELECT plum.create_points(:a, 100);
SELECT plum.ledger_digest(:c) AS d \gset
SELECT matches(:'d'::text, '^plum-ledger-v1:1:[0-9a-f]{64}$', 'one chain (the pool''s), a SHA-256 in hex');
SELECT plum.give_points(:a, 'someone@tap.test', 5);
SELECT isnt(plum.ledger_digest(:c), :'d'::text, 'a new movement moves the digest');
SELECT is_empty(format('SELECT * FROM plum.verify(%s)', :c), 'verify() (with the chains) is clean');

SELECT * FROM finish();
ROLLBACK;
