"""test/drivers/python/test_sqlalchemy.py — what a BI tool or an ORM reflects of schema plum.

Run by test/drivers/run with the same non-superuser login as the other driver tests (PGHOST,
PGPORT, PGUSER, PGPASSWORD, PGDATABASE, read by libpq).  SQLAlchemy 1.4 (Debian's
python3-sqlalchemy) over psycopg2: the inspector lists no table of schema plum (the plumbing is in
plum_internal, which the login may not read), the views with their columns, and a column of a plum
type with its declared type name.  Prints "PASS: sqlalchemy: ..." or "FAIL: ..." lines.
"""
import sys
import warnings

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.dialects.postgresql import base as pg_base
from sqlalchemy.types import Text

DRIVER = "sqlalchemy"
failed = 0


def check(name, ok, detail=""):
    global failed
    if ok:
        print(f"PASS: {DRIVER}: {name}")
    else:
        failed += 1
        print(f"FAIL: {DRIVER}: {name}{': ' + detail if detail else ''}")


engine = create_engine("postgresql+psycopg2://")
insp = inspect(engine)
tables = insp.get_table_names(schema="plum")
check("inspector.get_table_names(schema='plum') is empty: no table of the plumbing shows", tables == [], repr(tables))
views = insp.get_view_names(schema="plum")
check("the views are there (wallets, point_lots, ledger, codes, links, companies)",
      all(v in views for v in ("wallets", "point_lots", "ledger", "codes", "links", "companies")), repr(views))
# PostgreSQL's catalogs are readable by everyone, so the plumbing's names can be listed from
# schema plum_internal; none of it can be read
internal = insp.get_table_names(schema="plum_internal")
with engine.connect() as conn:
    readable = [t for t in internal if conn.execute(
        text("SELECT has_schema_privilege('plum_internal', 'USAGE') AND has_table_privilege(:t, 'SELECT')"),
        {"t": "plum_internal." + t}).scalar()]
check("no table of schema plum_internal is readable by the login", internal != [] and readable == [], repr(readable))

# plum's types are unknown to SQLAlchemy: it warns and reflects them as NullType, unless the
# application registers them, as the README shows: they read and compare as text
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    cols = {c["name"]: c["type"] for c in insp.get_columns("wallets", schema="plum")}
unknown = [str(w.message) for w in caught if "recipient" in str(w.message)]
check("unregistered, plum.recipient is reported as an unknown type (a warning, not an error)", len(unknown) >= 1, repr(unknown))
for name in ("recipient", "code", "wallet"):
    # the name SQLAlchemy sees: qualified when schema plum is not on the search path
    pg_base.ischema_names[name] = pg_base.ischema_names["plum." + name] = Text
insp = inspect(create_engine("postgresql+psycopg2://"))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for v in views:
        insp.get_columns(v, schema="plum")
check("registered as Text (ischema_names), every view of schema plum reflects without a warning",
      not caught, repr([str(w.message) for w in caught][:3]))
cols = {c["name"]: c["type"] for c in insp.get_columns("wallets", schema="plum")}
check("plum.wallets.recipient reflects as Text, balance as NUMERIC",
      isinstance(cols.get("recipient"), Text) and type(cols.get("balance")).__name__ == "NUMERIC", repr(cols))
with engine.connect() as conn:
    n = conn.execute(text("SELECT count(*) FROM plum.wallets WHERE recipient = :r"), {"r": "NOBODY@example.com"}).scalar()
    check("a bound string parameter compares as a recipient (SELECT ... WHERE recipient = :r)", n == 0, repr(n))
sys.exit(1 if failed else 0)
