/*
 * checkout.c — the checkout hot path: plum.checkout().
 *
 * One order paid with a voucher, gift codes and points, all or nothing, in
 * the lock order of sql/65_checkout.sql: the idempotency key, the order (the
 * INSERT claiming its order_ref), the voucher (its row when it has
 * total_uses, else a transaction lock of the voucher and the recipient when
 * it has uses_per_customer), the codes in code order (codes.c), the
 * recipient's wallet (points.c's redeem_points, called directly).
 *
 * The common case runs in C with kept plans: the cart is checked and summed
 * from the jsonb in C, the voucher's restrictions are evaluated in C, the
 * codes are locked and drained with codes.c's statements, and one statement
 * writes the order's instruments.  Refusals whose text is built in SQL keep
 * that SQL as the one source of their wording: a cart the C check does not
 * accept is handed to plum_internal.cart_total() (which raises its exact
 * 22023, or agrees), and a voucher that does not apply is explained by
 * plum_internal.voucher_rules() (the PU010 detail lists every failing rule,
 * as plum.validate_voucher() shows them).
 */
#include "plum.h"
#include "code.h"
#include "codes.h"
#include "identity.h"
#include "money.h"
#include "points.h"
#include "recipient.h"
#include "spi_plans.h"

#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "common/int.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rangetypes.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

/* the kept plans of this file */
enum
{
	PLAN_CART_TOTAL,			/* plum_internal.cart_total(): the exact refusal of a cart */
	PLAN_CLAIM_KEY,				/* claim_key() with checkout's arguments text */
	PLAN_PRIOR_ROWS,			/* a keyed replay's rows */
	PLAN_CLAIM_ORDER,			/* the INSERT claiming the order_ref */
	PLAN_ORDER_TAKEN,			/* the detail of PU003 for an order checked out already */
	PLAN_VOUCHER,				/* the voucher by company and code */
	PLAN_VOUCHER_LOCK,			/* the voucher by id, FOR UPDATE */
	PLAN_VOUCHER_FAILED,		/* voucher_rules(): the failing rules, for PU010 */
	PLAN_USES_MINE,				/* a recipient's orders using a voucher */
	PLAN_VOUCHER_USE,			/* count a use of a voucher with total_uses */
	PLAN_WRITE					/* codes, wallet, ledger rows, the order and its payments */
};

static PlumPlans plans;

/* the order sequence's OID, for the catalog incarnation it was looked up in */
static uint64 order_seq_incarnation = 0;
static Oid	order_seq = InvalidOid;

#define VOUCHER_COLUMNS \
	"v.voucher_id, v.code, v.kind, v.value, v.starts_at, v.expires_at, v.min_purchase," \
	" v.max_discount, v.exclude_categories, v.vendors, v.locations, v.blackouts," \
	" v.uses_per_customer, v.total_uses, v.uses"

