#!/bin/sh
# The fidelity suite's Node packages (the official Azure SDK for JavaScript),
# exactly as package-lock.json pins them, in tests/fidelity/node_modules; used
# by tests/fidelity/run.sh and by the bench (tests/bench/js.sh).
#   npm-ci.sh          npm ci when node_modules is missing or was installed
#                      from another package-lock.json (the only network use:
#                      the npm registry)
#   npm-ci.sh --check  no install: exit 0 when Node >= 20 is here and
#                      node_modules matches package-lock.json, else 1 with
#                      the reason on stderr
# Exits 1 when Node >= 20 or npm is missing, or npm ci fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "fidelity: $tool is missing" >&2
		exit 1
	fi
done
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
	echo "fidelity: node >= 20 is needed, found $(node --version)" >&2
	exit 1
fi

# The stamp records which lock file the installed tree came from, so an
# edited lock file triggers a fresh npm ci.
stamp="$here/node_modules/.fidelity-lock.sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
if [ "${1:-}" = --check ]; then
	echo "fidelity: $here/node_modules is missing or not from package-lock.json" \
		"(tests/fidelity/npm-ci.sh installs it)" >&2
	exit 1
fi
echo "fidelity: npm ci (package-lock.json changed or node_modules missing)"
# No package of the tree has install scripts; none may run.
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund)
echo "$want" >"$stamp"
