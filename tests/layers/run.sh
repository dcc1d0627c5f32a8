#!/bin/sh
# The module's structure (issue 17), read off what make built; run from the
# build directory by make check:
# - no call cycle between the module's files (layers.py);
# - the module carries no ARM client: that is azkv-cmk's (libazkvarm.la).
here=$(cd "$(dirname "$0")" && pwd)
n=0
failed=0
result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

/usr/bin/python3 "$here/layers.py" .libs/libazkvp11.a | sed 's/^/# /'
result "$(/usr/bin/python3 "$here/layers.py" .libs/libazkvp11.a >/dev/null; echo $?)" \
	"no-call-cycle-between-the-module-files"

arm=$(nm .libs/azkv-pkcs11.so | grep -c 'azkv_arm_')
echo "# azkv_arm_ symbols in the module: $arm"
result "$([ "$arm" -eq 0 ]; echo $?)" "the-module-carries-no-arm-client"

echo "1..$n"
exit "$failed"
