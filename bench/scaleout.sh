#!/usr/bin/env bash
# bench/scaleout.sh — the scale-out row (issue 14): plum.redeem_points with 8 clients through
# plum_proxy (PL/Proxy) against the same call directly on the shard (goal >= 0.5x).
#
#   bench/scaleout.sh [SECONDS]      (default 15 per side)
#
# Two shards and a proxy on throwaway clusters of a private PostgreSQL copy (fsync on), set up by
# test/scaleout/run, which installs postgresql-15-plproxy if missing; prints one markdown row.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$(dirname "$here")/test/scaleout/run" --bench "${1:-15}"
