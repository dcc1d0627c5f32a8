#!/bin/bash
# Thread and fork safety: 16 threads sharing sessions and keys
# (p11_stress), fork (p11_fork) and CKF_LIBRARY_CANT_CREATE_OS_THREADS, on
# the module against the emulator. Run by `make check`, and by
# scripts/test.sh's ThreadSanitizer stage on the TSan build (every
# program here is ours, so it runs on any sanitizer build).
#   AZKV_STRESS_ROUNDS  rounds per thread (default 10)
set -u

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
export AZKV_MODULE
# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"
HARNESS_NAME=threads
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"
BIN="$AZKV_TOP_BUILDDIR/tests/integration"

emu_start "$WORK/emulator" || exit 1
emu_admin add-vault --name demo --purge-protection >/dev/null || exit 1
APP=$(emu_admin add-identity --name app) || exit 1
emu_admin set-policy --vault demo --identity "$(jq -r .client_id <<<"$APP")" \
	--keys get,list,wrapKey,unwrapKey,encrypt,decrypt,sign,verify >/dev/null || exit 1
emu_admin create-key --vault demo --name cmk --kty RSA --size 2048 >/dev/null || exit 1
emu_write_config "$WORK/app.json" "$APP" https://demo.vault.azure.net
export AZKV_PKCS11_CONFIG="$WORK/app.json"
export AZKV_PKCS11_LOG_FILE="$WORK/module.log"
export AZKV_PKCS11_LOG_LEVEL=info

# Not under valgrind: the search for secrets reads every writable mapping,
# valgrind's own and never-written bytes included.
run p11-fork-child-reinitialises-holds-no-secret "$BIN/p11_fork"
run p11-stress-16-threads-share-sessions-and-keys ours "$BIN/p11_stress" cmk \
	"${AZKV_STRESS_ROUNDS:-10}"

# CKF_LIBRARY_CANT_CREATE_OS_THREADS: libcurl's threaded resolver (AsynchDNS
# without c-ares, as Debian builds it) starts a thread per lookup, so the
# module refuses with CKR_NEED_TO_CREATE_THREADS (0x9) and says why; with
# any other resolver it initialises.
cant_create_threads() {
	local expect=0x0 log="$WORK/no-threads.log"
	if curl -V | grep -q AsynchDNS && ! curl -V | grep -qi c-ares; then
		expect=0x9
	fi
	echo "# curl -V: $(curl -V | head -1); expected $expect"
	AZKV_PKCS11_LOG_FILE="$log" ours "$BIN/p11_stress" cant-create-threads $expect || return 1
	[ $expect = 0x0 ] || has "$log" "CKF_LIBRARY_CANT_CREATE_OS_THREADS.*threads of its own"
}
run p11-cant-create-os-threads-refused-with-a-threaded-resolver cant_create_threads

harness_summary