/* Prepare the plans of this file for the catalog given (PlansReady) */
static void
PreparePlans(PlumPlans *p, const PlumCatalog *cat)
{
	{
		Oid			args[] = {JSONBOID, INT2OID};

		PlanKeep(p, PLAN_CART_TOTAL, "SELECT " PLUM_INTERNAL "cart_total($1, $2)", 2, args);
	}
	{
		/* $1 company, $2 key, $3 order_ref, $4 cart, $5 recipient, $6 voucher, $7 codes,
		 * $8 points (as checked), $9 order id: the arguments text of the PL/pgSQL version */
		Oid			args[] = {INT8OID, TEXTOID, TEXTOID, JSONBOID, cat->recipient_type, TEXTOID,
		cat->code_array_type, NUMERICOID, INT8OID};

		PlanKeep(p, PLAN_CLAIM_KEY,
				 "SELECT " PLUM_INTERNAL "claim_key($1, $2, 'checkout',"
				 "   pg_catalog.format('%s, %L, %L, %s, %s, %s, %s', $1, $3, $4::pg_catalog.text,"
				 "     COALESCE(pg_catalog.quote_literal($5::pg_catalog.text), 'NULL'),"
				 "     COALESCE(pg_catalog.quote_literal(pg_catalog.upper($6)), 'NULL'),"
				 "     COALESCE(pg_catalog.quote_literal($7::pg_catalog.text), 'NULL'),"
				 "     COALESCE($8::pg_catalog.text, 'NULL')),"
				 "   $9)", 9, args);
	}
	{
		Oid			args[] = {INT8OID, INT2OID};

		PlanKeep(p, PLAN_PRIOR_ROWS,
				 "SELECT r.instrument, r.ref, r.amount FROM " PLUM_INTERNAL "order_rows($1, $2) AS r",
				 2, args);
	}
	{
		/* $1 order id, $2 company, $3 order_ref, $4 recipient, $5 at, $6 cart, $7 total, $8 key,
		 * $9 voucher id */
		Oid			args[] = {INT8OID, INT8OID, TEXTOID, cat->recipient_type, TIMESTAMPTZOID, JSONBOID,
		NUMERICOID, TEXTOID, INT8OID};

		PlanKeep(p, PLAN_CLAIM_ORDER,
				 "INSERT INTO " PLUM_INTERNAL "shop_order AS o (order_id, company_id, order_ref, recipient, at,"
				 "   cart, total, due, idempotency_key, voucher_id)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)"
				 " ON CONFLICT ON CONSTRAINT shop_order_ref_key DO NOTHING", 9, args);
	}
	{
		Oid			args[] = {INT8OID, TEXTOID};

		PlanKeep(p, PLAN_ORDER_TAKEN,
				 "SELECT pg_catalog.format('Order %s of company %s was checked out at %s.', o.order_ref,"
				 "   o.company_id, o.at)"
				 " FROM " PLUM_INTERNAL "shop_order o"
				 " WHERE o.company_id OPERATOR(pg_catalog.=) $1 AND o.order_ref OPERATOR(pg_catalog.=) $2",
				 2, args);
	}
	{
		Oid			args[] = {INT8OID, TEXTOID};

		PlanKeep(p, PLAN_VOUCHER,
				 "SELECT " VOUCHER_COLUMNS " FROM " PLUM_INTERNAL "voucher v"
				 " WHERE v.company_id OPERATOR(pg_catalog.=) $1 AND v.code OPERATOR(pg_catalog.=) $2",
				 2, args);
	}
	{
		Oid			args[] = {INT8OID};

		PlanKeep(p, PLAN_VOUCHER_LOCK,
				 "SELECT " VOUCHER_COLUMNS " FROM " PLUM_INTERNAL "voucher v"
				 " WHERE v.voucher_id OPERATOR(pg_catalog.=) $1 FOR UPDATE", 1, args);
	}
	{
		/* $1 voucher, $2 cart, $3 total, $4 recipient, $5 at, $6 scale */
		Oid			args[] = {INT8OID, JSONBOID, NUMERICOID, cat->recipient_type, TIMESTAMPTZOID, INT2OID};

		PlanKeep(p, PLAN_VOUCHER_FAILED,
				 "SELECT pg_catalog.string_agg(pg_catalog.format('%s: %s', r.rule, r.detail), '; ')"
				 "   FILTER (WHERE NOT r.ok), pg_catalog.max(r.discount)"
				 " FROM " PLUM_INTERNAL "voucher v,"
				 "   LATERAL " PLUM_INTERNAL "voucher_rules(v, $2, $3, $4, $5, $6) AS r"
				 " WHERE v.voucher_id OPERATOR(pg_catalog.=) $1", 6, args);
	}
	{
		Oid			args[] = {INT8OID, cat->recipient_type};

		PlanKeep(p, PLAN_USES_MINE,
				 "SELECT pg_catalog.count(*) FROM " PLUM_INTERNAL "shop_order o"
				 " WHERE o.voucher_id OPERATOR(pg_catalog.=) $1 AND o.recipient " PLUM_OP_EQ " $2"
				 "   AND o.refunded_at IS NULL", 2, args);
	}
	{
		Oid			args[] = {INT8OID};

		PlanKeep(p, PLAN_VOUCHER_USE,
				 "UPDATE " PLUM_INTERNAL "voucher v SET uses = v.uses + 1"
				 " WHERE v.voucher_id OPERATOR(pg_catalog.=) $1", 1, args);
	}
	{
		/*
		 * Every write after the locks, in one statement: $1..$12 the codes
		 * drained and their code_redeem rows (codes.c's statement, see
		 * codes.h); $13 the wallet's row (NULL: no points), $14 its lots,
		 * $15 its chain head, $16 the recipient, $17 the redeem row's entry
		 * id (NULL: none), $18 its amount, $19 the lots taken, $20 its hash,
		 * $21 the expire row's entry id (NULL: none), $22 its amount, $23 the
		 * lots expired, $24 its hash (points.c's statements); $25 the order,
		 * $26 its voucher, $27 discount, $28 codes, $29 points, $30 due, and
		 * its payments: $31 instruments, $32 refs, $33 codes, $34 redemption
		 * ids, $35 amounts.
		 */
		Oid			args[] = {TIMESTAMPTZOID, TIDARRAYOID, NUMERICARRAYOID, INT8OID, INT8OID,
			TEXTOID, TEXTOID, INT8ARRAYOID, NUMERICARRAYOID, INT8ARRAYOID, cat->code_array_type, BYTEAARRAYOID,
			TIDOID, cat->wallet_type, BYTEAOID, cat->recipient_type, INT8OID, NUMERICOID, cat->wallet_type,
			BYTEAOID, INT8OID, NUMERICOID, cat->wallet_type, BYTEAOID,
			INT8OID, INT8OID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID,
		TEXTARRAYOID, TEXTARRAYOID, cat->code_array_type, INT8ARRAYOID, NUMERICARRAYOID};

		PlanKeep(p, PLAN_WRITE,
				 "WITH u AS (UPDATE " PLUM_INTERNAL "issued_code ic"
				 "   SET balance = v.balance, distributed_at = COALESCE(ic.distributed_at, $1), chain_head = v.hash"
				 "   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($12)) AS v(t, balance, hash)"
				 "   WHERE ic.ctid OPERATOR(pg_catalog.=) v.t),"
				 " w AS (UPDATE " PLUM_INTERNAL "account SET lots = $14, chain_head = $15"
				 "   WHERE ctid OPERATOR(pg_catalog.=) $13),"
				 " o AS (UPDATE " PLUM_INTERNAL "shop_order o SET voucher_id = $26, discount = $27,"
				 "   codes = $28, points = $29, due = $30 WHERE o.order_id OPERATOR(pg_catalog.=) $25),"
				 " p AS (INSERT INTO " PLUM_INTERNAL "order_payment (order_id, seq, instrument, ref, code,"
				 "   redemption_id, amount)"
				 "   SELECT $25, p.seq, p.instrument, p.ref, p.code, p.redemption_id, p.amount"
				 "   FROM ROWS FROM (pg_catalog.unnest($31), pg_catalog.unnest($32), pg_catalog.unnest($33),"
				 "     pg_catalog.unnest($34), pg_catalog.unnest($35)) WITH ORDINALITY"
				 "     AS p(instrument, ref, code, redemption_id, amount, seq))"
				 " INSERT INTO " PLUM_INTERNAL "journal (entry_id, company_id, at, kind, amount, recipient, campaign_id,"
				 "   item_id, code, reference, idempotency_key, balance_after, lots, hash)"
				 " SELECT r.entry_id, $4, $1, 'code_redeem', r.applied, NULL::plum.recipient, r.campaign_id, $5, r.code,"
				 "   $6, $7, r.balance, NULL::plum.wallet, r.hash"
				 " FROM ROWS FROM (pg_catalog.unnest($8), pg_catalog.unnest($9), pg_catalog.unnest($10),"
				 "   pg_catalog.unnest($11), pg_catalog.unnest($3), pg_catalog.unnest($12))"
				 "   AS r(entry_id, applied, campaign_id, code, balance, hash)"
				 " UNION ALL"
				 " SELECT $17, $4, $1, 'redeem', $18, $16, NULL, NULL, NULL, $6, NULL, NULL, $19, $20"
				 " WHERE $17 IS NOT NULL"
				 " UNION ALL"
				 " SELECT $21, $4, $1, 'expire', $22, $16, NULL, NULL, NULL, NULL, NULL, NULL, $23, $24"
				 " WHERE $21 IS NOT NULL", 35, args);
	}
}

