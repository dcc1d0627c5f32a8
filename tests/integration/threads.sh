#!/bin/bash
# Thread and fork safety: 16 threads sharing sessions and keys
# (p11_stress), fork (p11_fork) and CKF_LIBRARY_CANT_CREATE_OS_THREADS
# (p11_nothreads), on the module against the emulator. Run by `make
# check`, and by scripts/test.sh's ThreadSanitizer stage on the TSan build
# (every program here is ours, so it runs on any sanitizer build).
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
# At trace level; from info up the module logs each request and whether
# libcurl opened a new connection for it (CURLINFO_NUM_CONNECTS).
stress() {
	AZKV_PKCS11_LOG_LEVEL=trace AZKV_PKCS11_LOG_FILE="$WORK/stress.log" \
		ours "$BIN/p11_stress" cmk "${AZKV_STRESS_ROUNDS:-10}"
}
run p11-stress-16-threads-share-sessions-and-keys stress

# Connections that scale: each request in flight has a pooled handle of its
# own, which keeps its connections, one to the vault and one to the token
# endpoint (src/http.c), so 16 threads open at most 2 each, however many
# requests they send. With the connection cache shared between the threads
# instead, most of p11_stress's requests found no free connection and
# opened one (about 400 for 500 requests).
few_connections() {
	local requests new
	requests=$(grep -c 'http: [A-Z]* [^ ]* status=[0-9]* ' "$WORK/stress.log")
	new=$(grep -c ' new_connection=1$' "$WORK/stress.log")
	echo "$new new connections for $requests requests"
	[ "$requests" -gt 100 ] && [ "$new" -le 32 ]
}
run p11-16-threads-open-at-most-2-connections-each few_connections

# CKF_LIBRARY_CANT_CREATE_OS_THREADS: the module looks host names up in the
# calling thread, so libcurl's threaded resolver (Debian's) starts no
# thread. p11_nothreads counts pthread_create calls (its own, which the
# module's libcurl binds to) over a find, an unwrap and a sign, with
# connect_to naming a host (azkv-emulator.test, which p11_nothreads itself
# answers as 127.0.0.1): with the flag none, without it some (the count
# works). Not on a sanitizer build, whose runtime owns pthread_create.
no_threads() {
	local mode=$1
	jq --arg to "azkv-emulator.test:$EMU_PORT" '.http.connect_to = $to' \
		"$WORK/app.json" >"$WORK/no-threads.json" || return 1
	AZKV_PKCS11_CONFIG="$WORK/no-threads.json" ours "$BIN/p11_nothreads" cmk "$mode"
}
if nm "$BIN/p11_nothreads" 2>/dev/null | grep -Eq '__(tsan|asan)_init'; then
	echo "# p11_nothreads skipped: sanitizer build"
else
	run p11-cant-create-os-threads-creates-no-thread no_threads flag
	run p11-without-the-flag-threads-are-counted no_threads noflag
fi

harness_summary
