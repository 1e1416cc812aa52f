# shellcheck shell=bash
# test/lib.sh — shell helpers shared by test/run and demo/run (sourced, not run).
#
# Provides: the PostgreSQL 15 paths, progress messages, the package check and
# install (Debian 12, as root), and the build + install of plum from the repo.

PLUM_PGVERSION=15
PLUM_PGBIN=/usr/lib/postgresql/$PLUM_PGVERSION/bin
PLUM_PG_CONFIG=$PLUM_PGBIN/pg_config

# Debian packages the test suite and the demo need
PLUM_PACKAGES=(
	"postgresql-$PLUM_PGVERSION"
	"postgresql-server-dev-$PLUM_PGVERSION"
	"postgresql-$PLUM_PGVERSION-pgtap"
	libtap-parser-sourcehandler-pgtap-perl
	"postgresql-$PLUM_PGVERSION-cron"
	libqrencode-dev
	zbar-tools
	librsvg2-bin
	sqlsmith
	make
	gcc
)

# One locale everywhere, so outputs do not depend on the machine's settings
# (C.UTF-8 ships with Debian's libc, no locale generation needed).
export LC_ALL=C.UTF-8 LANG=C.UTF-8
unset LANGUAGE

# plum_step MESSAGE: announce what happens next
plum_step() {
	printf '\n==> %s\n' "$*"
}

# plum_die MESSAGE: print an error and leave
plum_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# plum_missing_packages: print the packages of PLUM_PACKAGES not installed
plum_missing_packages() {
	local p
	for p in "${PLUM_PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
			printf '%s\n' "$p"
		fi
	done
}

# plum_ensure_packages: install what is missing (apt-get update only then)
plum_ensure_packages() {
	local missing
	command -v dpkg-query >/dev/null 2>&1 ||
		plum_die "this script expects Debian 12 (dpkg-query not found)"
	missing=$(plum_missing_packages | tr '\n' ' ')
	missing=${missing% }
	if [ -z "$missing" ]; then
		plum_step "packages: all present"
		plum_ensure_socket_dir
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		plum_die "missing packages: $missing
  Run this script as root (it installs them with apt-get), or install them first:
  apt-get install -y $missing"
	fi
	plum_step "packages: installing $missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq </dev/null
	# shellcheck disable=SC2086 # one word per package
	apt-get install -y -qq -o Dpkg::Use-Pty=0 $missing </dev/null >/dev/null
	missing=$(plum_missing_packages | tr '\n' ' ')
	[ -z "$missing" ] || plum_die "packages still missing after apt-get install: $missing"
	plum_ensure_socket_dir
}

# plum_ensure_socket_dir: the servers' socket directory (a tmpfs that a
# container may have lost since the packages were installed)
plum_ensure_socket_dir() {
	if [ "$(id -u)" = 0 ] && [ ! -d /var/run/postgresql ]; then
		install -d -o postgres -g postgres -m 2775 /var/run/postgresql
	fi
}

# plum_build_install: make clean && make && make install, against PostgreSQL 15
plum_build_install() {
	local pkglibdir
	[ -x "$PLUM_PG_CONFIG" ] || plum_die "$PLUM_PG_CONFIG not found (postgresql-server-dev-$PLUM_PGVERSION)"
	pkglibdir=$("$PLUM_PG_CONFIG" --pkglibdir)
	if [ ! -w "$pkglibdir" ]; then
		plum_die "cannot write to $pkglibdir: run as root, since 'make install' puts plum there"
	fi
	plum_step "build: make clean && make && make install (PG_CONFIG=$PLUM_PG_CONFIG)"
	make -s clean PG_CONFIG="$PLUM_PG_CONFIG" >/dev/null
	make -s -j"$(nproc 2>/dev/null || echo 2)" PG_CONFIG="$PLUM_PG_CONFIG"
	make install PG_CONFIG="$PLUM_PG_CONFIG" >/dev/null
	echo "installed plum $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" plum.control) into $pkglibdir"
}

# PLUM_VIRTUALENV_ARGS: the pg_virtualenv options for a throwaway PostgreSQL 15
# cluster with pg_cron preloaded.  -t keeps the cluster in a temporary
# directory even as root, so runs never collide on /etc/postgresql/15/regress.
# shellcheck disable=SC2034 # used by the scripts that source this file
PLUM_VIRTUALENV_ARGS=(
	-t
	-v "$PLUM_PGVERSION"
	-i "--encoding=UTF8 --locale=C.UTF-8"
	-o shared_preload_libraries=pg_cron
	-o cron.database_name=postgres
	-o timezone=UTC
)
