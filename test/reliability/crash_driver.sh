#!/usr/bin/env bash
# test/reliability/crash_driver.sh ID DB DIR — one client of the crash test.
#
# Issues keyed plum calls (give_points, redeem_points, reverse_redemption, redeem_codes),
# one psql per call, until DIR/stop exists.  Before each call it appends the key's intent
# (key, operation, the exact SQL) to DIR/intent.ID; after it, the outcome to
# DIR/outcome.ID: ok + result, err + SQLSTATE, or unknown (the connection broke: the
# call may or may not have committed).  Needs DIR/ids (a1 c1) and DIR/codes (one a line).
set -u
ID=$1 DB=$2 DIR=$3
read -r A1 C1 <"$DIR/ids"
mapfile -t CODES <"$DIR/codes"
PSQL=(psql -X -A -t -q -v VERBOSITY=sqlstate -d "$DB")
redeemed=()		# redemption ids this driver made (for reversals)
n=0
while [ ! -e "$DIR/stop" ]; do
	n=$((n + 1))
	key="crash-$ID-$n"
	r="u$((RANDOM % 300 + 1))@bank.test"
	cents=$((RANDOM % 3000 + 1))
	amount=$(printf '%d.%02d' $((cents / 100)) $((cents % 100)))
	pick=$((RANDOM % 10))
	if [ "$pick" -ge 6 ] && [ "$pick" -le 7 ] && [ "${#redeemed[@]}" = 0 ]; then
		pick=3
	fi
	case $pick in
	0 | 1 | 2)
		op=give
		sql="SELECT plum.give_points($A1, '$r', $amount, 'crash', '$key')" ;;
	3 | 4 | 5)
		op=redeem
		sql="SELECT plum.redeem_points($C1, '$r', $amount, 'crash', '$key')" ;;
	6 | 7)
		op=reverse
		sql="SELECT plum.reverse_redemption(${redeemed[RANDOM % ${#redeemed[@]}]}, $((RANDOM % 5 + 1)), '$key')" ;;
	*)
		op=codes
		sql="SELECT * FROM plum.redeem_codes(ARRAY['${CODES[RANDOM % ${#CODES[@]}]}']::plum.code[], $amount, NULL, 'crash', '$key')" ;;
	esac
	printf '%s\t%s\t%s\n' "$key" "$op" "$sql" >>"$DIR/intent.$ID"
	out=$("${PSQL[@]}" -c "SELECT rel.tick_session()" -c "$sql" 2>"$DIR/stderr.$ID")
	status=$?
	err=$(<"$DIR/stderr.$ID")
	if [ "$status" = 0 ] && [ -z "$err" ]; then
		res=$(printf '%s\n' "$out" | tail -n 1)
		printf '%s\tok\t%s\n' "$key" "$res" >>"$DIR/outcome.$ID"
		[ "$op" = redeem ] && redeemed+=("$res")
	elif [[ "$err" =~ ^ERROR:\ \ ([0-9A-Z]{5})$ ]]; then
		printf '%s\terr\t%s\n' "$key" "${BASH_REMATCH[1]}" >>"$DIR/outcome.$ID"
	else
		printf '%s\tunknown\t%s\n' "$key" "$(printf '%s' "$err" | tr '\t\n' '  ' | cut -c1-200)" >>"$DIR/outcome.$ID"
		sleep 0.2
	fi
done
