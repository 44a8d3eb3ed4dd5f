"""The ``descent`` command line: fit, predict, minimize, lr-find and demo.

Each command lives in its own module and registers itself on the group in ``app``;
importing this package assembles the whole command line.
"""

from . import demo_command, minimize_command, train_commands  # noqa: F401  (registers commands)
from .app import main

__all__ = ["main"]
