"""test/drivers/python/test_sqlalchemy.py — what a BI tool or an ORM reflects of schema plum.

Run by test/drivers/run with the same non-superuser login as the other driver tests (PGHOST,
PGPORT, PGUSER, PGPASSWORD, PGDATABASE, read by libpq).  SQLAlchemy 1.4 (Debian's
python3-sqlalchemy) over psycopg2: the inspector lists no table of schema plum (the plumbing is in
plum_internal, which the login may not read), the views with their columns, and a column of a plum
type with its declared type name.  Prints "PASS: sqlalchemy: ..." or "FAIL: ..." lines.
"""
import os
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

# A BI tool: a plum_reader login (PLUM_READER_USER, confined to one company) reflects the whole of
# schema plum, views included, with every warning an error (plum's types are registered above)
reader = os.environ.get("PLUM_READER_USER")
if reader:
    from sqlalchemy import MetaData
    from sqlalchemy.engine import URL

    bi = create_engine(URL.create("postgresql+psycopg2", username=reader, password=os.environ.get("PLUM_READER_PASSWORD"),
                                  host=os.environ.get("PGHOST"), port=os.environ.get("PGPORT"),
                                  database=os.environ.get("PGDATABASE")))
    meta = MetaData()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            meta.reflect(bind=bi, schema="plum", views=True)
        error = None
    except Exception as e:  # a warning raised as an error, or any reflection failure
        error = f"{type(e).__name__}: {e}"
    check("as a plum_reader, MetaData().reflect(schema='plum', views=True) with warnings as errors", error is None, error or "")
    analytics = ("liability", "breakage_monthly", "points_cohorts", "campaign_stats", "expiring_soon",
                 "retention_monthly", "referral_funnel")
    missing = [v for v in analytics if "plum." + v not in meta.tables]
    check("the analytics views are reflected", not missing, repr(missing))
    spec = {
        "liability": ["company_id", "currency", "points_live", "points_pending", "codes_outstanding", "pools", "links_open_value"],
        "breakage_monthly": ["company_id", "month", "points_expired", "codes_expired"],
        "points_cohorts": ["company_id", "issue_month", "issued", "redeemed", "expired", "live", "redemption_rate", "breakage_rate"],
        "campaign_stats": ["campaign_id", "company_id", "mode", "issued_value", "redeemed_value", "billed_value", "expired_value",
                           "redemption_rate", "orders", "revenue", "roi"],
        "expiring_soon": ["company_id", "recipient", "amount", "expires_at"],
        "retention_monthly": ["company_id", "month", "active", "retained", "new", "churned", "retention_rate", "churn_rate"],
        "referral_funnel": ["company_id", "referrers", "referred", "qualified", "reversed", "points_awarded"],
    }
    wrong = {v: [c.name for c in meta.tables["plum." + v].columns][:len(cols)]
             for v, cols in spec.items() if "plum." + v in meta.tables
             and [c.name for c in meta.tables["plum." + v].columns][:len(cols)] != cols}
    check("their first columns are SPEC's, in SPEC's order", not wrong, repr(wrong))
    types = {}
    if "plum.breakage_monthly" in meta.tables:
        t = meta.tables["plum.breakage_monthly"]
        types["month"] = type(t.c.month.type).__name__
    if "plum.points_cohorts" in meta.tables:
        types["redemption_rate"] = type(meta.tables["plum.points_cohorts"].c.redemption_rate.type).__name__
    check("months reflect as DATE, rates as NUMERIC", types == {"month": "DATE", "redemption_rate": "NUMERIC"}, repr(types))
    comments = {v: meta.tables["plum." + v].c[spec[v][-1]].comment for v in spec if "plum." + v in meta.tables}
    check("column comments come through (Column.comment)", all(comments.values()), repr(comments))
    with bi.connect() as conn:
        rows = conn.execute(text("SELECT count(*), count(DISTINCT company_id) FROM plum.liability")).one()
    check("the reader, confined to its company, sees one liability row", tuple(rows) == (1, 1), repr(rows))
sys.exit(1 if failed else 0)
