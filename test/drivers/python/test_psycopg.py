"""test/drivers/python/test_psycopg.py — plum as an application sees it through psycopg 3.

Run by test/drivers/run, which creates database plum_drivers and a non-superuser login in
plum_app and plum_admin, and passes the connection in PGHOST, PGPORT, PGUSER, PGPASSWORD and
PGDATABASE (which libpq reads itself).  Prints "PASS: psycopg: ..." or "FAIL: ..." lines; exits
non-zero when a check failed.
"""
import re
import sys
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

DRIVER = "psycopg"
failed = 0


class Mismatch(Exception):
    pass


def exact(v):
    """v with every value tagged by its type, and Decimals by their digits (Decimal('0.3') is not '0.30')."""
    if isinstance(v, dict):
        return ("dict", sorted((k, exact(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, [exact(x) for x in v])
    if isinstance(v, Decimal):
        return ("Decimal", str(v))
    return (type(v).__name__, v)


def eq(actual, expected, what):
    """Raise unless actual equals expected, with the same types and the same decimals."""
    if exact(actual) != exact(expected):
        raise Mismatch(f"{what}: got {actual!r}, expected {expected!r}")


def refused(state, what, fn):
    """Run fn, expect a PostgreSQL error with SQLSTATE state; return the error."""
    try:
        fn()
    except psycopg.Error as e:
        if e.sqlstate != state:
            raise Mismatch(f"{what}: SQLSTATE {e.sqlstate} ({e}), expected {state}") from None
        return e
    raise Mismatch(f"{what}: no error, expected SQLSTATE {state}")


def main():
    global failed
    conn = psycopg.connect("", autocommit=True, row_factory=dict_row)

    def check(name, fn):
        global failed
        try:
            fn()
            print(f"PASS: {DRIVER}: {name}")
        except Mismatch as e:
            failed += 1
            print(f"FAIL: {DRIVER}: {name}: {e}")
        except psycopg.Error as e:
            failed += 1
            print(f"FAIL: {DRIVER}: {name}: SQLSTATE {e.sqlstate}: {str(e).splitlines()[0]}")

    def one(sql, params=None):
        return conn.execute(sql, params).fetchone()

    def balance(company, recipient):
        return one("SELECT plum.points_balance(%s, %s) AS b", (company, recipient))["b"]

    # the app login sets up its own company (it is a plum_admin)
    company = one("SELECT plum.create_company('Drivers: psycopg', 'USD') AS c")["c"]
    admin = one("SELECT plum.add_admin(%s, 'boss@psycopg.test', 'super_admin', 100000) AS a", (company,))["a"]
    conn.execute("SELECT plum.create_points(%s, 10000)", (admin,))
    campaign = one("SELECT plum.create_campaign(%s, 'psycopg codes', 'codes') AS c", (admin,))["c"]
    conn.execute("CREATE TABLE shop.psycopg_orders (order_id serial PRIMARY KEY, reference text NOT NULL, redemption_id bigint)")

    def money():
        conn.execute("SELECT plum.give_points(%s, %s, %s)", (admin, "money@psycopg.test", Decimal("0.10")))
        conn.execute("SELECT plum.give_points(%s, %s, %s)", (admin, "money@psycopg.test", Decimal("0.20")))
        eq(balance(company, "money@psycopg.test"), Decimal("0.30"), "points_balance")
    check("numeric is exact: give_points Decimal 0.10 and 0.20, points_balance is Decimal('0.30')", money)

    def float_refused():
        # a Python float goes as double precision, which does not convert to numeric implicitly
        refused("42883", "give_points(0.1 + 0.2)",
                lambda: conn.execute("SELECT plum.give_points(%s, %s, %s)", (admin, "money@psycopg.test", 0.1 + 0.2)))
        eq(balance(company, "money@psycopg.test"), Decimal("0.30"), "balance after the refusal")
    check("a float amount is refused (no function takes double precision), not rounded", float_refused)

    def recipients():
        conn.execute("SELECT plum.give_points(%s, %s, %s)", (admin, "Alice@Psycopg.TEST", Decimal("5.00")))
        eq(balance(company, " alice@psycopg.test"), Decimal("5.00"), "points_balance(' alice@psycopg.test')")
        rid = one("SELECT plum.redeem_points(%s, %s, %s) AS rid", (company, "ALICE@psycopg.test ", 2))["rid"]
        eq(isinstance(rid, int), True, f"redeem_points returns an int ({rid!r})")
        eq(balance(company, "alice@PSYCOPG.test"), Decimal("3.00"), "points_balance('alice@PSYCOPG.test')")
    check("a recipient as a str parameter, spelled differently, is one wallet", recipients)

    codes = []

    def issue():
        rows = conn.execute("SELECT code FROM plum.issue_codes(%s, %s, 10, 4)", (admin, campaign)).fetchall()
        codes.extend(row["code"] for row in rows)
        eq(len(codes), 4, "number of codes")
        eq(all(isinstance(c, str) and re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=U]", c) for c in codes),
           True, f"codes are str like XXXX-XXXX-XXXX-C ({codes})")
    check("SELECT code FROM plum.issue_codes(...): the result column is named code", issue)
    if not codes:
        # the other code checks still run, on codes read by position
        cur = conn.cursor(row_factory=psycopg.rows.tuple_row)
        cur.execute("SELECT * FROM plum.issue_codes(%s, %s, 10, 4)", (admin, campaign))
        codes.extend(str(row[0]) for row in cur.fetchall())
        print(f'(codes read by position from column "{cur.description[0].name}" for the checks below)')

    def plain(c):
        return c.lower().replace("-", "")

    def redeem_codes():
        rows = conn.execute("SELECT code, applied, remaining FROM plum.redeem_codes(%s, %s)",
                            ([plain(codes[0]), codes[1].lower()], Decimal("15"))).fetchall()
        eq(rows, [{"code": codes[0], "applied": Decimal("10.00"), "remaining": Decimal("0.00")},
                  {"code": codes[1], "applied": Decimal("5.00"), "remaining": Decimal("5.00")}], "rows")
        eq([str(r["applied"]) for r in rows], ["10.00", "5.00"], "applied, as text")
    check("redeem_codes(%s, 15) with a list of str codes, lower case and without hyphens", redeem_codes)

    def code_balance():
        eq(one("SELECT plum.code_balance(%s) AS b", (plain(codes[1]),))["b"], Decimal("5.00"), "code_balance")
        eq(one("SELECT plum.code_balance(%s) AS b", (codes[2],))["b"], Decimal("10.00"), "code_balance")
    check("code_balance(%s) with a code as a str", code_balance)

    def insufficient():
        conn.execute("SELECT plum.give_points(%s, %s, 5)", (admin, "refuse@psycopg.test"))

        def attempt():
            with conn.transaction():
                conn.execute("SELECT plum.redeem_points(%s, %s, 1)", (company, "refuse@psycopg.test"))
                conn.execute("SELECT plum.redeem_points(%s, %s, 1000)", (company, "refuse@psycopg.test"))
        e = refused("PU001", "redeem_points(1000)", attempt)
        eq(e.diag.sqlstate, "PU001", "e.diag.sqlstate")
        eq(e.diag.message_primary, "insufficient points", "e.diag.message_primary")
        eq(e.diag.message_detail, "The balance of refuse@psycopg.test is 4.00, requested 1000.00.", "e.diag.message_detail")
        eq(balance(company, "refuse@psycopg.test"), Decimal("5.00"), "balance after the rolled-back transaction")
    check("refusals by SQLSTATE: PU001 with the figures, and the rolled-back transaction left the balance", insufficient)

    def malformed():
        e = refused("22P02", "points_balance('not-a-recipient')", lambda: balance(company, "not-a-recipient"))
        eq(bool(e.diag.message_hint), True, "e.diag.message_hint is set")
    check("a malformed recipient is SQLSTATE 22P02", malformed)

    def transactions():
        conn.execute("SELECT plum.give_points(%s, %s, 10)", (admin, "tx@psycopg.test"))

        def order(ref):
            rid = one("SELECT plum.redeem_points(%s, %s, 2, %s) AS rid", (company, "tx@psycopg.test", ref))["rid"]
            conn.execute("INSERT INTO shop.psycopg_orders (reference, redemption_id) VALUES (%s, %s)", (ref, rid))
            return rid
        with conn.transaction():
            order("order-1")
            raise psycopg.Rollback()
        eq(balance(company, "tx@psycopg.test"), Decimal("10.00"), "balance after the rollback")
        eq(one("SELECT count(*) AS n FROM shop.psycopg_orders")["n"], 0, "orders after the rollback")
        with conn.transaction():
            rid = order("order-2")
        eq(balance(company, "tx@psycopg.test"), Decimal("8.00"), "balance after the commit")
        eq(conn.execute("SELECT reference, redemption_id FROM shop.psycopg_orders").fetchall(),
           [{"reference": "order-2", "redemption_id": rid}], "orders after the commit")
        eq(conn.execute("SELECT reference, amount FROM plum.ledger WHERE entry_id = %s AND kind = 'redeem'", (rid,)).fetchall(),
           [{"reference": "order-2", "amount": Decimal("2.00")}], "the ledger row of the redemption")
    check("the redemption commits or rolls back with the app's own INSERT", transactions)

    def wallet_jsonb():
        w = one("""SELECT '{"scale": 2, "lots": []}'::plum.wallet::jsonb AS w""")["w"]
        eq(w, {"scale": 2, "lots": []}, "empty wallet")
        w = one("""SELECT '{"scale": 2, "lots": [{"lot_id": 17, "issued_at": "2026-01-01T00:00:00Z",
                   "expires_at": "2027-01-01T00:00:00Z", "amount": "100.00", "remaining": "40.00"}]}'::plum.wallet::jsonb AS w""")["w"]
        lot = w["lots"][0]
        eq([len(w["lots"]), lot["lot_id"], lot["amount"], lot["remaining"], lot["expires_at"]],
           [1, 17, "100.00", "40.00", "2027-01-01T00:00:00Z"], "the lot")
    check("plum.wallet::jsonb comes back as a parsed dict", wallet_jsonb)

    def information_schema():
        rows = conn.execute("""SELECT table_type, string_agg(table_name, ', ' ORDER BY table_name) AS names
                                 FROM information_schema.tables WHERE table_schema = 'plum'
                                GROUP BY table_type ORDER BY table_type""").fetchall()
        types = {r["table_type"]: r["names"] for r in rows}
        eq(sorted(types), ["VIEW"], f"table types in schema plum ({types})")
        eq(all(v in types["VIEW"].split(", ") for v in ("wallets", "point_lots", "ledger", "codes")), True,
           f"the views wallets, point_lots, ledger, codes are there ({types['VIEW']})")
    check("information_schema.tables for schema plum shows only views to the app login", information_schema)

    conn.close()


try:
    main()
except psycopg.Error as e:
    print(f"FAIL: {DRIVER}: setup: SQLSTATE {e.sqlstate}: {e}")
    sys.exit(1)
sys.exit(1 if failed else 0)
