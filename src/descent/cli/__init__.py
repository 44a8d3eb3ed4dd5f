"""The ``descent`` command line: fit, predict, minimize, lr-find, demo and playground.

Each command lives in its own module and registers itself on the group in ``app``;
importing this package assembles the whole command line.
"""

from . import (  # noqa: F401  (each module registers its commands)
    demo_command,
    minimize_command,
    playground_command,
    train_commands,
)
from .app import main

__all__ = ["main"]
