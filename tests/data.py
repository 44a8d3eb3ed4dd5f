"""The reference data in ../shared/data: read in place, never copied into the project."""

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load(name: str, **kwargs) -> np.ndarray:
    """The file as a float array; the test is skipped when the shared data is absent."""
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared data sits beside the project)")
    return np.loadtxt(path, delimiter=",", **kwargs)


def load_book_points(name: str) -> tuple[np.ndarray, np.ndarray]:
    """x_1, x_2 and the 0/1 label from the book's CSVs (header ',x_1,x_2,y', index first)."""
    table = load(name, skiprows=1)
    return table[:, 1:3], table[:, 3].astype(int)