/* Column column of row row of the last SPI result; false when NULL */
static inline bool
GetValue(int row, int column, Datum *value)
{
	bool		isnull;

	*value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);
	return !isnull;
}

/* Numeric helpers (the functions SQL's operators call, so results are SQL's) */
static inline int
NumCmp(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a), NumericGetDatum(b)));
}

static inline Numeric
NumAdd(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(a), NumericGetDatum(b)));
}

static inline Numeric
NumSub(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_sub, NumericGetDatum(a), NumericGetDatum(b)));
}

static inline Numeric
NumRound(Numeric a, int scale)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_round, NumericGetDatum(a), Int32GetDatum(scale)));
}

/* lower(btrim(t)) with the database's collation, as the SQL version compares names */
static Datum
FoldName(Datum t)
{
	return DirectFunctionCall1Coll(lower, DEFAULT_COLLATION_OID,
								   DirectFunctionCall1(btrim1, t));
}

/* Whether text t (not NULL) equals one of the elements of a text[] (NULL elements never do) */
static bool
TextInArray(Datum t, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (!nulls[i] &&
			DatumGetBool(DirectFunctionCall2Coll(texteq, DEFAULT_COLLATION_OID, t, elems[i])))
			return true;
	}
	return false;
}

/* A cart as checked in C: its total, and per line the amount and category */
typedef struct Cart
{
	Numeric		total;
	int			nlines;
	Numeric    *amounts;
	Datum	   *categories;		/* text; NULL (0) when the line has none */
	Datum		vendor;			/* text; 0 when none */
	Datum		location;
} Cart;

/* A string or null member of an object (or none); false for another JSON type */
static bool
StringMember(JsonbContainer *obj, const char *key, Datum *value)
{
	JsonbValue	v;

	*value = (Datum) 0;
	if (getKeyJsonValueFromContainer(obj, key, strlen(key), &v) == NULL)
		return true;
	if (v.type == jbvNull)
		return true;
	if (v.type != jbvString)
		return false;
	*value = PointerGetDatum(cstring_to_text_with_len(v.val.string.val, v.val.string.len));
	return true;
}

/*
 * Check a cart as plum_internal.cart_total() does, for a known currency
 * scale, and read it: false for anything that function refuses (the caller
 * then has it raise its exact error).
 */
static bool
CartRead(Jsonb *cart, int scale, Cart *out)
{
	JsonbValue	v;
	JsonbContainer *lines;
	Numeric		zero = int64_to_numeric(0);
	Numeric		limit = int64_to_numeric(INT64CONST(1000000000000000));

	if (!JB_ROOT_IS_OBJECT(cart))
		return false;
	if (!StringMember(&cart->root, "vendor", &out->vendor) ||
		!StringMember(&cart->root, "location", &out->location))
		return false;
	if (getKeyJsonValueFromContainer(&cart->root, "lines", 5, &v) == NULL ||
		v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data) ||
		JsonContainerIsScalar(v.val.binary.data))
		return false;
	lines = v.val.binary.data;
	out->nlines = JsonContainerSize(lines);
	if (out->nlines < 1 || out->nlines > 1000)
		return false;
	out->amounts = palloc(sizeof(Numeric) * out->nlines);
	out->categories = palloc(sizeof(Datum) * out->nlines);
	out->total = zero;
	for (int i = 0; i < out->nlines; i++)
	{
		JsonbValue *line = getIthJsonbValueFromContainer(lines, i);
		JsonbValue	amount;
		Datum		sku;
		Numeric		a;

		CHECK_FOR_INTERRUPTS();
		if (line == NULL || line->type != jbvBinary || !JsonContainerIsObject(line->val.binary.data))
			return false;
		if (!StringMember(line->val.binary.data, "sku", &sku) ||
			!StringMember(line->val.binary.data, "category", &out->categories[i]))
			return false;
		if (getKeyJsonValueFromContainer(line->val.binary.data, "amount", 6, &amount) == NULL ||
			amount.type != jbvNumeric)
			return false;
		a = amount.val.numeric;
		if (NumCmp(a, zero) <= 0 || NumCmp(a, NumRound(a, scale)) != 0 || NumCmp(a, limit) >= 0)
			return false;
		out->amounts[i] = a;
		out->total = NumAdd(out->total, a);
	}
	return NumCmp(out->total, limit) < 0;
}

/* A voucher row as read */
typedef struct Voucher
{
	int64		voucher_id;
	Datum		code;			/* text */
	bool		percent;
	Numeric		value;
	bool		has_starts;
	TimestampTz starts_at;
	bool		has_expires;
	TimestampTz expires_at;
	Numeric		min_purchase;	/* NULL: none */
	Numeric		max_discount;	/* NULL: none */
	ArrayType  *exclude;		/* NULL: none */
	ArrayType  *vendors;
	ArrayType  *locations;
	ArrayType  *blackouts;
	bool		has_per_customer;
	int32		per_customer;
	bool		has_total_uses;
	int32		total_uses;
	int32		uses;
} Voucher;

