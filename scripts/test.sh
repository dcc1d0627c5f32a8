#!/bin/sh
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. install what is missing (Debian packages),
#   2. build with warnings as errors,
#   3. unit tests (cmocka), emulator tests, the Azure SDK fidelity suite
#      (tests/fidelity; npm ci from its lock file), integration tests with
#      real clients against the emulator and the interop suite with every
#      client Debian ships (make check),
#      the soak in its short form (make soak SOAK_OPS=1000; tests/soak/),
#   4. the same unit and integration tests under valgrind,
#   5. an AddressSanitizer + UBSan build, its tests and a short soak,
#   6. a ThreadSanitizer build: the thread and fork tests,
#   7. the libFuzzer harnesses, briefly (make fuzz-smoke; clang build),
#   8. the Debian packages: built, checked by lintian, installed, used, purged,
#   9. make distcheck (the unit tests on the tarball).
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
# The suites' logs (named without .sh: Makefile.am's TEST_EXTENSIONS).
cat build/tests/integration/run.log build/tests/integration/credentials.log \
	build/tests/cmk/run.log build/tests/interop/run.log

stage "soak, short form: 1,000 unwraps and signs over 8 threads, 5 % injected faults"
make -s -C build soak SOAK_OPS=1000

stage "valgrind: unit tests, integration tests, the credentials and azkv-cmk's lifecycle"
valgrind_unit_tests() {
	for t in build/tests/unit/test_*; do
		case "$t" in *.log | *.trs | *.c | *.o) continue ;; esac
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--show-leak-kinds=definite,indirect "$t" >/dev/null || return 1
		echo "valgrind clean: $t"
	done
}
# The tests of a suite whose programs run under valgrind ("" for all).
# azkv-cmk: the lab's own steps and the lifecycle (create, grant, bind,
# audit, project, follow, rotate, status, revoke); its refusals and usage
# errors run natively here, and every cmk suite runs whole under ASan+UBSan
# below, which also finds leaks: valgrind adds the reads of uninitialised
# memory, at several times the cost.
valgrind_tests_of() {
	case "$1" in
	tests/cmk/run.sh) echo '^(lab_|rotate_|revoke_|status_)' ;;
	*) echo '' ;;
	esac
}
# Everything at once (each suite has its own emulator and work directory):
# the suites wait on their emulators and clients much of the time, so the
# cores stay busy; each one's output is shown when all have ended.
valgrind_all() {
	pids=
	valgrind_unit_tests >build/valgrind-unit.log 2>&1 &
	pids="$pids $!"
	for suite in "$@"; do
		(
			t0=$(date +%s)
			AZKV_TOP_SRCDIR="$top" AZKV_TOP_BUILDDIR="$top/build" \
				AZKV_MODULE="$top/build/.libs/azkv-pkcs11.so" AZKV_TEST_VALGRIND=1 \
				AZKV_TEST_VALGRIND_TESTS="$(valgrind_tests_of "$suite")" "$suite"
			rc=$?
			echo "# $suite under valgrind: $(($(date +%s) - t0)) s"
			exit $rc
		) >"build/valgrind-$(echo "$suite" | tr / -).log" 2>&1 &
		pids="$pids $!"
	done
	failed=0
	for pid in $pids; do
		wait "$pid" || failed=1
	done
	cat build/valgrind-unit.log
	for suite in "$@"; do
		cat "build/valgrind-$(echo "$suite" | tr / -).log"
	done
	return "$failed"
}
valgrind_all tests/integration/run.sh tests/cmk/run.sh tests/integration/credentials.sh

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
# The soak's fault paths (resets, truncated bodies, retries) under the sanitizers.
AZKV_TEST_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=use_tls=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 make -s -C build-asan soak SOAK_OPS=500

stage "ThreadSanitizer: 16 threads sharing sessions and keys, fork"
# The module and tools (scripts/build.sh), and the suite's two programs.
# halt_on_error: the first report fails the test that made it.
"$top/scripts/build.sh" build-tsan --enable-tsan
make -j"$jobs" -C build-tsan tests/integration/p11_stress tests/integration/p11_fork \
	tests/integration/p11_nothreads
AZKV_TOP_SRCDIR="$top" AZKV_TOP_BUILDDIR="$top/build-tsan" \
	AZKV_MODULE="$top/build-tsan/.libs/azkv-pkcs11.so" \
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
	tests/integration/threads.sh

stage "fuzzing: each libFuzzer harness for a short while (make fuzz-smoke)"
"$top/scripts/build.sh" build-fuzz --enable-fuzzing --disable-tests CC=clang
make -C build-fuzz fuzz-smoke FUZZ_JOBS="$jobs"

stage "Debian packages: build, lintian, install, use through p11-kit, purge (tests/packaging/deb.sh)"
# As root (dpkg -i); the packages stay installed only while it runs.
"$top/tests/packaging/deb.sh"

stage "make distcheck: the release tarball builds and passes its tests"
# Its tests: the unit tests (distcheck_tests in Makefile.am); the whole
# suite ran on this tree above, and distcheck-hook
# checks that the tarball holds every tracked file.
make -j"$jobs" -C build distcheck TESTS='$(distcheck_tests)' >build/distcheck.log 2>&1 ||
	{ tail -50 build/distcheck.log; exit 1; }
grep -A2 "archives ready" build/distcheck.log

stage "all tests passed"
