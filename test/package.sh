#!/usr/bin/env bash
# test/package.sh — the Debian package postgresql-15-plum and the PGXN META.json.
#
#   test/package.sh                # as root: build, check, install, try, remove
#   test/package.sh --no-install   # build and check only; the system is left alone
#
# Checks that plum.control's default_version, META.json's versions and
# debian/changelog's upstream version agree, and that META.json follows the
# PGXN Meta spec 1.0.0.  Builds the package with dpkg-buildpackage -us -uc -b
# in a copy of the work tree (the tree itself is left untouched), checks that
# it holds every file "make install" installs, installs it with apt-get,
# creates the extension on a throwaway cluster (pg_virtualenv), then removes
# the package and puts back the plum files it replaced (from a source build).
#
# Installs what it needs with apt-get, only if missing.  Prints one PASS or
# FAIL line per check and ends with "N passed, N failed"; exits non-zero if
# any check failed.  test/run runs it last, after its cluster section.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/lib.sh
. "$REPO/test/lib.sh"

INSTALL=1
case "${1:-}" in
	--no-install) INSTALL=0 ;;
	"") ;;
	*) plum_die "usage: test/package.sh [--no-install]" ;;
esac

PGV=$PLUM_PGVERSION
PKG=postgresql-$PGV-plum
BUILD_PACKAGES=(dpkg-dev debhelper postgresql-server-dev-all "postgresql-server-dev-$PGV"
	libqrencode-dev make gcc python3 "postgresql-$PGV")

# pass, fail, check, finish: the suite's shared helpers
# shellcheck source=test/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
# status_is STATUS NAME: PASS when a command's status is 0
status_is() {
	if [ "$1" = 0 ]; then pass "$2"; else fail "$2"; fi
}
# same ACTUAL EXPECTED NAME
same() {
	if [ "$1" = "$2" ]; then pass "$3 ($1)"; else fail "$3: '$1', expected '$2'"; fi
}

WORK=$(mktemp -d -t plum-package.XXXXXX)
chmod 755 "$WORK"	# apt's _apt user reads the .deb from here
INSTALLED=0
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if [ "$INSTALLED" = 1 ]; then
		remove_package >/dev/null 2>&1 || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
plum_step "versions: plum.control, META.json, debian/changelog"
VERSION=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "$REPO/plum.control")
[ -n "$VERSION" ] || plum_die "no default_version in plum.control"
echo "default_version in plum.control: $VERSION"

if [ "$(id -u)" = 0 ]; then
	PLUM_PACKAGES=("${BUILD_PACKAGES[@]}")
	plum_ensure_packages
else
	[ "$INSTALL" = 0 ] || plum_die "run as root (it installs the package), or use --no-install"
fi

# the upstream part of the Debian version: no epoch, no Debian revision
debver=$(cd "$REPO" && dpkg-parsechangelog -S Version)
upstream=${debver#*:}
upstream=${upstream%-*}
same "$upstream" "$VERSION" "debian/changelog's upstream version ($debver) is default_version"

# ---------------------------------------------------------------------------
plum_step "META.json: PGXN Meta spec 1.0.0"
if python3 -m json.tool "$REPO/META.json" >/dev/null; then
	pass "META.json is valid JSON"
	# one PASS/FAIL line per check, from the spec's required keys and plum's own facts
	status=0
	python3 - "$REPO" "$VERSION" "$PGV" >"$WORK/meta.log" 2>&1 <<'PY' || status=$?
import json, os, re, sys
repo, version, pgv = sys.argv[1:4]
meta = json.load(open(os.path.join(repo, "META.json")))
def check(ok, name):
    print(("PASS: " if ok else "FAIL: ") + name)
for key in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
    check(key in meta, "META.json has the required key %r" % key)
check(meta.get("name") == "plum", "META.json name is plum")
check(meta.get("version") == version, "META.json version %r is default_version" % meta.get("version"))
check(re.fullmatch(r"\d+\.\d+\.\d+", str(meta.get("version"))) is not None,
      "META.json version is a semantic version")
spec = meta.get("meta-spec", {})
check(spec.get("version") == "1.0.0", "META.json meta-spec version is 1.0.0")
licenses = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
            "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
            "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay",
            "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown"}
lic = meta.get("license")
ok = lic in licenses if isinstance(lic, str) else isinstance(lic, (list, dict)) and len(lic) > 0
check(ok, "META.json license %r is one the spec knows" % (lic,))
maint = meta.get("maintainer")
check(isinstance(maint, (str, list)) and len(maint) > 0, "META.json has a maintainer")
plum = meta.get("provides", {}).get("plum", {})
check(plum.get("version") == version, "META.json provides plum version %r is default_version" % plum.get("version"))
check("file" in plum and os.path.isfile(os.path.join(repo, plum["file"])),
      "META.json provides plum file %r exists" % plum.get("file"))
check("docfile" not in plum or os.path.isfile(os.path.join(repo, plum["docfile"])),
      "META.json provides plum docfile %r exists" % plum.get("docfile"))
