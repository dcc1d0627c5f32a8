#!/bin/sh
# Fidelity suite (issue 3): the official Azure SDK for JavaScript, installed
# from the npm registry at the versions pinned in package-lock.json, runs
# unchanged against the emulator, and cross-checks the PKCS#11 module.
#   1. npm ci, when node_modules is missing or was installed from another
#      package-lock.json,
#   2. scripts/build.sh build, when the module or azkv-envelope is missing,
#   3. an emulator of its own in a temporary directory on a free port,
#      with vault "fidelity" served on https://localhost:PORT,
#   4. node --test over test/*.test.mjs (Node's standard summary at the end),
#   5. the emulator is stopped; the exit status is the test runner's.
# Arguments: options go to node --test (e.g. --test-name-pattern=rotation),
# other arguments name the test files to run (default: every test/*.test.mjs;
# a relative name is looked up from the current directory, then from here).
# Needs Node >= 20 with npm, jq, /usr/bin/python3 with python3-cryptography.
# Only npm ci uses the network (the npm registry); the tests use loopback only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${AZKV_TOP_BUILDDIR:-$top/build}
vault=fidelity

for tool in jq /usr/bin/python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "fidelity: $tool is missing" >&2
		exit 1
	fi
done

# 1. Node (>= 20) and its packages, exactly as locked.
"$here/npm-ci.sh"

# 2. The module and the envelope tool for the PKCS#11 cross-checks.
module=${AZKV_MODULE:-$build/.libs/azkv-pkcs11.so}
envelope=$build/tools/azkv-envelope
if [ ! -f "$module" ] || [ ! -x "$envelope" ]; then
	echo "fidelity: building (scripts/build.sh build)"
	"$top/scripts/build.sh" build
fi

# 3. The emulator, in a state directory of its own.
AZKV_TOP_SRCDIR=$top
# shellcheck source=../emulator/emulator.sh
. "$top/tests/emulator/emulator.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/azkv-fidelity.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	emu_stop
	if [ "${FIDELITY_KEEP:-0}" = 1 ]; then
		echo "fidelity: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

emu_start "$work/emulator" --localhost-vault "$vault" || exit 1
state=$EMU_STATE
emu_admin add-vault --name "$vault" >/dev/null

# 4. The scenarios. NODE_EXTRA_CA_CERTS is how a Node user trusts an extra CA.
options=
files=
for arg in "$@"; do
	case "$arg" in
	-*) options="$options $arg" ;;
	*)
		# A file named from the caller's directory, or else from tests/fidelity.
		[ -e "$arg" ] && arg=$(realpath "$arg")
		files="$files $arg"
		;;
	esac
done
status=0
(
	cd "$here"
	# shellcheck disable=SC2086 # word splitting of the option and file lists is wanted
	NODE_EXTRA_CA_CERTS=$(jq -r .ca_file "$state/emulator.json") \
		FIDELITY_STATE_DIR=$state FIDELITY_WORK_DIR=$work \
		AZKV_MODULE=$module AZKV_ENVELOPE=$envelope \
		node --test --test-concurrency=1 $options ${files:-test/*.test.mjs}
) || status=$?
if [ "$status" -ne 0 ]; then
	echo "fidelity: FAILED (exit $status); the emulator's log is $state/emulator.log" >&2
	FIDELITY_KEEP=1
fi
exit "$status"
