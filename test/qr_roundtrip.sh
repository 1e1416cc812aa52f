#!/usr/bin/env bash
# test/qr_roundtrip.sh — a real decoder reads plum.qr_svg()'s symbols back to exactly the text.
#
# For each input: plum.qr_svg() on the server named by the usual PG* variables
# (a database with plum installed), rsvg-convert (librsvg2-bin) to PNG, then
# zbarimg (zbar-tools) twice:
#
#   binary  zbarimg --raw -q -Sbinary   the symbol's bytes, untouched
#   text    zbarimg --raw -q            the text as a reader shows it (zbar
#                                       honours the UTF-8 ECI; without it, it
#                                       guesses, and reads a lone "é" as Shift-JIS)
#
# Both must equal the input's UTF-8 bytes exactly (the text mode ends with one
# newline, which is removed).  The input goes to the server as hex, so no
# quoting or client encoding stands between the bytes and plum.qr_svg().
# Prints one PASS or FAIL line per check and a count; exits non-zero if any
# check failed.  test/run runs it inside its throwaway cluster.
set -uo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/psql" ] || PGBIN=$(dirname "$(command -v psql)")
PSQL=("$PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1)
WORK=$(mktemp -d -t plum-qr.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=test/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

# hex: stdin as lower-case hex, one line
hex() {
	od -An -v -tx1 | tr -d ' \n'
}

# svg_of FILE OUT: plum.qr_svg() of FILE's bytes into OUT
svg_of() {
	"${PSQL[@]}" -c "SELECT plum.qr_svg(convert_from(decode('$(hex <"$1")', 'hex'), 'UTF8'))" >"$2"
}

# decode PNG MODE OUT: zbarimg's reading of PNG (MODE binary or text) into OUT; its status
decode() {
	local png=$1 mode=$2 out=$3 status=0
	if [ "$mode" = binary ]; then
		zbarimg --raw -q -Sbinary "$png" >"$out" 2>"$WORK/zbarimg.err" || status=$?
	else
		zbarimg --raw -q "$png" >"$out.nl" 2>"$WORK/zbarimg.err" || status=$?
		# text mode ends each symbol with a newline: remove exactly one
		if [ "$status" = 0 ] && [ "$(tail -c 1 "$out.nl" | hex)" = 0a ]; then
			head -c -1 "$out.nl" >"$out"
		else
			cp "$out.nl" "$out"
		fi
	fi
	return "$status"
}

# show FILE: the start of a file's bytes, for a FAIL line
show() {
	head -c 60 "$1" | od -An -c | tr -s ' \n' ' ' | head -c 200
}

# roundtrip NAME TEXT: the symbol of TEXT reads back as TEXT, in both modes
roundtrip() {
	local name=$1 n=$((${#INPUTS[@]})) base mode
	base=$WORK/$(printf '%02d' "$n")
	INPUTS+=("$name")
	printf '%s' "$2" >"$base.txt"
	if ! svg_of "$base.txt" "$base.svg" 2>"$base.err"; then
		fail "$name ($(wc -c <"$base.txt") bytes): plum.qr_svg() failed: $(head -n 1 "$base.err")"
		return
	fi
	if ! rsvg-convert --background-color=white -o "$base.png" "$base.svg" 2>"$base.err"; then
		fail "$name: rsvg-convert failed: $(grep -v -i 'dbus\|connection' "$base.err" | head -n 1)"
		return
	fi
	for mode in binary text; do
		if ! decode "$base.png" "$mode" "$base.$mode"; then
			fail "$name: zbarimg ($mode) read no symbol"
		elif cmp -s "$base.txt" "$base.$mode"; then
			pass "$name ($(wc -c <"$base.txt") bytes, $mode)"
		else
			fail "$name ($mode): read $(wc -c <"$base.$mode") bytes [$(show "$base.$mode")], expected $(wc -c <"$base.txt") [$(show "$base.txt")]"
		fi
	done
}

INPUTS=()
for tool in "$PGBIN/psql" rsvg-convert zbarimg; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		fail "$tool not found (packages librsvg2-bin and zbar-tools)"
	fi
done
[ "$nfail" = 0 ] || finish "qr round trip"
if [ "$("${PSQL[@]}" -c "SELECT to_regprocedure('plum.qr_svg(text)') IS NOT NULL" 2>&1)" != t ]; then
	fail "plum.qr_svg(text) not found in database ${PGDATABASE:-(default)}"
	finish "qr round trip"
fi

# a long message of about 1,000 bytes, several lines, ASCII and not
long=''
for i in $(seq 1 10); do
	long+="Line $i: Dear Ana, your reward of 25.00 € is ready — code 7K3M-Q9XA-2BCD-S, valid until 2026-12-31."$'\n'
done
# the largest ASCII symbol: 2,331 bytes (version 40), every printable character
largest=''
while [ "${#largest}" -lt 2331 ]; do
	largest+=$(printf '%s' ' !"#$%&'"'"'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~')
done
largest=${largest:0:2331}
# the largest symbol that is not all ASCII: 2,330 bytes (the UTF-8 ECI takes the 2,331st)
largest_utf8=''
while [ "$(printf '%s' "$largest_utf8" | wc -c)" -lt 2310 ]; do
	largest_utf8+='Grüße, 漢字 🎉 '
done
largest_utf8+=$(printf '%*s' $((2330 - $(printf '%s' "$largest_utf8" | wc -c))) '' | tr ' ' x)

roundtrip "one character" 'A'
roundtrip "plum code" '7K3M-Q9XA-2BCD-S'
roundtrip "link" 'https://rewards.example/l/Zk3_x9Qa-Lm2Np4Rs6Tu8Vw0Xy1Ab3Cd'
roundtrip "long message" "$long"
roundtrip "accents" 'Café crème brûlée, naïve façade, Straße, Øresund, señor'
roundtrip "one accented letter" 'é'
roundtrip "CJK" '漢字かな交じり文、한국어, 中文'
roundtrip "emoji" '🎉🎁✨ thank you 👍🏽'
roundtrip "spaces" '  leading, inner   and trailing spaces  '
roundtrip "quotes and backslash" "It's \"quoted\", \`back\` and \\ back\\slash"
roundtrip "markup" '<a href="https://x.test/?a=1&b=2">Tom & Jerry</a> &amp; <![CDATA[x]]>'
roundtrip "control characters" $'tab\there\r\nnew line'
roundtrip "largest ASCII symbol" "$largest"
roundtrip "largest UTF-8 symbol" "$largest_utf8"

# and the decoder is not one that reads anything: a symbol without its dark modules reads nothing
svg_of "$WORK/00.txt" "$WORK/blank.svg" 2>/dev/null
sed -i 's/ d="[^"]*"/ d=""/' "$WORK/blank.svg"
if rsvg-convert --background-color=white -o "$WORK/blank.png" "$WORK/blank.svg" 2>/dev/null &&
	! zbarimg --raw -q -Sbinary "$WORK/blank.png" >/dev/null 2>&1; then
	pass "a blank symbol reads nothing"
else
	fail "a blank symbol read as something, or could not be drawn"
fi

finish "qr round trip"
