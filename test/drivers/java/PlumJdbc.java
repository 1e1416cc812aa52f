// test/drivers/java/PlumJdbc.java — plum as an application sees it through the PostgreSQL JDBC driver.
//
// Run by test/drivers/run (javac, then java with /usr/share/java/postgresql.jar), which creates
// database plum_drivers and a non-superuser login in plum_app and plum_admin, and passes the URL
// in PLUM_JDBC_URL, the login in PGUSER and its password in PGPASSWORD.  Prints
// "PASS: jdbc: ..." or "FAIL: ..." lines; exits non-zero when a check failed.

import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

public class PlumJdbc {
	static final String DRIVER = "jdbc";
	static int failed = 0;
	static Connection conn;

	static class Mismatch extends Exception {
		Mismatch(String message) {
			super(message);
		}
	}

	interface Check {
		void run() throws Exception;
	}

	/** Throw unless actual equals expected; BigDecimal 0.3 is not 0.30 (equals compares the scale). */
	static void eq(Object actual, Object expected, String what) throws Mismatch {
		if (!Objects.equals(actual, expected)) {
			throw new Mismatch(what + ": got " + describe(actual) + ", expected " + describe(expected));
		}
	}

	static String describe(Object o) {
		return o == null ? "null" : o.getClass().getSimpleName() + " " + o;
	}

	/** Run fn, expect an SQLException with SQLSTATE state; return it. */
	static SQLException refused(String state, String what, Check fn) throws Exception {
		try {
			fn.run();
		} catch (SQLException e) {
			if (!state.equals(e.getSQLState())) {
				throw new Mismatch(what + ": SQLSTATE " + e.getSQLState() + " (" + firstLine(e) + "), expected " + state);
			}
			return e;
		}
		throw new Mismatch(what + ": no error, expected SQLSTATE " + state);
	}

	static String firstLine(Exception e) {
		String m = String.valueOf(e.getMessage());
		int nl = m.indexOf('\n');
		return nl < 0 ? m : m.substring(0, nl);
	}

	static void check(String name, Check fn) throws SQLException {
		try {
			fn.run();
			System.out.println("PASS: " + DRIVER + ": " + name);
		} catch (Mismatch e) {
			failed++;
			System.out.println("FAIL: " + DRIVER + ": " + name + ": " + e.getMessage());
		} catch (SQLException e) {
			failed++;
			System.out.println("FAIL: " + DRIVER + ": " + name + ": SQLSTATE " + e.getSQLState() + ": " + firstLine(e));
		} catch (Exception e) {
			failed++;
			System.out.println("FAIL: " + DRIVER + ": " + name + ": " + e);
		}
		if (!conn.getAutoCommit()) {
			conn.rollback();
			conn.setAutoCommit(true);
		}
	}

	/** The first column of the only row of a query with parameters (Long, String, BigDecimal). */
	static Object one(String sql, Object... params) throws SQLException {
		try (PreparedStatement ps = prepare(sql, params); ResultSet rs = ps.executeQuery()) {
			rs.next();
			return rs.getObject(1);
		}
	}

	static PreparedStatement prepare(String sql, Object... params) throws SQLException {
		PreparedStatement ps = conn.prepareStatement(sql);
		for (int i = 0; i < params.length; i++) {
			Object p = params[i];
			if (p instanceof String) {
				ps.setString(i + 1, (String) p);
			} else if (p instanceof BigDecimal) {
				ps.setBigDecimal(i + 1, (BigDecimal) p);
			} else if (p instanceof Array) {
				ps.setArray(i + 1, (Array) p);
			} else {
				ps.setLong(i + 1, (Long) p);
			}
		}
		return ps;
	}

	static BigDecimal balance(long company, String recipient) throws SQLException {
		try (PreparedStatement ps = prepare("SELECT plum.points_balance(?, ?)", company, recipient);
				ResultSet rs = ps.executeQuery()) {
			rs.next();
			return rs.getBigDecimal(1);
		}
	}

	static void execute(String sql, Object... params) throws SQLException {
		try (PreparedStatement ps = prepare(sql, params)) {
			ps.execute();
		}
	}

	static String plain(String code) {
		return code.toLowerCase(Locale.ROOT).replace("-", "");
	}

