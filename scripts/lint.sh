#!/bin/sh
# clang-format (the repository's .clang-format) and cppcheck over our C.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# Every C file and header the repository holds, wherever it is (a list of
# directories and suffixes once missed tools/cmk/*.h and tests' headers);
# outside a git checkout (a release tarball), every one under the tree.
files=$(git ls-files '*.[ch]' 2>/dev/null ||
	find . -name '*.[ch]' -not -path './tests/fidelity/node_modules/*' -not -path './build*' |
	sed 's|^\./||')
bad=0
for f in $files; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not clang-formatted: $f (run: clang-format -i $f)"
		bad=1
	fi
done
# shellcheck disable=SC2086
cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	--inline-suppr --std=c11 -I src -I pkcs11 -I pkcs11/mech -I pkcs11/obj -I include -I tests/lib \
	--suppress=missingIncludeSystem $files || bad=1
[ "$bad" -eq 0 ] && echo "lint: clean"
exit "$bad"
