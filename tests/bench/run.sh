#!/bin/bash
# The bench: the module against what it is built on, on one emulator
# (tests/bench/bench.c says what is compared and how).
#   tests/bench/run.sh [--threads 1,4,16] [--rounds 5] [--seconds 1.2]
#                      [--wrap-ops 2000] [--count-ops 20] [--many-keys 1000]
#                      [--rss-ops 100000] [--limits-threads 64] [--limits-seconds 20]
#                      [--workers 2 (the emulator's processes for b and g)]
#                      [--js-sdk install|installed|no]   (g: tests/bench/js.sh)
# (--many-keys, --rss-ops, --limits-threads 0: that part is left out)
# `make bench` runs the full form (bounded: about 4.5 minutes on 2 cores);
# tests/bench/smoke.sh, in `make check`, a short one that runs every code
# path and checks the request counts, never a timing.
# Needs AZKV_TOP_SRCDIR, AZKV_TOP_BUILDDIR and AZKV_MODULE (make sets them).
# Exits non-zero when an operation failed or a request count was wrong, or
# when the count does not see a request too many (the check of the check).
set -u

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
export AZKV_MODULE

threads=1,4,16 rounds=5 seconds=1.2 wrap_ops=2000 count_ops=20
many_keys=1000 rss_ops=100000 limits_threads=64 limits_seconds=20 workers=2 js_sdk=install
while [ $# -gt 1 ]; do
	case $1 in
	--threads) threads=$2 ;;
	--rounds) rounds=$2 ;;
	--seconds) seconds=$2 ;;
	--wrap-ops) wrap_ops=$2 ;;
	--count-ops) count_ops=$2 ;;
	--many-keys) many_keys=$2 ;;
	--rss-ops) rss_ops=$2 ;;
	--limits-threads) limits_threads=$2 ;;
	--limits-seconds) limits_seconds=$2 ;;
	--workers) workers=$2 ;;
	--js-sdk) js_sdk=$2 ;;
	*) break ;;
	esac
	shift 2