/* The voucher of the last SPI result's first row */
static void
VoucherRead(Voucher *v)
{
	Datum		d;

	(void) GetValue(0, 1, &d);
	v->voucher_id = DatumGetInt64(d);
	(void) GetValue(0, 2, &v->code);
	(void) GetValue(0, 3, &d);
	v->percent = strcmp(TextDatumGetCString(d), "percent") == 0;
	(void) GetValue(0, 4, &d);
	v->value = DatumGetNumeric(d);
	v->has_starts = GetValue(0, 5, &d);
	v->starts_at = v->has_starts ? DatumGetTimestampTz(d) : 0;
	v->has_expires = GetValue(0, 6, &d);
	v->expires_at = v->has_expires ? DatumGetTimestampTz(d) : 0;
	v->min_purchase = GetValue(0, 7, &d) ? DatumGetNumeric(d) : NULL;
	v->max_discount = GetValue(0, 8, &d) ? DatumGetNumeric(d) : NULL;
	v->exclude = GetValue(0, 9, &d) ? DatumGetArrayTypeP(d) : NULL;
	v->vendors = GetValue(0, 10, &d) ? DatumGetArrayTypeP(d) : NULL;
	v->locations = GetValue(0, 11, &d) ? DatumGetArrayTypeP(d) : NULL;
	v->blackouts = GetValue(0, 12, &d) ? DatumGetArrayTypeP(d) : NULL;
	v->has_per_customer = GetValue(0, 13, &d);
	v->per_customer = v->has_per_customer ? DatumGetInt32(d) : 0;
	v->has_total_uses = GetValue(0, 14, &d);
	v->total_uses = v->has_total_uses ? DatumGetInt32(d) : 0;
	(void) GetValue(0, 15, &d);
	v->uses = DatumGetInt32(d);
}

/* Whether an instant is in one of a voucher's blackout ranges */
static bool
InBlackout(ArrayType *blackouts, TimestampTz at)
{
	TypeCacheEntry *typcache;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	typcache = lookup_type_cache(ARR_ELEMTYPE(blackouts), TYPECACHE_RANGE_INFO);
	deconstruct_array(blackouts, ARR_ELEMTYPE(blackouts), typcache->typlen, typcache->typbyval,
					  typcache->typalign, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (!nulls[i] &&
			range_contains_elem_internal(typcache, DatumGetRangeTypeP(elems[i]), TimestampTzGetDatum(at)))
			return true;
	}
	return false;
}

/*
 * The voucher's restrictions against the cart, as
 * plum_internal.voucher_rules() evaluates them: true with the discount (not
 * rounded, not yet capped by the total) when every rule holds.
 */
static bool
VoucherApplies(const Voucher *v, const Cart *cart, Datum recipient, bool has_recipient,
			   TimestampTz at, int scale, Numeric *discount)
{
	Numeric		eligible = int64_to_numeric(0);
	int			eligible_lines = 0;
	Numeric		d;

	for (int i = 0; i < cart->nlines; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (cart->categories[i] != (Datum) 0 && v->exclude != NULL &&
			TextInArray(FoldName(cart->categories[i]), v->exclude))
			continue;
		eligible = NumAdd(eligible, cart->amounts[i]);
		eligible_lines++;
	}

	if (v->has_starts && !(v->starts_at <= at))
		return false;
	if (v->has_expires && !(at < v->expires_at))
		return false;
	if (v->blackouts != NULL && InBlackout(v->blackouts, at))
		return false;
	if (v->min_purchase != NULL && NumCmp(eligible, v->min_purchase) < 0)
		return false;
	if (eligible_lines == 0)
		return false;
	if (v->vendors != NULL &&
		(cart->vendor == (Datum) 0 || !TextInArray(FoldName(cart->vendor), v->vendors)))
		return false;
	if (v->locations != NULL &&
		(cart->location == (Datum) 0 || !TextInArray(FoldName(cart->location), v->locations)))
		return false;
	if (v->has_per_customer)
	{
		Datum		values[2];
		Datum		n;

		if (!has_recipient)
			return false;
		values[0] = Int64GetDatum(v->voucher_id);
		values[1] = recipient;
		PlanRun(&plans, PLAN_USES_MINE, values, NULL, false, SPI_OK_SELECT);
		(void) GetValue(0, 1, &n);
		if (!(DatumGetInt64(n) < v->per_customer))
			return false;
	}
	if (v->has_total_uses && !(v->uses < v->total_uses))
		return false;

	/* percent: rounded down to the minor unit; amount: at most the eligible amount; then the cap */
	if (v->percent)
	{
		d = DatumGetNumeric(DirectFunctionCall2(numeric_mul, NumericGetDatum(eligible),
												NumericGetDatum(v->value)));
		d = DatumGetNumeric(DirectFunctionCall2(numeric_div, NumericGetDatum(d),
												NumericGetDatum(int64_to_numeric(100))));
		d = DatumGetNumeric(DirectFunctionCall2(numeric_trunc, NumericGetDatum(d), Int32GetDatum(scale)));
	}
	else
		d = NumCmp(eligible, v->value) < 0 ? eligible : v->value;
	if (v->max_discount != NULL && NumCmp(d, v->max_discount) > 0)
		d = v->max_discount;
	*discount = d;
	return true;
}

