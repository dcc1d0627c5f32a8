#!/usr/bin/python3
"""Runs the emulator's own test suites: every test_*.py beside this file, found
by unittest's discovery (a new suite is a new file, no list to keep).

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
PATTERN = "test_*.py"
# Measured longest first (recording shapes, identity, RBAC, Foundry): started first so that
# the last suite to start is a short one. Only an order; a suite missing here still runs.
LONGEST_FIRST = ["test_recording_shapes", "test_identity", "test_arm_rbac", "test_foundry"]
SUMMARY = re.compile(r"^emulator tests: (\d+) passed, (\d+) failed, (\d+) skipped$", re.M)


def discover():
    """(suite module names, import errors): the modules of the tests unittest's discovery
    finds here. Importing them runs no test: each suite's emulator starts in setUpModule."""
    loader = unittest.TestLoader()
    found = loader.discover(HERE, pattern=PATTERN, top_level_dir=HERE)
    names = set()
    pending = [found]
    while pending:
        item = pending.pop()
        if isinstance(item, unittest.TestSuite):
            pending.extend(item)
        elif type(item).__module__ != "unittest.loader":   # not a file that failed to import
            names.add(type(item).__module__)
    return sorted(names), list(loader.errors)


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


def run_side_by_side(suites, jobs, failed=0):
    """One child process per suite, at most `jobs` at a time, in the order given;
    `failed` counts failures found before (files that could not be imported)."""
    pending = list(suites)
    running = []
    totals = [0, failed, 0]
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
    found, errors = discover()
    for error in errors:
        print(error, flush=True)
    suites = [s for s in LONGEST_FIRST if s in found] + [s for s in found if s not in LONGEST_FIRST]
    return run_side_by_side(suites, max(1, jobs), failed=len(errors))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
