#!/bin/sh
# clang-format (the repository's .clang-format) and cppcheck over our C.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
files=$(git ls-files 'src/*.[ch]' 'pkcs11/*.[ch]' 'include/*.h' 'tools/*.c' 'tests/*.c' 2>/dev/null ||
	find src pkcs11 include tools tests -name '*.[ch]')
bad=0
for f in $files; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not clang-formatted: $f (run: clang-format -i $f)"
		bad=1
	fi
done
# shellcheck disable=SC2086
cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	--inline-suppr --std=c11 -I src -I pkcs11 -I pkcs11/obj -I include \
	--suppress=missingIncludeSystem $files || bad=1
[ "$bad" -eq 0 ] && echo "lint: clean"
exit "$bad"
