#!/bin/bash
# Builds the Debian packages (debian/) with dpkg-buildpackage -us -uc -b
# from a copy of the source tree, so the tree itself is left as it was:
#   scripts/deb.sh OUTDIR
# OUTDIR gets the .debs, the .changes and .buildinfo, and build.log. The
# copy holds what a fresh clone would, with the working tree's changes:
# the files git tracks and the new ones it does not ignore (outside a git
# checkout, a release tarball's tree: every file). DEB_BUILD_OPTIONS is
# the caller's (default "parallel=N", N the cores); with nocheck in it
# DEB_BUILD_PROFILES gets nocheck too, so cmocka is not needed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || {
	echo "usage: $0 OUTDIR" >&2
	exit 2
}
mkdir -p "$1"
out=$(cd "$1" && pwd)
: "${DEB_BUILD_OPTIONS:=parallel=$(nproc)}"
export DEB_BUILD_OPTIONS
case " $DEB_BUILD_OPTIONS " in
*" nocheck "*) export DEB_BUILD_PROFILES="${DEB_BUILD_PROFILES:+$DEB_BUILD_PROFILES }nocheck" ;;
esac

tmp=$(mktemp -d /tmp/azkv-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/azkv-pkcs11"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar -c --null -T -) | tar -x -C "$tmp/azkv-pkcs11"
else
	(cd "$top" && tar -c --exclude='./build*' --exclude=./tests/fidelity/node_modules .) |
		tar -x -C "$tmp/azkv-pkcs11"
fi

cd "$tmp/azkv-pkcs11"
if ! dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1; then
	tail -40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed; the whole log: $out/build.log" >&2
	exit 1
fi
mv ../*.deb ../*.changes ../*.buildinfo "$out/"
echo "deb: packages in $out:"
ls "$out"/*.deb
