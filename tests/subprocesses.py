"""Running Python in a fresh process, for what only a new process shows (the disk cache,
a terminal, signals)."""

import json
import os
import pty
import select
import subprocess
import sys
import time


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


def run_children(code: str, envs: list[dict | None]) -> list[tuple[dict, str]]:
    """``run_child(code, env)`` for each of ``envs``, all at once (each compiles on its own
    core), in the order given."""
    children = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=environment(env))
                for env in envs]
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        results.append((json.loads(out.strip().splitlines()[-1]), err))
    return results


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


def run_on_terminal(command: list, *, watch=None, timeout: float = 300) -> tuple[int, bytes]:
    """Run ``command`` with stdout and stderr on a pseudo-terminal (so it sees a terminal:
    progress bars, colours); return (exit status, everything the terminal got).

    ``watch(process, shown)``, when given, is called after each read with the output so
    far, e.g. to send a signal once something appears.
    """
    master, slave = pty.openpty()
    process = subprocess.Popen([str(part) for part in command], stdout=slave, stderr=slave,
                               stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "120"})
    os.close(slave)
    shown, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if watch is not None:
                watch(process, shown)
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the command closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
        status = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return status, shown
