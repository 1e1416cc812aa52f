# plum: PGXS build (see README.md)
EXTENSION    = plum plum_proxy
EXTVERSION   = 0.2.0
MODULE_big   = plum
OBJS         = src/plum.o src/guc.o src/spi_plans.o src/money.o src/recipient.o src/code.o src/chain.o \
               src/lots.o src/wallet.o src/wallet_sql.o src/points.o src/codes.o src/checkout.o src/links.o src/qr.o src/compat.o \
               src/identity.o src/errors.o src/shard.o src/checks.o src/expire.o \
               src/bulkinsert.o src/bulk.o

# The install script is assembled from one file per area, in name order; the upgrade script
# from 0.1.0 is sql/upgrade/0.1.0--0.2.0.sql (state dropped and moved), then every block of state
# marked "-- @new-in 0.2.0" ... "-- @end", then the code part (below the line "-- @api") of every
# area file, then sql/upgrade/0.1.0--0.2.0.post.sql if there is one (data backfills that need the
# new code). plum--0.1.0.sql is the released 0.1.0 script, kept as shipped.
DATA_built   = plum--$(EXTVERSION).sql plum--0.1.0--$(EXTVERSION).sql plum_proxy--$(EXTVERSION).sql
DATA         = plum--0.1.0.sql
SQL_SOURCES  = $(sort $(wildcard $(srcdir)/sql/*.sql))

PG_CPPFLAGS  = -I$(srcdir)/src -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare
SHLIB_LINK   = -lqrencode

TESTS        = $(sort $(wildcard test/sql/*.sql))
REGRESS      = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --load-extension=plum
ISOLATION    = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --load-extension=plum

EXTRA_CLEAN  = results output_iso tmp_check

# no LLVM bitcode: plum has no JIT-inlinable hot spots, and it spares a clang dependency
override with_llvm = no

PG_CONFIG   ?= pg_config
PGXS        := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

plum--$(EXTVERSION).sql: $(SQL_SOURCES)
	cat $^ > $@

# plum_proxy (SPEC, "Scale-out"): its head, plum's own type files (the proxy reads and writes
# plum's types with plum's C code), then the routing and the generator that builds schema plum
# from a shard's catalog at CREATE EXTENSION time (see sql/proxy/)
PROXY_SOURCES = $(srcdir)/sql/proxy/00_head.sql $(srcdir)/sql/10_recipient.sql $(srcdir)/sql/11_wallet.sql \
                $(srcdir)/sql/12_code.sql $(srcdir)/sql/proxy/50_proxy.sql
plum_proxy--$(EXTVERSION).sql: $(PROXY_SOURCES)
	cat $^ > $@

UPGRADE_POST = $(wildcard $(srcdir)/sql/upgrade/0.1.0--$(EXTVERSION).post.sql)
plum--0.1.0--$(EXTVERSION).sql: $(srcdir)/sql/upgrade/0.1.0--$(EXTVERSION).sql $(SQL_SOURCES) $(UPGRADE_POST)
	{ cat $<; \
	  for f in $(SQL_SOURCES); do sed -n '/^-- @new-in $(EXTVERSION) /,/^-- @end$$/p' "$$f"; done; \
	  for f in $(SQL_SOURCES); do sed -n '/^-- @api$$/,$$p' "$$f"; done; \
	  for f in $(UPGRADE_POST); do cat "$$f"; done; } > $@

.PHONY: prove
prove:
	pg_prove --ext .sql -r test/pgtap

# header dependencies: every object includes plum.h; the others as their #include lines say
$(OBJS): src/plum.h
src/money.o src/lots.o src/wallet.o src/wallet_sql.o src/points.o src/codes.o src/bulk.o: src/money.h
src/bulk.o src/bulkinsert.o src/expire.o: src/bulkinsert.h
src/lots.o src/wallet.o src/wallet_sql.o src/points.o: src/wallet.h
src/recipient.o src/points.o: src/recipient.h
src/chain.o: src/chain.h src/code.h src/recipient.h src/wallet.h
src/points.o src/codes.o src/links.o: src/chain.h
src/codes.o src/checkout.o: src/codes.h src/code.h src/money.h
src/points.o src/checkout.o: src/points.h src/wallet.h
src/code.o src/codes.o: src/code.h
src/plum.o src/spi_plans.o src/points.o src/codes.o src/links.o: src/spi_plans.h
src/identity.o src/plum.o src/points.o src/codes.o src/links.o src/expire.o: src/identity.h
src/expire.o: src/chain.h src/money.h src/spi_plans.h src/wallet.h

# static analysis: cppcheck and clang-tidy, quiet on plum's own code (see README)
.PHONY: lint
lint:
	cppcheck --enable=warning,performance,portability --std=c99 --quiet --inline-suppr --error-exitcode=1 \
		-I src -I $(shell $(PG_CONFIG) --includedir-server) --suppress=missingIncludeSystem \
		--suppress='*:/usr/include/*' --suppress='*:$(shell $(PG_CONFIG) --includedir-server)/*' --suppress=toomanyconfigs src/*.c
	clang-tidy --quiet --warnings-as-errors='*' \
		--checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-macro-parentheses,-bugprone-narrowing-conversions,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling' \
		src/*.c -- -I src -I $(shell $(PG_CONFIG) --includedir-server) -D_GNU_SOURCE