/* Whether a voucher code can be one (plum_internal.voucher_code): 3 to 32 of A-Z a-z 0-9 - */
static bool
VoucherCodeValid(text *code)
{
	const char *s = VARDATA_ANY(code);
	int			len = VARSIZE_ANY_EXHDR(code);

	if (len < 3 || len > 32)
		return false;
	for (int i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* The order sequence's next value */
static int64
NextOrderId(void)
{
	const PlumCatalog *cat = PlumCatalogGet();

	if (order_seq_incarnation != cat->incarnation)
	{
		order_seq = PlumInternalRel("shop_order_order_id_seq");
		order_seq_incarnation = cat->incarnation;
	}
	return nextval_internal(order_seq, true);
}

/* The instruments of an order as they are applied */
typedef struct Payments
{
	int			n;
	Datum	   *instrument;
	Datum	   *ref;
	bool	   *ref_null;
	Datum	   *code;
	bool	   *code_null;
	Datum	   *redemption;
	bool	   *redemption_null;
	int64	   *amount;			/* in minor units */
	Datum	   *stored;			/* numeric, as the PL/pgSQL version computed and stored it */
} Payments;

/* Room for at most max payments */
static Payments *
PaymentsNew(int max)
{
	Payments   *p = palloc(sizeof(Payments));

	p->n = 0;
	p->instrument = palloc(sizeof(Datum) * max);
	p->ref = palloc(sizeof(Datum) * max);
	p->ref_null = palloc(sizeof(bool) * max);
	p->code = palloc(sizeof(Datum) * max);
	p->code_null = palloc(sizeof(bool) * max);
	p->redemption = palloc(sizeof(Datum) * max);
	p->redemption_null = palloc(sizeof(bool) * max);
	p->amount = palloc(sizeof(int64) * max);
	p->stored = palloc(sizeof(Datum) * max);
	return p;
}

static void
AddPayment(Payments *p, const char *instrument, Datum ref, bool ref_null, Datum code, bool code_null,
		   Datum redemption, bool redemption_null, int64 amount, Numeric stored)
{
	int			i = p->n++;

	p->instrument[i] = CStringGetTextDatum(instrument);
	p->ref[i] = ref;
	p->ref_null[i] = ref_null;
	p->code[i] = code;
	p->code_null[i] = code_null;
	p->redemption[i] = redemption;
	p->redemption_null[i] = redemption_null;
	p->amount[i] = amount;
	p->stored[i] = NumericGetDatum(stored);
}

PG_FUNCTION_INFO_V1(plum_checkout);
/*
 * SQL: plum.checkout(company_id, order_ref, cart, recipient, voucher, codes,
 * points, idempotency_key) RETURNS TABLE(instrument, ref, amount).
 */
Datum
plum_checkout(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const PlumCatalog *cat;
	TimestampTz now = PlumNow();
	int64		company_id;
	text	   *order_ref;
	Jsonb	   *cart_arg = NULL;
	Datum		recipient = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	bool		has_recipient = !PG_ARGISNULL(3);
	int			scale;
	Cart		cart;
	bool		cart_ok = false;
	Numeric		points = NULL;
	int64		points_minor = 0;
	ArrayType  *codes = NULL;
	Datum	   *elems = NULL;
	int			ncodes = 0;
	int64		order_id;
	int64		left;
	int64		discount = 0;
	int64		paid_codes = 0;
	int64		take = 0;
	Numeric		zero = int64_to_numeric(0);
	Numeric		left_n;			/* the amounts as numeric, as they were stored before */
	Numeric		discount_n = zero;
	Numeric		paid_codes_n = zero;
	Numeric		take_n = zero;
	Datum		write[35];		/* the parameters of the one write (PLAN_WRITE) */
	char		write_nulls[35];
	int			nrows = 0;		/* the ledger rows it writes */
	PointsTaken taken;			/* the points part, referenced by write */
	bool		has_voucher = false;
	Datum		voucher_code = (Datum) 0;
	Voucher		voucher;
	Payments   *pay;

	/* the arguments themselves, then the look-ups (SPEC's order) */
	CheckNotNull(fcinfo, 0, "company_id");
	CheckNotNull(fcinfo, 1, "order_ref");
	company_id = PG_GETARG_INT64(0);
	order_ref = PG_GETARG_TEXT_PP(1);
	{
		int			len = pg_mbstrlen_with_len(VARDATA_ANY(order_ref), VARSIZE_ANY_EXHDR(order_ref));

		if (len == 0 || len > 200)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid order_ref"),
					 errdetail("The order_ref is %d characters long; it must have 1 to 200.", len)));
	}

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	cat = PlumCatalogGet();
	PlansReady(&plans, PreparePlans);

	scale = PlumCompanyScale(company_id);
	CheckNotNull(fcinfo, 2, "cart");
	cart_arg = PG_GETARG_JSONB_P(2);
	if (scale >= 0)
		cart_ok = CartRead(cart_arg, scale, &cart);
	if (!cart_ok)
	{
		/* cart_total() raises the exact refusal; for an unknown company it may accept */
		Datum		values[2] = {PointerGetDatum(cart_arg), Int16GetDatum(scale)};
		char		nulls[2] = {' ', scale < 0 ? 'n' : ' '};

		PlanRun(&plans, PLAN_CART_TOTAL, values, nulls, false, SPI_OK_SELECT);
		if (scale >= 0)
			elog(ERROR, "plum: the cart check in C refused a cart plum_internal.cart_total() accepts");
	}
	if (!PG_ARGISNULL(6))
	{
		if (!has_recipient)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("points need a recipient"),
					 errdetail("%s points were asked for, and no recipient is given.",
							   DatumGetCString(DirectFunctionCall1(numeric_out, PG_GETARG_DATUM(6)))),
					 errhint("Give the recipient whose wallet pays.")));
		points_minor = CheckAmount(PG_GETARG_NUMERIC(6), scale < 0 ? 4 : scale, "points");
		points = MinorToNumeric(points_minor, scale < 0 ? 4 : scale);
	}
	if (!PG_ARGISNULL(5))
	{
		bool	   *nulls;

		codes = PG_GETARG_ARRAYTYPE_P(5);
		/* the PL/pgSQL version looked for a NULL with array_position(), which refuses these */
		if (ARR_NDIM(codes) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("searching for elements in multidimensional arrays is not supported")));
		deconstruct_array(codes, ARR_ELEMTYPE(codes), cat->code_len, cat->code_byval, cat->code_align,
						  &elems, &nulls, &ncodes);
		for (int i = 0; i < ncodes; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("code #%d must not be null", ARR_LBOUND(codes)[0] + i)));
		}
	}
	if (scale < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PLUM_UNKNOWN),
				 errmsg("unknown company"),
				 errdetail("There is no company " INT64_FORMAT ".", company_id)));
	PlumCheckCompany(company_id);

	/* a keyed call claims its key first: a replay returns the first call's rows */
	order_id = NextOrderId();
	if (!PG_ARGISNULL(7))
	{
		Datum		values[9];
		char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
		Datum		d;

		values[0] = Int64GetDatum(company_id);
		values[1] = PG_GETARG_DATUM(7);
		values[2] = PointerGetDatum(order_ref);
		values[3] = PointerGetDatum(cart_arg);
		values[4] = recipient;
		nulls[4] = has_recipient ? ' ' : 'n';
		values[5] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
		nulls[5] = PG_ARGISNULL(4) ? 'n' : ' ';
		values[6] = codes ? PointerGetDatum(codes) : (Datum) 0;
		nulls[6] = codes ? ' ' : 'n';
		values[7] = points ? NumericGetDatum(points) : (Datum) 0;
		nulls[7] = points ? ' ' : 'n';
		values[8] = Int64GetDatum(order_id);
		PlanRun(&plans, PLAN_CLAIM_KEY, values, nulls, false, SPI_OK_SELECT);
		if (SPI_processed == 1 && GetValue(0, 1, &d))
		{
			Datum		prior[2] = {d, Int16GetDatum(scale)};

			PlanRun(&plans, PLAN_PRIOR_ROWS, prior, NULL, false, SPI_OK_SELECT);
			for (uint64 i = 0; i < SPI_processed; i++)
			{
				Datum		out[3];
				bool		outnull[3];

				CHECK_FOR_INTERRUPTS();
				for (int c = 0; c < 3; c++)
					outnull[c] = !GetValue((int) i, c + 1, &out[c]);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnull);
			}
			SPI_finish();
			return (Datum) 0;
		}
	}

	/*
	 * The voucher is read (not locked) before the order is claimed, so that
	 * the order's row is written with its voucher_id at once and the last
	 * write of the row is a HOT update.  Not for a voucher with
	 * uses_per_customer: an order counts as a use once it has the voucher_id,
	 * and this one must not count itself (it gets it at the end, as before).
	 * A voucher's id and restrictions never change; its uses are read again
	 * under its row lock below.
	 */
	if (!PG_ARGISNULL(4))
	{
		text	   *given = PG_GETARG_TEXT_PP(4);

		voucher_code = DirectFunctionCall1Coll(upper, DEFAULT_COLLATION_OID, PointerGetDatum(given));
		if (VoucherCodeValid(given))
		{
			Datum		values[2] = {Int64GetDatum(company_id), voucher_code};

			PlanRun(&plans, PLAN_VOUCHER, values, NULL, false, SPI_OK_SELECT);
			has_voucher = SPI_processed == 1;
			if (has_voucher)
				VoucherRead(&voucher);
		}
	}

	/* claim the order_ref: a concurrent checkout of the same order waits here for this one */
	{
		Datum		values[9];
		char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

		values[0] = Int64GetDatum(order_id);
		values[1] = Int64GetDatum(company_id);
		values[2] = PointerGetDatum(order_ref);
		values[3] = recipient;
		nulls[3] = has_recipient ? ' ' : 'n';
		values[4] = TimestampTzGetDatum(now);
		values[5] = PointerGetDatum(cart_arg);
		values[6] = NumericGetDatum(cart.total);
		values[7] = PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7);
		nulls[7] = PG_ARGISNULL(7) ? 'n' : ' ';
		values[8] = has_voucher ? Int64GetDatum(voucher.voucher_id) : (Datum) 0;
		nulls[8] = has_voucher && !voucher.has_per_customer ? ' ' : 'n';
		PlanRun(&plans, PLAN_CLAIM_ORDER, values, nulls, false, SPI_OK_INSERT);
		if (SPI_processed == 0)
		{
			Datum		taken[2] = {Int64GetDatum(company_id), PointerGetDatum(order_ref)};
			Datum		d = (Datum) 0;
			bool		has_detail;

			PlanRun(&plans, PLAN_ORDER_TAKEN, taken, NULL, false, SPI_OK_SELECT);
			has_detail = SPI_processed == 1 && GetValue(0, 1, &d);
			ereport(ERROR,
					(errcode(ERRCODE_PLUM_ALREADY_USED),
					 errmsg("order already checked out"),
					 has_detail ? errdetail_internal("%s", TextDatumGetCString(d)) : 0,
					 errhint("Refund it with plum.refund(), or retry with the first call's idempotency key and arguments.")));
		}
	}
	left = NumericToMinor(cart.total, scale, "total");
	left_n = cart.total;
	/* the voucher, the codes, the points, the due */
	pay = PaymentsNew(ncodes + 3);

	/*
	 * 1. the voucher.  Its uses are counted exactly: with total_uses, under
	 * its row lock (the counter); with uses_per_customer only, under a
	 * transaction lock of the voucher and the recipient; a voucher without
	 * either is only read, so its checkouts never wait on each other.
	 */
	if (!PG_ARGISNULL(4))
	{
		Numeric		d = NULL;

		if (!has_voucher)
			ereport(ERROR,
					(errcode(ERRCODE_PLUM_VOUCHER),
					 errmsg("voucher does not apply"),
					 errdetail_internal("exists: there is no voucher %s in company " INT64_FORMAT,
										TextDatumGetCString(voucher_code), company_id)));
		if (voucher.has_total_uses)
		{
			Datum		values[1] = {Int64GetDatum(voucher.voucher_id)};

			PlanRun(&plans, PLAN_VOUCHER_LOCK, values, NULL, false, SPI_OK_SELECT);
			if (SPI_processed != 1)
				elog(ERROR, "plum: voucher " INT64_FORMAT " vanished", voucher.voucher_id);
			VoucherRead(&voucher);
		}
		else if (voucher.has_per_customer && has_recipient)
		{
			char	   *key = psprintf("plum.voucher " INT64_FORMAT, voucher.voucher_id);
			char	   *who = RecipientToCString(DatumGetPlumRecipientPP(recipient));
			Datum		k1 = DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID, CStringGetTextDatum(key));
			Datum		k2 = DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID, CStringGetTextDatum(who));

			DirectFunctionCall2(pg_advisory_xact_lock_int4, k1, k2);
		}
		if (!VoucherApplies(&voucher, &cart, recipient, has_recipient, now, scale, &d))
		{
			/* voucher_rules() words every failing rule */
			Datum		values[6];
			char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
			Datum		failed;

			values[0] = Int64GetDatum(voucher.voucher_id);
			values[1] = PointerGetDatum(cart_arg);
			values[2] = NumericGetDatum(cart.total);
			values[3] = recipient;
			nulls[3] = has_recipient ? ' ' : 'n';
			values[4] = TimestampTzGetDatum(now);
			values[5] = Int16GetDatum(scale);
			PlanRun(&plans, PLAN_VOUCHER_FAILED, values, nulls, false, SPI_OK_SELECT);
			if (SPI_processed != 1 || !GetValue(0, 1, &failed))
				elog(ERROR, "plum: voucher rules in C and in SQL disagree for voucher " INT64_FORMAT,
					 voucher.voucher_id);
			ereport(ERROR,
					(errcode(ERRCODE_PLUM_VOUCHER),
					 errmsg("voucher does not apply"),
					 errdetail_internal("Voucher %s: %s.", TextDatumGetCString(voucher.code),
										TextDatumGetCString(failed)),
					 errhint("plum.validate_voucher() shows every restriction.")));
		}
		/* the discount rounded to the minor unit, at most the total */
		d = NumRound(d, scale);
		if (NumCmp(cart.total, d) < 0)
			d = cart.total;
		discount = NumericToMinor(d, scale, "discount");
		discount_n = d;
		if (voucher.has_total_uses)
		{
			Datum		values[1] = {Int64GetDatum(voucher.voucher_id)};

			PlanRun(&plans, PLAN_VOUCHER_USE, values, NULL, false, SPI_OK_UPDATE);
		}
		left = MoneySub(left, discount, scale);
		left_n = NumSub(left_n, discount_n);
		AddPayment(pay, "voucher", voucher.code, false, (Datum) 0, true, (Datum) 0, true, discount, discount_n);
	}

	/* 2. the codes, in the order given: all checked, only those needed drained */
	for (int i = 0; i < 35; i++)
		write_nulls[i] = ' ';
	CodesStoreValues(NULL, 0, NULL, NULL, company_id, scale, now, 0, (Datum) 0, true,
					 PointerGetDatum(order_ref), false, (Datum) 0, true, write, write_nulls);
	if (ncodes > 0)
	{
		LockedCode **given = CodesLock(elems, ncodes);
		int64	   *remaining = palloc(sizeof(int64) * ncodes);
		int64	   *applied = palloc(sizeof(int64) * ncodes);
		int64		held = 0;
		int			use = 0;

		for (int i = 0; i < ncodes; i++)
		{
			LockedCode *r = given[i];

			CHECK_FOR_INTERRUPTS();
			if (r->company_id != company_id)
				ereport(ERROR,
						(errcode(ERRCODE_PLUM_NOT_PERMITTED),
						 errmsg("code belongs to another company"),
						 errdetail("Code #%d (%s) is company " INT64_FORMAT "'s; the order is company " INT64_FORMAT "'s.",
								   i + 1, CodeToCString(r->code), r->company_id, company_id)));
			if (!r->cancelled_null)
				ereport(ERROR,
						(errcode(ERRCODE_PLUM_ALREADY_USED),
						 errmsg("code cancelled"),
						 errdetail("Code #%d (%s) was cancelled at %s.", i + 1, CodeToCString(r->code),
								   DatumGetCString(DirectFunctionCall1(timestamptz_out,
																	   TimestampTzGetDatum(r->cancelled_at))))));
			if (!r->expires_null && r->expires_at <= now)
				ereport(ERROR,
						(errcode(ERRCODE_PLUM_EXPIRED),
						 errmsg("code expired"),
						 errdetail("Code #%d (%s) expired at %s.", i + 1, CodeToCString(r->code),
								   DatumGetCString(DirectFunctionCall1(timestamptz_out,
																	   TimestampTzGetDatum(r->expires_at))))));
			remaining[i] = NumericToMinor(DatumGetNumeric(r->balance), scale, "balance");
			if (remaining[i] == 0)
				ereport(ERROR,
						(errcode(ERRCODE_PLUM_ALREADY_USED),
						 errmsg("code already redeemed"),
						 errdetail("Code #%d (%s) has no balance left.", i + 1, CodeToCString(r->code))));
			if (held < left)
			{
				use = i + 1;
				/* a sum beyond int64 holds more than any order: saturate */
				if (pg_add_s64_overflow(held, remaining[i], &held))
					held = PG_INT64_MAX;
			}
		}
		if (use > 0)
		{
			int64		want = Min(held, left);
			int64		entry = LedgerId();

			/* drain the codes in the order given, only as far as needed */
			for (int i = 0; i < use; i++)
			{
				applied[i] = Min(remaining[i], want);
				remaining[i] -= applied[i];
				want -= applied[i];
			}
			CodesStoreValues(given, use, applied, remaining, company_id, scale, now, entry,
							 (Datum) 0, true, PointerGetDatum(order_ref), false, (Datum) 0, true,
							 write, write_nulls);
			nrows += use;
			for (int i = 0; i < use; i++)
			{
				Datum		code = PlumCodeGetDatum(given[i]->code);
				Numeric		a = MinorToNumeric(applied[i], scale);

				AddPayment(pay, "code", CStringGetTextDatum(CodeToCString(given[i]->code)), false,
						   code, false, (Datum) 0, true, applied[i], a);
				paid_codes = MoneyAdd(paid_codes, applied[i], scale);
				paid_codes_n = NumAdd(paid_codes_n, a);
			}
			left = MoneySub(left, paid_codes, scale);
			left_n = NumSub(left_n, paid_codes_n);
		}
	}

	/* 3. points, FIFO, at most what is left to pay: the wallet locked, its rows chained */
	for (int i = 12; i < 24; i++)
		write_nulls[i] = 'n';
	write[15] = recipient;
	write_nulls[15] = has_recipient ? ' ' : 'n';
	if (points != NULL && left > 0)
	{
		Datum		redemption;

		take = Min(points_minor, left);
		/* least(points, left): the first when equal */
		take_n = NumCmp(left_n, points) < 0 ? left_n : points;
		PointsTake(company_id, recipient, take, scale, now, PointerGetDatum(order_ref), &taken);
		write[12] = PointerGetDatum(&taken.ctid);
		write[13] = PlumWalletGetDatum(taken.remaining);
		write[14] = PointerGetDatum(taken.head);
		write[16] = Int64GetDatum(taken.entry);
		write[17] = NumericGetDatum(taken.amount);
		write[18] = PlumWalletGetDatum(taken.taken);
		write[19] = PointerGetDatum(taken.hash);
		for (int i = 12; i < 20; i++)
			write_nulls[i] = ' ';
		nrows++;
		if (taken.expired->nlots > 0)
		{
			write[20] = Int64GetDatum(taken.expiry_entry);
			write[21] = NumericGetDatum(taken.expired_amount);
			write[22] = PlumWalletGetDatum(taken.expired);
			write[23] = PointerGetDatum(taken.expiry_hash);
			for (int i = 20; i < 24; i++)
				write_nulls[i] = ' ';
			nrows++;
		}
		redemption = Int64GetDatum(taken.entry);
		AddPayment(pay, "points", CStringGetTextDatum(DatumGetCString(DirectFunctionCall1(int8out, redemption))),
				   false, (Datum) 0, true, redemption, false, take, take_n);
		left = MoneySub(left, take, scale);
		left_n = NumSub(left_n, take_n);
	}

	/* 4. the rest is due, paid outside plum */
	if (left > 0)
		AddPayment(pay, "due", (Datum) 0, true, (Datum) 0, true, (Datum) 0, true, left, left_n);

	/* the codes, the wallet, their ledger rows, the order's amounts and its payments */
	{
		Datum	   *values = write + 24;
		char	   *nulls = write_nulls + 24;
		int			dims[1] = {pay->n};
		int			lbs[1] = {1};

		values[0] = Int64GetDatum(order_id);
		values[1] = has_voucher ? Int64GetDatum(voucher.voucher_id) : (Datum) 0;
		nulls[1] = has_voucher ? ' ' : 'n';
		values[2] = NumericGetDatum(discount_n);
		values[3] = NumericGetDatum(paid_codes_n);
		values[4] = NumericGetDatum(take_n);
		values[5] = NumericGetDatum(left_n);
		values[6] = PointerGetDatum(construct_array(pay->instrument, pay->n, TEXTOID, -1, false, TYPALIGN_INT));
		values[7] = PointerGetDatum(construct_md_array(pay->ref, pay->ref_null, 1, dims, lbs,
													   TEXTOID, -1, false, TYPALIGN_INT));
		values[8] = PointerGetDatum(construct_md_array(pay->code, pay->code_null, 1, dims, lbs,
													   cat->code_type, cat->code_len, cat->code_byval,
													   cat->code_align));
		values[9] = PointerGetDatum(construct_md_array(pay->redemption, pay->redemption_null, 1, dims, lbs,
													   INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[10] = PointerGetDatum(construct_array(pay->stored, pay->n, NUMERICOID, -1, false, TYPALIGN_INT));
		PlanRun(&plans, PLAN_WRITE, write, write_nulls, false, SPI_OK_INSERT);
		if (SPI_processed != (uint64) nrows)
			elog(ERROR, "plum: %d ledger rows expected, " UINT64_FORMAT " written", nrows, SPI_processed);
	}

	/* one row per instrument, in the order applied */
	for (int i = 0; i < pay->n; i++)
	{
		Datum		out[3];
		bool		outnull[3] = {false, pay->ref_null[i], false};

		out[0] = pay->instrument[i];
		out[1] = pay->ref[i];
		out[2] = NumericGetDatum(MinorToNumeric(pay->amount[i], scale));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnull);
	}

	SPI_finish();
	return (Datum) 0;
}
