"""Ctrl-C in ``descent fit`` (issue 11, item 5): the training done so far is never lost.

The command runs for real on a pseudo-terminal, so its progress bar shows; the test waits
until the bar has counted an epoch (the fit's Ctrl-C handler is in place by then) and
sends real SIGINTs. A first press ends the fit after its current step: the command prints
what it kept, saves it with ``--save`` (the file says ``stopped: interrupted``) and exits
with status 130, as a shell reports an interrupted program. A second press stops at once,
without a traceback and without writing a half model file.
"""

import re
import signal
import sys

import numpy as np
import pytest

import descent

from .subprocesses import run_on_terminal

COMMAND = [sys.executable, "-m", "descent.cli"]
#: What a fit says when the first Ctrl-C reaches it.
ACKNOWLEDGED = re.compile(rb"Ctrl-C again to stop at once")


@pytest.fixture(scope="module")
def long_fit_data(tmp_path_factory):
    """Noisy labels on 20,000 rows: a network keeps finding something to fit for minutes,
    and with the whole set as one batch each step takes tens of milliseconds, so a second
    Ctrl-C sent 20 ms after the first lands inside a step."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 20))
    y = (X[:, 0] + rng.normal(size=len(X)) > 0).astype(int)
    path = tmp_path_factory.mktemp("interrupt") / "noisy.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.6g")
    return path


def _fit_then_press(data, save, presses: int):
    """Start ``descent fit`` on a terminal, press Ctrl-C once an epoch is counted and, for a
    second press, again as soon as the first is acknowledged; return (exit status,
    everything the terminal showed)."""
    pressed = 0

    def press(process, shown):
        nonlocal pressed
        if pressed < presses and re.search(rb"epoch [1-9]", shown) and (
                pressed == 0 or ACKNOWLEDGED.search(shown)):
            process.send_signal(signal.SIGINT)
            pressed += 1

    status, shown = run_on_terminal(
        [*COMMAND, "fit", data, "--target", "20", "--model", "mlp", "--hidden", "256",
         "--batch-size", "full", "--epochs", "100000", "--tol", "0", "--save", save],
        watch=press, timeout=240)
    assert pressed >= 1, f"the fit never showed an epoch: {shown[-500:]!r}"
    return status, shown.decode("utf-8", "replace"), pressed


def test_a_first_ctrl_c_keeps_and_saves_the_training_done(tmp_path, long_fit_data):
    save = tmp_path / "kept.descent"
    status, shown, _ = _fit_then_press(long_fit_data, save, presses=1)
    assert status == 130, shown
    assert "Traceback" not in shown
    assert re.search(r"interrupted \(Ctrl-C\) after \d+ epoch\(s\): kept the model trained "
                     r"so far; saved it", shown), shown
    assert re.search(r"stopped\s+.*interrupted", shown), shown  # the table says why it ended
    model = descent.load(save)
    assert model.history_.stopped == "interrupted"
    assert model.n_iter_ == len(model.history_.loss) >= 1
    assert np.all(np.isfinite(model.predict(np.zeros((3, 20)))))


def test_a_second_ctrl_c_stops_at_once_without_a_traceback_or_a_half_file(
        tmp_path, long_fit_data):
    # The second press is sent as soon as the first is acknowledged. When the first came
    # in the last few milliseconds of a step, the fit may end (and save) before the second
    # arrives: that attempt shows the first press's outcome and is tried again.
    for _attempt in range(4):
        save = tmp_path / "kept.descent"
        save.write_bytes(b"an earlier file")
        status, shown, pressed = _fit_then_press(long_fit_data, save, presses=2)
        assert status == 130, shown
        assert "Traceback" not in shown
        if "kept the model trained so far" not in shown:
            break
    assert pressed == 2
    assert "error: interrupted (Ctrl-C); nothing more was written" in shown, shown
    assert save.read_bytes() == b"an earlier file"  # never replaced by half a model
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
