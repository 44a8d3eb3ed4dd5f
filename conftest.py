"""Shared by the tests and the doctests: close every figure a test left open."""

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:  # only when a test drew something
        sys.modules["matplotlib.pyplot"].close("all")
