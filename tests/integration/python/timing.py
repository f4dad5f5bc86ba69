"""Time bounds for the integration tests, scaled for slow builds.

A bound in a test says "this must happen within N seconds on the dev build". Sanitized builds run
Pulse several times slower (ASan + UBSan: about 3-5x on the Monte Carlo), so scripts/test sets
PULSE_TEST_TIME_SCALE for them and every bound goes through scaled(): the tests still catch a task
that never finishes, without failing only because the binary is instrumented.
"""
import os

TIME_SCALE = max(1.0, float(os.environ.get("PULSE_TEST_TIME_SCALE", "1") or "1"))


def scaled(seconds: float) -> float:
    return seconds * TIME_SCALE
