#!/bin/bash
# Runs the libFuzzer harnesses (tests/fuzz/fuzz_*.c) of a build configured
# with --enable-fuzzing, each for a bounded time, one process each:
#   tests/fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]   (default: all)
# make fuzz-smoke and make fuzz call it. Each harness starts from the
# committed seeds (tests/fuzz/corpus/HARNESS, only read) and its own
# working corpus (BUILD_DIR/fuzz-corpus/HARNESS, where new inputs go and
# which later runs resume from), with the dictionary of its format
# (tests/fuzz/dicts/). Every seed is run first, so an input that
# once crashed (kept in the corpus) is a regression test.
#
# A crash, leak, UBSan report, timeout (10 s per input) or a run over 2 GiB
# fails the harness: the input is left in BUILD_DIR/fuzz-artifacts/, the
# log's end printed, and the script exits 1 after the others have run.
# FUZZ_JOBS harnesses run at once (default 1). A line per harness gives
# the CPU seconds, executions, corpus size and result.
set -u
build=${1:?usage: run.sh BUILD_DIR SECONDS [HARNESS...]}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS [HARNESS...]}
shift 2
src=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
jobs=${FUZZ_JOBS:-1}

if [ $# -eq 0 ]; then
	for f in "$src"/fuzz_*.c; do
		set -- "$@" "$(basename "$f" .c)"
	done
fi

mkdir -p "$build/fuzz-corpus" "$build/fuzz-artifacts" "$build/fuzz-logs"

# One harness; its summary line goes to fuzz-logs/NAME.summary.
run_one() {
	local name=$1 cpu rc status execs corp
	local bin="$build/tests/fuzz/$name" work="$build/fuzz-corpus/$name"
	local log="$build/fuzz-logs/$name.log" dict
	local seeds="$src/corpus/$name"
	local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
		-print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$name-")
	mkdir -p "$work"
	case $name in
	fuzz_jwk | fuzz_key_bundle | fuzz_kv_response) dict=keyvault ;;
	fuzz_token) dict=token ;;
	fuzz_config) dict=config ;;
	fuzz_challenge) dict=challenge ;;
	fuzz_arm_response) dict=arm ;;
	*) dict= ;;
	esac
	[ -n "$dict" ] && args+=(-dict="$src/dicts/$dict.dict")
	args+=("$work")
	[ -d "$seeds" ] && args+=("$seeds")
	# UBSan reports are fatal (the build has -fno-sanitize-recover); ASan
	# checks for leaks after inputs that allocate more than they free.
	TIMEFORMAT='%U %S'
	cpu=$({ time UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ASAN_OPTIONS=detect_leaks=1 "$bin" "${args[@]}" >"$log" 2>&1; } 2>&1)
	rc=$?
	status=ok
	[ "$rc" -eq 0 ] || status="FAILED (exit $rc)"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | sed 's/corp: //')
	printf '%-20s %10s %12s %8s  %s\n' "$name" \
		"$(echo "$cpu" | tail -1 | awk '{ printf "%.1f", $1 + $2 }')" "${execs:-?}" \
		"${corp:-?}" "$status" >"$build/fuzz-logs/$name.summary"
	return "$rc"
}

for name in "$@"; do
	if [ ! -x "$build/tests/fuzz/$name" ]; then
		echo "fuzz: $build/tests/fuzz/$name is not built (configure with --enable-fuzzing CC=clang)" >&2
		exit 2
	fi
done

failed=0
running=()
for name in "$@"; do
	run_one "$name" &
	running+=("$!")
	if [ "${#running[@]}" -ge "$jobs" ]; then
		wait "${running[0]}" || failed=1
		running=("${running[@]:1}")
	fi
done
for pid in "${running[@]}"; do
	wait "$pid" || failed=1
done

printf '%-20s %10s %12s %8s  %s\n' harness "CPU s" executions corpus result
for name in "$@"; do
	cat "$build/fuzz-logs/$name.summary"
done
for name in "$@"; do
	if ! grep -q ' ok$' "$build/fuzz-logs/$name.summary"; then
		echo "---- $name: the end of $build/fuzz-logs/$name.log"
		tail -40 "$build/fuzz-logs/$name.log"
		ls "$build/fuzz-artifacts/$name-"* 2>/dev/null
	fi
done
exit "$failed"
