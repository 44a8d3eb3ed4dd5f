"""Running Python in a fresh process, for what only a new process shows (the disk cache)."""

import json
import os
import subprocess
import sys


def environment(env: dict | None) -> dict:
    """``os.environ`` with ``env`` laid over it; a value of None removes that variable."""
    merged = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def run_child(code: str, env: dict | None = None, cwd=None) -> tuple[dict, str]:
    """Run ``code`` in a new interpreter: (its last line of output read as JSON, its stderr).

    ``env`` is laid over this process's environment (None removes a variable). The child
    must exit 0; its stderr is in the failure message when it does not.
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environment(env), cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def run_python(code: str, env: dict | None = None, cwd=None):
    """Run ``code`` in a new interpreter; its last line of output, read as JSON."""
    return run_child(code, env, cwd)[0]


def assert_second_process_starts_warm(code: str, env: dict | None = None) -> dict:
    """Run ``code`` twice with the kernels on; the second run must only hit Numba's cache.

    ``code`` prints ``{kernel name: [cache hits, cache misses]}`` as its last line. The
    first run fills the cache if this checkout has none yet. ``env`` is laid over the
    environment of both runs. Returns the second report.
    """
    env = {**(env or {}), "DESCENT_JIT": "1"}
    run_python(code, env)
    report = run_python(code, env)
    assert report, "the script reported no kernels"
    for name, (hits, misses) in report.items():
        assert hits > 0 and misses == 0, f"{name}: {hits} cache hits, {misses} misses"
    return report