check(bool(plum.get("abstract")), "META.json provides plum has an abstract")
pg = meta.get("prereqs", {}).get("runtime", {}).get("requires", {}).get("PostgreSQL")
check(pg == pgv + ".0.0", "META.json requires PostgreSQL %r" % pg)
PY
	while IFS= read -r line; do
		case "$line" in
			PASS:*) pass "${line#PASS: }" ;;
			FAIL:*) fail "${line#FAIL: }" ;;
			*) echo "$line" ;;
		esac
	done <"$WORK/meta.log"
	status_is "$status" "the META.json checks ran (exit status $status)"
else
	fail "META.json is valid JSON"
fi

# ---------------------------------------------------------------------------
plum_step "build: dpkg-buildpackage -us -uc -b in a copy of the tree"
SRC=$WORK/plum
mkdir -p "$SRC"
# the work tree as it is (tracked and untracked files, not ignored ones, not .git)
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	BEFORE=$(git -C "$REPO" status --porcelain --ignored)
	(cd "$REPO" && git ls-files -z -c -o --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$SRC"
else
	BEFORE=
	tar -C "$REPO" --exclude=.git -cf - . | tar -xf - -C "$SRC"
fi
t0=$SECONDS
status=0
(cd "$SRC" && dpkg-buildpackage -us -uc -b </dev/null) >"$WORK/build.log" 2>&1 || status=$?
echo "dpkg-buildpackage took $((SECONDS - t0))s (exit status $status)"
shopt -s nullglob
debs=("$WORK/${PKG}_"*.deb)
shopt -u nullglob
if [ "$status" != 0 ] || [ "${#debs[@]}" != 1 ]; then
	tail -n 40 "$WORK/build.log"
	fail "dpkg-buildpackage builds $PKG (exit status $status, ${#debs[@]} package files)"
	finish
fi
DEB=${debs[0]}
pass "dpkg-buildpackage builds $(basename "$DEB")"
if [ -n "$BEFORE" ] || git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	same "$(git -C "$REPO" status --porcelain --ignored | md5sum | cut -c1-12)" \
		"$(printf '%s\n' "$BEFORE" | sed '/^$/d' | md5sum | cut -c1-12)" \
		"the package build leaves the work tree as it was (git status digest)"
fi
same "$(dpkg-deb -f "$DEB" Version)" "$debver" "the package's version is debian/changelog's"

# ---------------------------------------------------------------------------
plum_step "contents: dpkg-deb -c against make install"
dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's|^\./|/|' | sort >"$WORK/deb.list"
# what "make install" installs, from another copy of the tree
mkdir -p "$WORK/plain"
tar -C "$SRC" --exclude=./debian -cf - . | tar -xf - -C "$WORK/plain"
PG_CONFIG=$PLUM_PG_CONFIG
if (cd "$WORK/plain" && make -s clean PG_CONFIG="$PG_CONFIG" && make -s PG_CONFIG="$PG_CONFIG" &&
	make -s install DESTDIR="$WORK/stage" PG_CONFIG="$PG_CONFIG") >"$WORK/make.log" 2>&1; then
	(cd "$WORK/stage" && find . -type f | sed 's|^\.||' | sort) >"$WORK/make.list"
else
	tail -n 20 "$WORK/make.log"
	: >"$WORK/make.list"
fi
LIBDIR=$("$PG_CONFIG" --pkglibdir)
EXTDIR=$("$PG_CONFIG" --sharedir)/extension
for f in "$LIBDIR/plum.so" "$EXTDIR/plum.control" "$EXTDIR/plum--$VERSION.sql"; do
	grep -qxF "$f" "$WORK/deb.list"
	status_is $? "the package holds $f"
done
[ -s "$WORK/make.list" ]
status_is $? "make install into a staging directory installs files ($(wc -l <"$WORK/make.list"))"
while IFS= read -r f; do
	grep -qxF "$f" "$WORK/deb.list"
	status_is $? "the package holds $f (make install)"
done <"$WORK/make.list"
# and nothing for the server that make install does not install
while IFS= read -r f; do
	grep -qxF "$f" "$WORK/make.list"
	status_is $? "$f in the package comes from make install"
done < <(grep -E "^($LIBDIR|$EXTDIR)/[^/]+$" "$WORK/deb.list")

if [ "$INSTALL" = 0 ]; then
	echo "--no-install: not installing the package"
	finish
fi

# ---------------------------------------------------------------------------
plum_step "install: apt-get install ./$(basename "$DEB")"
# the plum files the package replaces (a source build's), put back after removal
SAVED=$WORK/saved
mkdir -p "$SAVED"
while IFS= read -r f; do
	if [ -f "$f" ]; then
		mkdir -p "$SAVED$(dirname "$f")"
		cp -p "$f" "$SAVED$f"
	fi
done < <(grep -E "^($LIBDIR|$EXTDIR)/" "$WORK/deb.list")
if dpkg-query -W -f='${Status}\n' "$PKG" 2>/dev/null | grep -q 'ok installed'; then
	fail "$PKG is not installed before the test (it is: leaving it alone)"
	finish
fi

# remove_package: dpkg -r, waiting for another apt or dpkg to finish
remove_package() {
	local tries out
	for tries in $(seq 150 -1 1); do
		if out=$(dpkg -r "$PKG" 2>&1); then
			echo "$out"
			INSTALLED=0
			# put back what a source build had installed
			if [ -n "$(ls -A "$SAVED")" ]; then
				cp -a "$SAVED/." /
			fi
			return 0
		fi
		echo "$out"
		# another apt-get or dpkg holds the lock: wait for it (up to 5 minutes)
		[[ "$out" == *lock* ]] && [ "$tries" -gt 1 ] || return 1
		sleep 2
	done
	return 1
}

INSTALLED=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 \
	-o DPkg::Lock::Timeout=300 "$DEB" </dev/null >"$WORK/install.log" 2>&1
status=$?
[ "$status" = 0 ] || tail -n 20 "$WORK/install.log"
status_is "$status" "apt-get install ./$(basename "$DEB")"
dpkg-query -W -f='${Status} ${Version}\n' "$PKG" 2>/dev/null | grep -qx "install ok installed $debver"
status_is $? "$PKG $debver is installed"
[ "$(dpkg -S "$LIBDIR/plum.so" 2>/dev/null | cut -d: -f1)" = "$PKG" ]
status_is $? "$LIBDIR/plum.so belongs to $PKG"
out=$(dpkg --verify "$PKG" 2>&1)
[ -z "$out" ]
status_is $? "dpkg --verify $PKG: the files on disk are the package's${out:+ ($out)}"

# ---------------------------------------------------------------------------
plum_step "cluster: CREATE EXTENSION plum from the package"
cat >"$WORK/inside.sh" <<'EOF'
#!/usr/bin/env bash
# run by pg_virtualenv: one PASS or FAIL line per check
set -uo pipefail
VERSION=$1
psql=(psql -X -A -t -q -v ON_ERROR_STOP=1 -d postgres)
say() { if [ "$1" = 0 ]; then echo "PASS: $2"; else echo "FAIL: $2"; fi; }
"${psql[@]}" -c 'CREATE EXTENSION plum'
say $? "CREATE EXTENSION plum"
v=$("${psql[@]}" -c "SELECT extversion FROM pg_extension WHERE extname = 'plum'")
[ "$v" = "$VERSION" ]
say $? "extversion is default_version ($v, expected $VERSION)"
a=$("${psql[@]}" -c "SELECT count(*) FROM pg_available_extension_versions WHERE name = 'plum' AND version = '$VERSION'")
[ "$a" = 1 ]
say $? "pg_available_extension_versions lists plum $VERSION"
id=$("${psql[@]}" -c "SELECT plum.create_company('Pkg', 'EUR')")
[[ "$id" =~ ^[0-9]+$ ]]
say $? "SELECT plum.create_company('Pkg', 'EUR') returns an id (${id:-none})"
n=$("${psql[@]}" -c 'SELECT count(*) FROM plum.verify()')
[ "$n" = 0 ]
say $? "SELECT count(*) FROM plum.verify() is 0 (${n:-error})"
"${psql[@]}" -c 'DROP EXTENSION plum CASCADE'
say $? "DROP EXTENSION plum CASCADE"
EOF
pg_virtualenv -t -v "$PGV" -i "--encoding=UTF8 --locale=C.UTF-8" \
	bash "$WORK/inside.sh" "$VERSION" </dev/null >"$WORK/cluster.log" 2>&1
status=$?
while IFS= read -r line; do
	case "$line" in
		PASS:*) pass "${line#PASS: }" ;;
		FAIL:*) fail "${line#FAIL: }" ;;
		*) echo "$line" ;;
	esac
done <"$WORK/cluster.log"
status_is "$status" "pg_virtualenv -v $PGV ran the checks (exit status $status)"

# ---------------------------------------------------------------------------
plum_step "remove: dpkg -r $PKG"
[ -n "$(ls -A "$SAVED")" ] && echo "then put back the source build's files: $(cd "$SAVED" && find . -type f | sed 's|^\.||' | tr '\n' ' ')"
remove_package >"$WORK/remove.log" 2>&1
status=$?
[ "$status" = 0 ] || tail -n 20 "$WORK/remove.log"
status_is "$status" "dpkg -r $PKG"
! dpkg-query -W -f='${Status}\n' "$PKG" 2>/dev/null | grep -q 'ok installed'
status_is $? "$PKG is no longer installed"
if [ -z "$(ls -A "$SAVED")" ]; then
	[ ! -e "$LIBDIR/plum.so" ]
	status_is $? "$LIBDIR/plum.so is gone"
else
	cmp -s "$SAVED$LIBDIR/plum.so" "$LIBDIR/plum.so" 2>/dev/null ||
		{ [ ! -e "$SAVED$LIBDIR/plum.so" ] && [ ! -e "$LIBDIR/plum.so" ]; }
	status_is $? "the source build's plum files are back"
fi

finish
