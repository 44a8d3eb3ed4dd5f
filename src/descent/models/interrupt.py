"""Ctrl-C during a fit: the first press stops the loop cleanly, a second one at once.

A fit that runs for minutes should not lose its work to one Ctrl-C. Like scikit-learn's
MLP, the training loop then stops at the end of the current step (the end of the
current epoch where a whole epoch runs compiled), keeps what it has learnt and warns.
A second press raises ``KeyboardInterrupt`` as Python always does.

Only the main thread can receive signals, and only a handler left at Python's default
is replaced (a program or a framework with its own SIGINT handler keeps it).
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager


class StopRequest:
    """Whether a stop was asked for; the training loop calls it between steps."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested


@contextmanager
def first_ctrl_c_stops():
    """While the block runs, a first Ctrl-C sets the returned ``StopRequest``.

    The handler puts Python's default back as soon as it fires, so a second press
    raises ``KeyboardInterrupt`` wherever the program is; the handler in place before
    the block is restored when it ends.

    Example:
        >>> with first_ctrl_c_stops() as stop:
        ...     stop()
        False
    """
    stop = StopRequest()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield stop
        return

    def first_press(signum, frame):
        stop.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # Said at once: the step under way may take a while, and the user should know
        # that the press was heard and what a second one does.
        sys.stderr.write("\ndescent: stopping after the current step (Ctrl-C again to stop "
                         "at once)\n")
        sys.stderr.flush()

    previous = signal.signal(signal.SIGINT, first_press)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