done
if [ $# -ne 0 ]; then
	echo "usage: $0 [--threads LIST] [--rounds N] [--seconds S] [--wrap-ops N] [--count-ops N]" \
		"[--many-keys N] [--rss-ops N] [--limits-threads N] [--limits-seconds S] [--workers N]" \
		"[--js-sdk install|installed|no]" >&2
	exit 2
fi

# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"
HARNESS_NAME=bench
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"

# ------------------------------------------------------------------ setup
emu_start "$WORK/emulator" || exit 1
emu_ops_vault bench "$WORK" || exit 1
# Each key's kid (the raw requests' URL) and public half, from the emulator.
keys=()
for k in unwrap rs256 es256; do
	keys+=("--$k" "bench-$k,$(jq -r .kid "$WORK/bench-$k.json"),$WORK/bench-$k.pem")
done
many=()
if [ "$many_keys" -gt 0 ]; then
	# d: a second vault (the module's slot 1) of many EC keys (quick to
	# make), in one request.
	emu_api POST /vaults '{"name": "bench-many"}' >/dev/null &&
		emu_api PUT "/vaults/bench-many/access-policies/$(jq -r .client_id <<<"$APP")" \
			'{"keys": ["get", "list"]}' >/dev/null &&
		emu_api POST /vaults/bench-many/keys "$(jq -cn --argjson n "$many_keys" \
			'{keys: [range(1; $n + 1) | {name: "many-\(.)", kty: "EC", crv: "P-256"}]}')" \
			>/dev/null || exit 1
	emu_write_config "$WORK/bench.json" "$APP" https://bench.vault.azure.net \
		https://bench-many.vault.azure.net && chmod 600 "$WORK/bench.json" || exit 1
	many=(--many-vault https://bench-many.vault.azure.net --many-slot 1 --many-keys "$many_keys")
fi
export AZKV_PKCS11_CONFIG="$WORK/bench.json"
export AZKV_PKCS11_LOG_FILE="$WORK/module.log"

# The raw side's bearer token, once, from the emulator's Entra endpoint as
# the module gets its own (client credentials, the vault's scope).
umask 077
curl -fsS --cacert "$EMU_CA" --connect-to "::127.0.0.1:$EMU_PORT" \
	--data-urlencode grant_type=client_credentials \
	--data-urlencode "client_id=$(jq -r .client_id <<<"$APP")" \
	--data-urlencode "client_secret=$(jq -r .client_secret <<<"$APP")" \
	--data-urlencode scope=https://vault.azure.net/.default \
	"https://login.microsoftonline.com/$(jq -r .tenant_id <<<"$APP")/oauth2/v2.0/token" |
	jq -r .access_token >"$WORK/token" && [ -s "$WORK/token" ] || exit 1

# ------------------------------------------------------------------ g. the JS SDK
# shellcheck source=js.sh
. "$AZKV_TOP_SRCDIR/tests/bench/js.sh"
bench_js_setup "$js_sdk" || exit 1

# ------------------------------------------------------------------ run
echo "# bench: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
	"$(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
	"$(git -C "$AZKV_TOP_SRCDIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
start=$(date +%s)
bench() {
	ours "$AZKV_TOP_BUILDDIR/tests/bench/bench" --port "$EMU_PORT" --ca "$EMU_CA" \
		--vault https://bench.vault.azure.net --token-file "$WORK/token" "${keys[@]}" "$@"
}
# Everything but b, e and g, on the emulator as it runs: one process, whose
# request log, faults and limits are the ones the driver reads and sets.
bench --wrap-ops "$wrap_ops" --count-ops "$count_ops" "${many[@]}" \
	--limits-threads "$limits_threads" --limits-seconds "$limits_seconds" \
	--parts cold,counts,wrap,find,limits 2>"$WORK/bench.err"
rc=$?

# The count itself: with the emulator answering one RS256 sign 503 (the
# module sends it again), c must find one vault request too many and fail.
emu_api POST /faults '{"service": "keyvault", "method": "POST", "status": 503, "count": 1,
	"path_regex": "^/keys/bench-rs256/[^/]+/sign$"}' >/dev/null || exit 1
bench --count-ops 2 --parts counts >"$WORK/checker.out" 2>&1
checker_rc=$?
if [ "$checker_rc" -ne 1 ] || ! grep -q '^sign_rs256: 3 vault requests .* WRONG$' "$WORK/checker.out"; then
	echo "# the count missed a retried request (exit $checker_rc):"
	sed 's/^/#   /' "$WORK/checker.out"
	rc=1
fi

# b, e and g: the same state on the same port (the module's configuration
# and the token stay valid) served by --workers processes, so that the
# Python emulator, one request at a time per process, is less the
# bottleneck of a comparison between two clients (and e's 100,000 round
# trips take half the time).
port=$EMU_PORT
emu_stop
# The vault also answers on https://localhost:PORT for the JS SDK (g),
# which has no --connect-to.
# A process serves a connection for as long as it lives, so connections
# placed unevenly would cap one side's rounds and not the other's: an idle
# timeout shorter than a round (1 s) closes each side's connections while
# the other side runs, and every round places its own anew.
emu_start "$WORK/emulator" --port "$port" --workers "$workers" --idle-timeout 1 \
	--localhost-vault bench || exit 1
echo "# b, e and g run against the emulator in $workers processes (serve --workers $workers)"
bench --threads "$threads" --rounds "$rounds" --seconds "$seconds" --rss-ops "$rss_ops" \
	--parts rss,remote,js \
	"${js_args[@]}" 2>>"$WORK/bench.err" || rc=1
echo "# wall: $(($(date +%s) - start)) s"
if [ "$rc" -ne 0 ]; then
	failed=1
	echo "# the driver's messages:"
	sed 's/^/#   /' "$WORK/bench.err"
	echo "# the module's log:"
	tail -20 "$WORK/module.log" 2>/dev/null | sed 's/^/#   /'
	exit 1
fi
