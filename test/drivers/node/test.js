// test/drivers/node/test.js — plum as an application sees it through node-postgres (pg).
//
// Run by test/drivers/run, which creates database plum_drivers and a non-superuser login in
// plum_app and plum_admin, and passes the connection in PGHOST, PGPORT, PGUSER, PGPASSWORD and
// PGDATABASE (which pg reads itself).  Prints "PASS: node-postgres: ..." or "FAIL: ..." lines;
// exits non-zero when a check failed.
'use strict';

const util = require('util');
const { Client } = require('pg');

const DRIVER = 'node-postgres';
let failed = 0;

class Mismatch extends Error {}

// eq: throw unless actual is exactly expected, deeply, with the same types ('0.30' is not 0.3)
function eq(actual, expected, what) {
	if (!util.isDeepStrictEqual(actual, expected)) {
		throw new Mismatch(`${what}: got ${util.inspect(actual)}, expected ${util.inspect(expected)}`);
	}
}

// refused: run fn, expect a PostgreSQL error with SQLSTATE state; return the error
async function refused(state, what, fn) {
	try {
		await fn();
	} catch (e) {
		if (e instanceof Mismatch) throw e;
		if (e.code !== state) {
			throw new Mismatch(`${what}: SQLSTATE ${e.code} (${e.message}), expected ${state}`);
		}
		return e;
	}
	throw new Mismatch(`${what}: no error, expected SQLSTATE ${state}`);
}

