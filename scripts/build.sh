#!/bin/sh
# Configures (once) and builds into a build directory outside the sources.
#   scripts/build.sh [BUILD_DIR] [configure options...]
# Default: build/ with warnings as errors. Safe to run again: configure is
# re-run only when its options change.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
[ $# -gt 0 ] && shift
opts="--enable-werror $*"

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$(cat .configure-opts 2>/dev/null)" != "$opts" ]; then
	# shellcheck disable=SC2086
	"$top/configure" $opts
	echo "$opts" >.configure-opts
fi
make -j"$(nproc)"
