# The test runner shared by the suites (tests/integration/*.sh,
# tests/cmk/run.sh, tests/interop/run.sh, tests/bench/run.sh; bash): a work
# directory and TAP output, which `make check` reads through automake's
# tap-driver.sh (Makefile.am, SH_LOG_DRIVER), so each test counts: one
# "ok - NAME" / "not ok - NAME" / "ok - NAME # SKIP REASON" line per test
# and, at the end, the plan "1..N" and a "# N passed, N failed, N skipped"
# comment. A suite that stops before harness_summary has no plan, which the
# driver reports as an error.
#   HARNESS_NAME          the work directory's prefix (/tmp/azkv-NAME.XXXXXX)
#   HARNESS_MODULE_LOGS=1 each test gets its own module log, shown when it fails
#   AZKV_TEST_KEEP=1      keep the work directory (it is kept after a failure)
#   AZKV_TEST_VALGRIND=1  `ours` runs our programs under valgrind
#   AZKV_TEST_VALGRIND_TESTS=ERE  ... only in the tests whose name matches
# The EXIT trap stops the emulator (emu_stop) if one was started.

WORK=$(mktemp -d "/tmp/azkv-${HARNESS_NAME:-test}.XXXXXX")

# Tests talk to loopback only, whatever identity the machine running them
# has: no Azure variable of the caller's comes in, and a managed identity
# that no test pointed at the emulator asks a closed loopback port, never
# 169.254.169.254 (AZURE_POD_IDENTITY_AUTHORITY_HOST is the SDKs' override
# of the IMDS address, and ours).
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_CLIENT_CERTIFICATE_PATH \
	AZURE_CLIENT_CERTIFICATE_PASSWORD AZURE_CLIENT_SEND_CERTIFICATE_CHAIN AZURE_AUTHORITY_HOST \
	AZURE_FEDERATED_TOKEN_FILE AZURE_USERNAME AZURE_PASSWORD AZURE_SUBSCRIPTION_ID \
	IDENTITY_ENDPOINT IDENTITY_HEADER IDENTITY_SERVER_THUMBPRINT IMDS_ENDPOINT MSI_ENDPOINT \
	MSI_SECRET AZKV_PKCS11_CA_FILE AZKV_PKCS11_CONNECT_TO
export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:9
passed=0
failed=0
skipped=0

harness_cleanup() {
	if command -v emu_stop >/dev/null 2>&1; then
		emu_stop
	fi
	if [ "$failed" -eq 0 ] && [ -z "${AZKV_TEST_KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "# work dir kept: $WORK"
	fi
}
trap harness_cleanup EXIT

# run NAME COMMAND...: one test; its output goes to $WORK/NAME.out and is
# shown when it fails.
run() {
	local test_name=$1
	shift
	harness_test=$test_name
	if [ "${HARNESS_MODULE_LOGS:-0}" = 1 ]; then
		export AZKV_PKCS11_LOG_FILE="$WORK/$test_name.module.log"
	fi
	if "$@" >"$WORK/$test_name.out" 2>&1; then
		echo "ok - $test_name"
		passed=$((passed + 1))
	else
		echo "not ok - $test_name"
		sed 's/^/#   /' "$WORK/$test_name.out"
		if [ "${HARNESS_MODULE_LOGS:-0}" = 1 ] && [ -s "$AZKV_PKCS11_LOG_FILE" ]; then
			echo "#   --- module log"
			sed 's/^/#   /' "$AZKV_PKCS11_LOG_FILE"
		fi
		failed=$((failed + 1))
	fi
	harness_test=
	if [ "${HARNESS_MODULE_LOGS:-0}" = 1 ]; then
		export AZKV_PKCS11_LOG_FILE="$WORK/module.log"
	fi
}

# skip NAME REASON: a test not run here, reported (a test that is left out
# without a line would go unseen).
skip() {
	echo "ok - $1 # SKIP $2"
	skipped=$((skipped + 1))
}

# skip_each REASON NAME...: the tests of a block that does not run here.
skip_each() {
	local reason=$1 test_name
	shift
	for test_name in "$@"; do
		skip "$test_name" "$reason"
	done
}

# has FILE PATTERN: grep -q -E that shows what it looked for when it fails
# (a log line naming the cause must be written for every bad input).
has() {
	grep -q -E -- "$2" "$1" || {
		echo "'$2' not found in $1:"
		cat "$1"
		return 1
	}
}

# ours COMMAND...: one of our own programs, under valgrind when
# AZKV_TEST_VALGRIND=1 (a definite or indirect leak fails it), and, when
# AZKV_TEST_VALGRIND_TESTS is set, the running test's name matches it: a
# suite's other tests still run, natively, so the state they build for
# the tests after them is the same.
ours() {
	if [ "${AZKV_TEST_VALGRIND:-0}" = 1 ] &&
		{ [ -z "${AZKV_TEST_VALGRIND_TESTS:-}" ] ||
			printf '%s\n' "${harness_test:-}" | grep -qE -- "$AZKV_TEST_VALGRIND_TESTS"; }; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
			"$@"
	else
		"$@"
	fi
}

# The plan and the closing line; the exit status says whether every test
# passed.
harness_summary() {
	echo "1..$((passed + failed + skipped))"
	echo "# $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}
