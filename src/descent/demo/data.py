"""The examples' built-in data: numbers written here and data generated from a fixed seed.

The data sets bundled with scikit-learn (breast cancer, diabetes) and its generators
(blobs, circles, regression) are loaded where they are used.
"""

from __future__ import annotations

import numpy as np

# Six houses: the number of rooms and the price.
ROOMS = np.array([1.0, 2.0, 3.0, 5.0, 6.0, 7.0])
PRICES = np.array([155.0, 197.0, 244.0, 356.0, 407.0, 448.0])

# Eight points in the plane, the first four labelled 0 and the last four 1.
POINTS = np.array([[1, 0], [0, 2], [1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 2]], dtype=float)
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1])


def heights_and_weights(n: int = 200, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generated people: height in cm (mean 170, sd 9) and weight in kg, roughly linear."""
    rng = np.random.default_rng(random_state)
    height = rng.normal(170.0, 9.0, n)
    weight = 0.9 * height - 85.0 + rng.normal(0.0, 7.0, n)
    return height, weight


def _hold_out(X, y):
    """A quarter of the rows held out, in the same class proportions, the same every run."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
