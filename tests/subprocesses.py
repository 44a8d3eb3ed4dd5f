"""Running Python in a fresh process, for what only a new process shows (the disk cache)."""

import json
import os
import subprocess
import sys


def run_python(code: str, env: dict | None = None, cwd=None):
    """Run ``code`` in a new interpreter; its last line of output, read as JSON."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_second_process_starts_warm(code: str) -> dict:
    """Run ``code`` twice with the kernels on; the second run must only hit Numba's cache.

    ``code`` prints ``{kernel name: [cache hits, cache misses]}`` as its last line. The
    first run fills the cache if this checkout has none yet. Returns the second report.
    """
    env = {"DESCENT_JIT": "1"}
    run_python(code, env)
    report = run_python(code, env)
    assert report, "the script reported no kernels"
    for name, (hits, misses) in report.items():
        assert hits > 0 and misses == 0, f"{name}: {hits} cache hits, {misses} misses"
    return report
