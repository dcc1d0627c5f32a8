#!/bin/sh
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. install what is missing (Debian packages),
#   2. build with warnings as errors,
#   3. unit tests (cmocka), emulator tests, the Azure SDK fidelity suite
#      (tests/fidelity; npm ci from its lock file), integration tests with
#      real clients against the emulator and the interop suite with every
#      client Debian ships (make check),
#   4. the same unit and integration tests under valgrind,
#   5. an AddressSanitizer + UBSan build and its tests,
#   6. the libFuzzer harnesses, briefly (make fuzz-smoke; clang build),
#   7. make distcheck.
# Exits non-zero on the first failing stage.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

started=$(date +%s)
stage() { printf '\n==== %s (at %d s)\n' "$*" $(($(date +%s) - started)); }
jobs=$(nproc)

stage "dependencies"
"$top/scripts/install-deps.sh"

stage "build (-Werror)"
"$top/scripts/build.sh" build

stage "format and static analysis"
"$top/scripts/lint.sh"

stage "emulator self-tests"
"$top/tests/emulator/run-tests.sh"

stage "fidelity: the official Azure SDK for JavaScript against the emulator"
"$top/tests/fidelity/run.sh"

stage "unit and integration tests"
if ! make -j"$jobs" -C build check; then
	cat build/test-suite.log 2>/dev/null || true
	exit 1
fi
cat build/tests/integration/run.sh.log build/tests/integration/credentials.sh.log \
	build/tests/cmk/run.sh.log build/tests/interop/run.sh.log

stage "valgrind: unit tests, integration tests, azkv-cmk and the credentials"
for t in build/tests/unit/test_*; do
	case "$t" in *.log | *.trs | *.c | *.o) continue ;; esac
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect "$t" >/dev/null
	echo "valgrind clean: $t"
done
# The suites under valgrind, several at a time (each has its own emulator
# and work directory); each one's output is shown when it ends.
valgrind_suites() {
	pids=
	for suite in "$@"; do
		AZKV_TOP_SRCDIR="$top" AZKV_TOP_BUILDDIR="$top/build" \
			AZKV_MODULE="$top/build/.libs/azkv-pkcs11.so" AZKV_TEST_VALGRIND=1 \
			"$suite" >"build/valgrind-$(echo "$suite" | tr / -).log" 2>&1 &
		pids="$pids $!"
	done
	failed=0
	for pid in $pids; do
		wait "$pid" || failed=1
	done
	for suite in "$@"; do
		cat "build/valgrind-$(echo "$suite" | tr / -).log"
	done
	return "$failed"
}
valgrind_suites tests/integration/run.sh tests/cmk/run.sh
valgrind_suites tests/integration/credentials.sh

stage "AddressSanitizer + UBSan"
"$top/scripts/build.sh" build-asan --enable-sanitizers
# LSAN_OPTIONS=use_tls=0: LeakSanitizer (GCC 12's and clang 14's alike, on
# Debian 12's glibc) reads bogus ranges for the dynamic TLS of the libraries
# dlopen()ed with the module ("DTLS 5 at 0x3e6-0x10000014e8", then "Tracer
# caught signal 11") and aborts the leak check of some runs; the same runs
# are clean under valgrind. Leaving TLS out of the root set can only report
# more leaks, never hide one.
AZKV_TEST_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=use_tls=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 make -j"$jobs" -C build-asan check ||
	{ cat build-asan/test-suite.log; exit 1; }

stage "fuzzing: each libFuzzer harness for a short while (make fuzz-smoke)"
"$top/scripts/build.sh" build-fuzz --enable-fuzzing --disable-tests CC=clang
make -C build-fuzz fuzz-smoke FUZZ_JOBS="$jobs"

stage "make distcheck: the release tarball builds and passes its tests"
make -j"$jobs" -C build distcheck >build/distcheck.log 2>&1 || { tail -50 build/distcheck.log; exit 1; }
grep -A2 "archives ready" build/distcheck.log

stage "all tests passed"
