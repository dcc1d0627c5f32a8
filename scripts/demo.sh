#!/bin/sh
# README command 1: install what is missing, build, and run the demo
# against the local emulator. Safe to run again.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh" build
exec "$top/tools/demo.sh" "$top/build"
