#!/usr/bin/python3
"""Runs the emulator's own test suites (test_emulator.py, test_recording_shapes.py, test_faults.py,
test_arm.py, test_arm_rbac.py, test_foundry.py, test_identity.py, test_mhsm.py).

Each suite starts its own emulator in a temporary directory on port 0 and
stops it. Prints a closing "emulator tests: N passed, N failed, N skipped"
line and exits non-zero when anything failed. Arguments select suites or
tests the unittest way (e.g. test_emulator.WrapTests).
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SUITES = ["test_emulator", "test_recording_shapes", "test_arm", "test_arm_rbac", "test_faults", "test_foundry",
          "test_identity", "test_mhsm"]


def main(argv):
    sys.path.insert(0, HERE)
    os.chdir(HERE)
    loader = unittest.defaultTestLoader
    suite = loader.loadTestsFromNames(argv or SUITES)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print(f"emulator tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
