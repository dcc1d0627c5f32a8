#!/bin/sh
# The emulator's self-tests: every test_*.py here (run_tests.py finds them with
# unittest's discovery), behaviour (test_emulator.py, test_arm.py, ...) and wire
# shapes against real Key Vault recordings (test_recording_shapes.py). Each suite
# starts its own emulator in a temporary directory on a free port and stops
# it afterwards. Exits non-zero on any failure.
#   tests/emulator/run-tests.sh                       # everything
#   tests/emulator/run-tests.sh test_emulator.WrapTests
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# Debian's interpreter on purpose: it has python3-cryptography.
if ! /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
	echo "run-tests: /usr/bin/python3 lacks the cryptography module (apt-get install python3-cryptography)" >&2
	exit 1
fi
exec /usr/bin/python3 "$here/run_tests.py" "$@"