async function main() {
	const db = new Client();
	await db.connect();

	// check: one PASS or FAIL line; a failure rolls back whatever transaction it left open
	async function check(name, fn) {
		try {
			await fn();
			console.log(`PASS: ${DRIVER}: ${name}`);
		} catch (e) {
			failed++;
			const why = e instanceof Mismatch ? e.message : `SQLSTATE ${e.code}: ${e.message}`;
			console.log(`FAIL: ${DRIVER}: ${name}: ${why}`);
			await db.query('ROLLBACK').catch(() => {});
		}
	}
	const one = async (sql, params) => (await db.query(sql, params)).rows[0];
	const balance = async (company, recipient) =>
		(await one('SELECT plum.points_balance($1, $2) AS b', [company, recipient])).b;

	// the app login sets up its own company (it is a plum_admin)
	const { company } = await one("SELECT plum.create_company('Drivers: node-postgres', 'USD') AS company");
	const { admin } = await one("SELECT plum.add_admin($1, 'boss@node.test', 'super_admin', 100000) AS admin", [company]);
	await db.query('SELECT plum.create_points($1, 10000)', [admin]);
	const { campaign } = await one("SELECT plum.create_campaign($1, 'node codes', 'codes') AS campaign", [admin]);
	await db.query('CREATE TABLE shop.node_orders (order_id serial PRIMARY KEY, reference text NOT NULL, redemption_id bigint)');

	await check('numeric is exact: give_points 0.10 and 0.20, points_balance is the string "0.30"', async () => {
		await db.query('SELECT plum.give_points($1, $2, $3)', [admin, 'money@node.test', '0.10']);
		await db.query('SELECT plum.give_points($1, $2, $3)', [admin, 'money@node.test', '0.20']);
		eq(await balance(company, 'money@node.test'), '0.30', 'points_balance');
	});

	await check('a float that is not a decimal amount (0.1 + 0.2) is refused with PU008, not rounded', async () => {
		const e = await refused('PU008', 'give_points(0.1 + 0.2)', () =>
			db.query('SELECT plum.give_points($1, $2, $3)', [admin, 'money@node.test', 0.1 + 0.2]));
		eq(e.detail && e.detail.includes('0.30000000000000004'), true, `detail names the amount (${e.detail})`);
		eq(await balance(company, 'money@node.test'), '0.30', 'balance after the refusal');
	});

	await check('a recipient as a string parameter, spelled differently, is one wallet', async () => {
		await db.query('SELECT plum.give_points($1, $2, $3)', [admin, 'Alice@Node.TEST', '5.00']);
		eq(await balance(company, ' alice@node.test'), '5.00', "points_balance(' alice@node.test')");
		const { rid } = await one('SELECT plum.redeem_points($1, $2, $3) AS rid', [company, 'ALICE@node.test ', '2']);
		eq(/^[0-9]+$/.test(rid), true, `redeem_points returns a bigint as a string (${rid})`);
		eq(await balance(company, 'alice@NODE.test'), '3.00', "points_balance('alice@NODE.test')");
	});

	let codes = null;
	await check('SELECT code FROM plum.issue_codes(...): the result column is named code', async () => {
		const r = await db.query('SELECT code FROM plum.issue_codes($1, $2, 10, 4)', [admin, campaign]);
		codes = r.rows.map((row) => row.code);
		eq(codes.length, 4, 'number of codes');
		eq(codes.every((c) => /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=U]$/.test(c)), true,
			`codes look like XXXX-XXXX-XXXX-C (${codes.join(', ')})`);
	});
	if (codes === null) {
		// the other code checks still run, on codes read by position
		const r = await db.query('SELECT * FROM plum.issue_codes($1, $2, 10, 4)', [admin, campaign]);
		codes = r.rows.map((row) => Object.values(row)[0]);
		console.log(`(codes read by position from column "${r.fields[0].name}" for the checks below)`);
	}
	const plain = (c) => c.toLowerCase().replace(/-/g, '');

	await check('redeem_codes($1, 15) with a JS array of codes, lower case and without hyphens', async () => {
		const r = await db.query('SELECT code, applied, remaining FROM plum.redeem_codes($1, $2)',
			[[plain(codes[0]), codes[1].toLowerCase()], '15']);
		eq(r.rows, [
			{ code: codes[0], applied: '10.00', remaining: '0.00' },
			{ code: codes[1], applied: '5.00', remaining: '5.00' },
		], 'rows');
	});

	await check('code_balance($1) with a code as a plain string', async () => {
		eq((await one('SELECT plum.code_balance($1) AS b', [plain(codes[1])])).b, '5.00', 'code_balance');
		eq((await one('SELECT plum.code_balance($1) AS b', [codes[2]])).b, '10.00', 'code_balance');
	});

	await check('refusals by SQLSTATE: PU001 with the figures, and the rolled-back transaction left the balance', async () => {
		await db.query('SELECT plum.give_points($1, $2, 5)', [admin, 'refuse@node.test']);
		await db.query('BEGIN');
		await db.query('SELECT plum.redeem_points($1, $2, 1)', [company, 'refuse@node.test']);
		const e = await refused('PU001', 'redeem_points(1000)', () =>
			db.query('SELECT plum.redeem_points($1, $2, 1000)', [company, 'refuse@node.test']));
		await db.query('ROLLBACK');
		eq(e.message, 'insufficient points', 'err.message');
		eq(e.detail, 'The balance of refuse@node.test is 4.00, requested 1000.00.', 'err.detail');
		eq(await balance(company, 'refuse@node.test'), '5.00', 'balance after ROLLBACK');
	});

	await check('a malformed recipient is SQLSTATE 22P02', async () => {
		const e = await refused('22P02', "points_balance('not-a-recipient')", () =>
			balance(company, 'not-a-recipient'));
		eq(typeof e.hint === 'string' && e.hint.length > 0, true, 'err.hint is set');
	});

	await check("the redemption commits or rolls back with the app's own INSERT", async () => {
		await db.query('SELECT plum.give_points($1, $2, 10)', [admin, 'tx@node.test']);
		const order = async (ref) => {
			await db.query('BEGIN');
			const { rid } = await one('SELECT plum.redeem_points($1, $2, 2, $3) AS rid', [company, 'tx@node.test', ref]);
			await db.query('INSERT INTO shop.node_orders (reference, redemption_id) VALUES ($1, $2)', [ref, rid]);
			return rid;
		};
		await order('order-1');
		await db.query('ROLLBACK');
		eq(await balance(company, 'tx@node.test'), '10.00', 'balance after ROLLBACK');
		eq((await one('SELECT count(*) AS n FROM shop.node_orders')).n, '0', 'orders after ROLLBACK');
		const rid = await order('order-2');
		await db.query('COMMIT');
		eq(await balance(company, 'tx@node.test'), '8.00', 'balance after COMMIT');
		eq((await db.query('SELECT reference, redemption_id FROM shop.node_orders')).rows,
			[{ reference: 'order-2', redemption_id: rid }], 'orders after COMMIT');
		eq((await db.query("SELECT reference, amount FROM plum.ledger WHERE entry_id = $1 AND kind = 'redeem'", [rid])).rows,
			[{ reference: 'order-2', amount: '2.00' }], 'the ledger row of the redemption');
	});

	await check('plum.wallet::jsonb comes back as a parsed JS object', async () => {
		const { w } = await one(`SELECT '{"scale": 2, "lots": []}'::plum.wallet::jsonb AS w`);
		eq(w, { scale: 2, lots: [] }, 'empty wallet');
		const { w: w1 } = await one(`SELECT '{"scale": 2, "lots": [{"lot_id": 17, "issued_at": "2026-01-01T00:00:00Z",
			"expires_at": "2027-01-01T00:00:00Z", "amount": "100.00", "remaining": "40.00"}]}'::plum.wallet::jsonb AS w`);
		eq(w1.lots.length, 1, 'lots');
		eq([w1.lots[0].lot_id, w1.lots[0].amount, w1.lots[0].remaining, w1.lots[0].expires_at],
			[17, '100.00', '40.00', '2027-01-01T00:00:00Z'], 'the lot');
	});

	await db.end();
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
	console.log(`FAIL: ${DRIVER}: setup: ${e.code ? `SQLSTATE ${e.code}: ` : ''}${e.message}`);
	process.exit(1);
});
