#!/bin/bash
# The soak: unwraps and signs through the module, over many threads, while
# the emulator fails a share of the vault's answers (azkvemu/faults.py, in
# equal parts: 429 with Retry-After, 503, connection reset, truncated
# body, slow answer). Every result is checked locally (tests/soak/soak.c).
#   tests/soak/run.sh [--ops 10000] [--threads 8] [--fault-rate 0.05]
#                     [--seed 1] [--seconds 600] [--slow-ms 1500]
# `make soak` runs the full form; scripts/test.sh a short one (--ops 1000).
# Needs AZKV_TOP_SRCDIR, AZKV_TOP_BUILDDIR and AZKV_MODULE (make sets them).
# Prints the driver's figures, then the emulator's: retries (requests the
# module sent for the operations, minus the operations; libcurl's own
# resend of a request whose reused connection died before any answer byte,
# as after an injected reset, counts too) and the faults it injected. Exits non-zero when a result was wrong, a failure was not a
# clean CKR_* (see clean_codes in soak.c), the workload crashed or hung, or
# no fault was injected at all.
set -u

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
export AZKV_MODULE

ops=10000 threads=8 rate=0.05 seed=1 seconds=600 slow_ms=1500
while [ $# -gt 1 ]; do
	case $1 in
	--ops) ops=$2 ;;
	--threads) threads=$2 ;;
	--fault-rate) rate=$2 ;;
	--seed) seed=$2 ;;
	--seconds) seconds=$2 ;;
	--slow-ms) slow_ms=$2 ;;
	*) break ;;
	esac
	shift 2
done
if [ $# -ne 0 ]; then
	echo "usage: $0 [--ops N] [--threads T] [--fault-rate F] [--seed S] [--seconds CAP] [--slow-ms MS]" >&2
	exit 2
fi

# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"
HARNESS_NAME=soak
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"

# ------------------------------------------------------------------ setup
emu_start "$WORK/emulator" || exit 1
# The vault, identity and keys; the public keys the results are checked
# with come from the emulator, not through the module.
emu_ops_vault soak "$WORK" || exit 1
export AZKV_PKCS11_CONFIG="$WORK/soak.json"
export AZKV_PKCS11_LOG_FILE="$WORK/module.log"

# The faults: the operations' requests only (POST .../unwrapkey, .../sign),
# so that loading the module and listing the keys go through; five kinds in
# equal shares of the rate.
share=$(awk -v r="$rate" 'BEGIN { printf "%.6f", r / 5 }')
for kind in '"status": 429, "retry_after": 1' '"status": 503' '"kind": "reset"' \
	'"kind": "truncate"' "\"kind\": \"slow\", \"delay_ms\": $slow_ms"; do
	emu_api POST /faults "{\"service\": \"keyvault\", \"method\": \"POST\",
		\"path_regex\": \"^/keys/[^/]+/[^/]+/(unwrapkey|sign)$\",
		\"probability\": $share, $kind}" >/dev/null || exit 1
done
emu_api PUT /faults/seed "{\"seed\": $seed}" >/dev/null || exit 1

# ------------------------------------------------------------------ run
echo "# soak: $ops operations over $threads threads, fault rate $rate (seed $seed), cap $seconds s"
ours "$AZKV_TOP_BUILDDIR/tests/soak/soak" --ops "$ops" --threads "$threads" --seconds "$seconds" \
	--unwrap "soak-unwrap=$WORK/soak-unwrap.pem" --rs256 "soak-rs256=$WORK/soak-rs256.pem" \
	--es256 "soak-es256=$WORK/soak-es256.pem" >"$WORK/soak.out" 2>"$WORK/soak.err"
rc=$?
cat "$WORK/soak.out"

# ------------------------------------------------------------------ the emulator's count
stats=$(emu_api GET /faults/stats) && rules=$(emu_api GET /faults) || exit 1
done_ops=$(sed -n 's/^operations: \([0-9]*\).*/\1/p' "$WORK/soak.out")
# Every rule matches the same requests, so any one's `seen` counts them all.
requests=$(jq '.value[0].seen' <<<"$rules")
injected=$(jq '.injected_total' <<<"$stats")
echo "retries: $((requests - ${done_ops:-0})) (requests $requests - operations ${done_ops:-0})"
echo "faults_injected: $injected ($(jq -r '.injected | to_entries | sort_by(.key) |
	map("\(.key) \(.value)") | join(", ")' <<<"$stats"); rate $rate, seed $(jq .seed <<<"$stats"))"

if [ "$rc" -eq 0 ] && [ "$injected" -eq 0 ] && [ "$share" != "0.000000" ]; then
	echo "# no fault was injected: the soak tested nothing"
	rc=1
fi

# The checker itself: RS256 signatures checked with another key's public
# half must all count as wrong, and fail the driver.
emu_api DELETE /faults >/dev/null || exit 1
"$AZKV_TOP_BUILDDIR/tests/soak/soak" --ops 4 --threads 2 --seconds 60 \
	--rs256 "soak-rs256=$WORK/soak-unwrap.pem" >"$WORK/checker.out" 2>&1
checker_rc=$?
if [ "$checker_rc" -ne 1 ] || ! grep -q '^wrong_results: 4$' "$WORK/checker.out"; then
	echo "# the checker missed signatures that do not verify (exit $checker_rc):"
	sed 's/^/#   /' "$WORK/checker.out"
	rc=1
fi
if [ "$rc" -ne 0 ]; then
	failed=1
	echo "# the driver's messages:"
	sed 's/^/#   /' "$WORK/soak.err"
	echo "result: FAIL"
	exit 1
fi
echo "result: PASS"
