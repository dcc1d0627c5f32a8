#!/bin/bash
# The bench's short form, for `make check`: every comparison's code path
# once, over 1 and 2 threads, and the request counts checked (no timing is
# judged). The JS SDK comparison (g) runs when the fidelity suite's packages
# are installed already (scripts/test.sh installs them before make check);
# make check never runs npm. `make bench` runs the full form (tests/bench/run.sh).
# One TAP case (make check reads TAP from every suite): the bench's output,
# figures included, as TAP comments.
set -o pipefail
"${AZKV_TOP_SRCDIR:?}/tests/bench/run.sh" --threads 1,2 --rounds 1 --seconds 0.2 \
	--wrap-ops 20 --count-ops 3 --many-keys 30 --rss-ops 200 --limits-threads 4 \
	--limits-seconds 0.5 --js-sdk installed 2>&1 | sed 's/^/# /'
rc=$?
echo "1..1"
if [ "$rc" -eq 0 ]; then
	echo "ok - bench-short-form: every comparison runs, the request counts are right"
else
	echo "not ok - bench-short-form: exit $rc (see the bench's output above)"
fi
exit "$rc"