	/** redeem_codes(?, 15) with the codes as an array of the given element type; "code applied remaining" rows. */
	static List<String> redeemCodes(String elementType, String... codes) throws SQLException {
		List<String> rows = new ArrayList<>();
		Array array = conn.createArrayOf(elementType, codes);
		try (PreparedStatement ps = prepare("SELECT code, applied, remaining FROM plum.redeem_codes(?, ?)",
				array, new BigDecimal("15"));
				ResultSet rs = ps.executeQuery()) {
			while (rs.next()) {
				rows.add(rs.getString("code") + " " + rs.getBigDecimal("applied") + " " + rs.getBigDecimal("remaining"));
			}
		}
		return rows;
	}

	public static void main(String[] args) throws Exception {
		conn = DriverManager.getConnection(System.getenv("PLUM_JDBC_URL"), System.getenv("PGUSER"),
				System.getenv("PGPASSWORD"));

		// the app login sets up its own company (it is a plum_admin)
		long company = (Long) one("SELECT plum.create_company('Drivers: jdbc', 'USD')");
		long admin = (Long) one("SELECT plum.add_admin(?, 'boss@jdbc.test', 'super_admin', 100000)", company);
		execute("SELECT plum.create_points(?, 10000)", admin);
		long campaign = (Long) one("SELECT plum.create_campaign(?, 'jdbc codes', 'codes')", admin);
		execute("CREATE TABLE shop.jdbc_orders (order_id serial PRIMARY KEY, reference text NOT NULL, redemption_id bigint)");

		check("numeric is exact: give_points BigDecimal 0.10 and 0.20, getBigDecimal is 0.30", () -> {
			execute("SELECT plum.give_points(?, ?, ?)", admin, "money@jdbc.test", new BigDecimal("0.10"));
			execute("SELECT plum.give_points(?, ?, ?)", admin, "money@jdbc.test", new BigDecimal("0.20"));
			eq(balance(company, "money@jdbc.test"), new BigDecimal("0.30"), "points_balance");
			eq(one("SELECT plum.points_balance(?, ?)", company, "money@jdbc.test"), new BigDecimal("0.30"),
					"points_balance by getObject");
		});

		check("a double amount (setDouble(0.1 + 0.2)) is refused (no function takes double precision), not rounded", () -> {
			refused("42883", "give_points(0.1 + 0.2)", () -> {
				try (PreparedStatement ps = conn.prepareStatement("SELECT plum.give_points(?, ?, ?)")) {
					ps.setLong(1, admin);
					ps.setString(2, "money@jdbc.test");
					ps.setDouble(3, 0.1 + 0.2);
					ps.execute();
				}
			});
			eq(balance(company, "money@jdbc.test"), new BigDecimal("0.30"), "balance after the refusal");
		});

		check("a recipient by setString, spelled differently, is one wallet", () -> {
			execute("SELECT plum.give_points(?, ?, ?)", admin, "Alice@Jdbc.TEST", new BigDecimal("5.00"));
			eq(balance(company, " alice@jdbc.test"), new BigDecimal("5.00"), "points_balance(' alice@jdbc.test')");
			Object rid = one("SELECT plum.redeem_points(?, ?, ?)", company, "ALICE@jdbc.test ", new BigDecimal("2"));
			eq(rid instanceof Long, true, "redeem_points returns a Long (" + describe(rid) + ")");
			eq(balance(company, "alice@JDBC.test"), new BigDecimal("3.00"), "points_balance('alice@JDBC.test')");
		});

		List<String> codes = new ArrayList<>();
		check("SELECT code FROM plum.issue_codes(...): the result column is named code", () -> {
			try (PreparedStatement ps = prepare("SELECT code FROM plum.issue_codes(?, ?, 10, 6)", admin, campaign);
					ResultSet rs = ps.executeQuery()) {
				while (rs.next()) {
					codes.add(rs.getString("code"));
				}
			}
			eq(codes.size(), 6, "number of codes");
			for (String c : codes) {
				eq(c.matches("[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=U]"), true, "code " + c + " looks like XXXX-XXXX-XXXX-C");
			}
		});
		if (codes.isEmpty()) {
			// the other code checks still run, on codes read by position
			try (PreparedStatement ps = prepare("SELECT * FROM plum.issue_codes(?, ?, 10, 6)", admin, campaign);
					ResultSet rs = ps.executeQuery()) {
				while (rs.next()) {
					codes.add(rs.getString(1));
				}
				System.out.println("(codes read by position from column \"" + rs.getMetaData().getColumnName(1)
						+ "\" for the checks below)");
			}
		}

		check("redeem_codes(?, 15) with createArrayOf(\"varchar\", ...), lower case and without hyphens", () -> {
			eq(redeemCodes("varchar", plain(codes.get(0)), codes.get(1).toLowerCase(Locale.ROOT)),
					List.of(codes.get(0) + " 10.00 0.00", codes.get(1) + " 5.00 5.00"), "rows");
		});

		check("redeem_codes(?, 15) with createArrayOf(\"text\", ...), lower case and without hyphens", () -> {
			eq(redeemCodes("text", plain(codes.get(2)), codes.get(3).toLowerCase(Locale.ROOT)),
					List.of(codes.get(2) + " 10.00 0.00", codes.get(3) + " 5.00 5.00"), "rows");
		});

		check("code_balance(?) with setString", () -> {
			eq(one("SELECT plum.code_balance(?)", plain(codes.get(3))), new BigDecimal("5.00"), "code_balance");
			eq(one("SELECT plum.code_balance(?)", codes.get(4)), new BigDecimal("10.00"), "code_balance");
		});

		check("refusals by SQLSTATE: PU001 with the figures, and the rolled-back transaction left the balance", () -> {
			execute("SELECT plum.give_points(?, ?, 5)", admin, "refuse@jdbc.test");
			conn.setAutoCommit(false);
			execute("SELECT plum.redeem_points(?, ?, 1)", company, "refuse@jdbc.test");
			SQLException e = refused("PU001", "redeem_points(1000)",
					() -> execute("SELECT plum.redeem_points(?, ?, 1000)", company, "refuse@jdbc.test"));
			conn.rollback();
			conn.setAutoCommit(true);
			String message = e.getMessage();
			eq(message.startsWith("ERROR: insufficient points"), true, "getMessage() starts with the message (" + message + ")");
			eq(message.contains("The balance of refuse@jdbc.test is 4.00, requested 1000.00."), true,
					"getMessage() carries the detail (" + message.replace('\n', ' ') + ")");
			if (e instanceof org.postgresql.util.PSQLException) {
				org.postgresql.util.ServerErrorMessage sem = ((org.postgresql.util.PSQLException) e).getServerErrorMessage();
				eq(sem.getDetail(), "The balance of refuse@jdbc.test is 4.00, requested 1000.00.", "getServerErrorMessage().getDetail()");
			}
			eq(balance(company, "refuse@jdbc.test"), new BigDecimal("5.00"), "balance after rollback()");
		});

		check("a malformed recipient is SQLSTATE 22P02", () -> {
			refused("22P02", "points_balance('not-a-recipient')", () -> balance(company, "not-a-recipient"));
		});

		check("the redemption commits or rolls back with the app's own INSERT", () -> {
			execute("SELECT plum.give_points(?, ?, 10)", admin, "tx@jdbc.test");
			conn.setAutoCommit(false);
			Long rid1 = (Long) one("SELECT plum.redeem_points(?, ?, 2, ?)", company, "tx@jdbc.test", "order-1");
			execute("INSERT INTO shop.jdbc_orders (reference, redemption_id) VALUES (?, ?)", "order-1", rid1);
			conn.rollback();
			eq(balance(company, "tx@jdbc.test"), new BigDecimal("10.00"), "balance after rollback()");
			eq(one("SELECT count(*) FROM shop.jdbc_orders"), 0L, "orders after rollback()");
			Long rid = (Long) one("SELECT plum.redeem_points(?, ?, 2, ?)", company, "tx@jdbc.test", "order-2");
			execute("INSERT INTO shop.jdbc_orders (reference, redemption_id) VALUES (?, ?)", "order-2", rid);
			conn.commit();
			conn.setAutoCommit(true);
			eq(balance(company, "tx@jdbc.test"), new BigDecimal("8.00"), "balance after commit()");
			eq(one("SELECT reference || ' ' || redemption_id FROM shop.jdbc_orders"), "order-2 " + rid, "orders after commit()");
			eq(one("SELECT reference || ' ' || amount FROM plum.ledger WHERE entry_id = ? AND kind = 'redeem'", rid),
					"order-2 2.00", "the ledger row of the redemption");
		});

		check("plum.wallet::jsonb comes back as a jsonb PGobject", () -> {
			Object w = one("SELECT '{\"scale\": 2, \"lots\": []}'::plum.wallet::jsonb");
			eq(w instanceof org.postgresql.util.PGobject ? ((org.postgresql.util.PGobject) w).getType() : describe(w), "jsonb", "type");
			eq(((org.postgresql.util.PGobject) w).getValue(), "{\"lots\": [], \"scale\": 2}", "empty wallet");
			eq(one("SELECT w -> 'lots' -> 0 ->> 'remaining' FROM (SELECT '{\"scale\": 2, \"lots\": [{\"lot_id\": 17, "
					+ "\"issued_at\": \"2026-01-01T00:00:00Z\", \"expires_at\": \"2027-01-01T00:00:00Z\", \"amount\": \"100.00\", "
					+ "\"remaining\": \"40.00\"}]}'::plum.wallet::jsonb AS w) AS x"), "40.00", "the lot's remaining");
		});

		DatabaseMetaData meta = conn.getMetaData();
		check("getTables(null, \"plum\", \"%\", null) lists views (and composite types), no tables", () -> {
			TreeMap<String, TreeSet<String>> byType = new TreeMap<>();
			try (ResultSet rs = meta.getTables(null, "plum", "%", null)) {
				while (rs.next()) {
					byType.computeIfAbsent(rs.getString("TABLE_TYPE"), k -> new TreeSet<>()).add(rs.getString("TABLE_NAME"));
				}
			}
			eq(byType.containsKey("VIEW") && byType.get("VIEW").contains("wallets"), true, "views listed (" + byType + ")");
			TreeMap<String, TreeSet<String>> other = new TreeMap<>(byType);
			other.remove("VIEW");
			other.remove("TYPE");
			eq(other.toString(), "{}", "anything but views and types");
		});

		check("getFunctions(null, \"plum\", \"%\") lists redeem_points and no internal helper", () -> {
			TreeSet<String> names = new TreeSet<>();
			try (ResultSet rs = meta.getFunctions(null, "plum", "%")) {
				while (rs.next()) {
					names.add(rs.getString("FUNCTION_NAME"));
				}
			}
			eq(names.contains("redeem_points"), true, "redeem_points listed");
			TreeSet<String> internal = new TreeSet<>();
			for (String f : new String[] { "raise", "claim_key", "recipient_in", "wallet_consume", "settle_account" }) {
				if (names.contains(f)) {
					internal.add(f);
				}
			}
			eq(internal.toString(), "[]", "internal helpers listed");
		});

		// a BI tool: a plum_reader login (PLUM_READER_USER, confined to a company) reads the analytics
		// views' column comments as REMARKS
		String readerUser = System.getenv("PLUM_READER_USER");
		if (readerUser != null) {
			try (Connection bi = DriverManager.getConnection(System.getenv("PLUM_JDBC_URL"), readerUser,
					System.getenv("PLUM_READER_PASSWORD"))) {
				DatabaseMetaData biMeta = bi.getMetaData();
				for (String view : new String[] { "liability", "breakage_monthly", "points_cohorts", "campaign_stats",
						"expiring_soon", "retention_monthly", "referral_funnel" }) {
					check("as a plum_reader, getColumns(null, \"plum\", \"" + view + "\", \"%\"): every column's REMARKS is its comment", () -> {
						int columns = 0;
						List<String> bad = new ArrayList<>();
						try (ResultSet rs = biMeta.getColumns(null, "plum", view, "%");
								PreparedStatement ps = bi.prepareStatement(
									"SELECT col_description(('plum.' || quote_ident(?))::regclass, ?)")) {
							while (rs.next()) {
								columns++;
								ps.setString(1, view);
								ps.setInt(2, rs.getInt("ORDINAL_POSITION"));
								String comment;
								try (ResultSet c = ps.executeQuery()) {
									c.next();
									comment = c.getString(1);
								}
								String remarks = rs.getString("REMARKS");
								if (comment == null || comment.isEmpty() || !comment.equals(remarks)) {
									bad.add(rs.getString("COLUMN_NAME") + "=" + remarks);
								}
							}
						}
						eq(columns > 0, true, "columns listed");
						eq(bad.toString(), "[]", "columns without their comment as REMARKS");
					});
				}
				check("as a plum_reader, getTables(null, \"plum\", \"liability\", VIEW) has the view's comment as REMARKS", () -> {
					try (ResultSet rs = biMeta.getTables(null, "plum", "liability", new String[] { "VIEW" })) {
						eq(rs.next(), true, "plum.liability listed");
						String remarks = rs.getString("REMARKS");
						eq(remarks != null && remarks.startsWith("What each company owes"), true, "REMARKS " + remarks);
					}
				});
				check("as a plum_reader confined to its company, plum.liability shows that company only", () -> {
					try (Statement st = bi.createStatement();
							ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT company_id) FROM plum.liability")) {
						rs.next();
						eq(rs.getLong(1) + "/" + rs.getLong(2), "1/1", "rows/companies");
					}
				});
			}
		}

		conn.close();
		System.exit(failed == 0 ? 0 : 1);
	}
}
