#!/usr/bin/python3
"""Runs the emulator's own test suites (test_emulator.py, test_recording_shapes.py, test_faults.py,
test_arm.py, test_arm_rbac.py, test_foundry.py, test_identity.py, test_mhsm.py).

Each suite starts its own emulator in a temporary directory on port 0 and
stops it, so with no arguments the suites run side by side, one process
each, as many at a time as there are cores (AZKV_EMU_TEST_JOBS overrides);
each suite's output is printed whole when it ends. Prints a closing
"emulator tests: N passed, N failed, N skipped" line and exits non-zero when
anything failed. Arguments select suites or tests the unittest way (e.g.
test_emulator.WrapTests) and run them in this process.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SUITES = ["test_emulator", "test_recording_shapes", "test_arm", "test_arm_rbac", "test_faults", "test_foundry",
          "test_identity", "test_mhsm"]
SUMMARY = re.compile(r"^emulator tests: (\d+) passed, (\d+) failed, (\d+) skipped$", re.M)


def run_here(names):
    sys.path.insert(0, HERE)
    os.chdir(HERE)
    suite = unittest.defaultTestLoader.loadTestsFromNames(names)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print(f"emulator tests: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 0 if failed == 0 and result.testsRun > 0 else 1


def run_side_by_side(suites, jobs):
    """One child process per suite, at most `jobs` at a time; the longest
    suites first so that the last one to start is a short one."""
    pending = list(suites)
    running = []
    totals = [0, 0, 0]
    ok = True
    while pending or running:
        while pending and len(running) < jobs:
            name = pending.pop(0)
            out = tempfile.TemporaryFile()
            proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), name],
                                    stdout=out, stderr=subprocess.STDOUT)
            running.append((name, proc, out, time.monotonic()))
        for item in list(running):
            name, proc, out, started = item
            if proc.poll() is None:
                continue
            running.remove(item)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
            out.close()
            sys.stdout.write(f"---- {name} ({time.monotonic() - started:.0f} s)\n{text}")
            sys.stdout.flush()
            m = SUMMARY.search(text)
            if proc.returncode != 0 or not m:
                ok = False
            if m:
                totals = [t + int(v) for t, v in zip(totals, m.groups())]
        time.sleep(0.1)
    print(f"emulator tests: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 0 if ok and totals[1] == 0 and totals[0] > 0 else 1


def main(argv):
    if argv:
        return run_here(argv)
    jobs = int(os.environ.get("AZKV_EMU_TEST_JOBS") or os.cpu_count() or 2)
    # Longest first (measured): recording shapes, identity, RBAC, Foundry.
    order = ["test_recording_shapes", "test_identity", "test_arm_rbac", "test_foundry"]
    suites = [s for s in order if s in SUITES] + [s for s in SUITES if s not in order]
    return run_side_by_side(suites, max(1, jobs))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
