"""Each epoch's order of rows: a seeded Fisher-Yates shuffle, compiled or in Python."""

import math
from collections import Counter
from itertools import permutations

import numpy as np
import pytest

import descent as d
from descent.kernels import order as order_module
from descent.kernels.order import _python_shuffle_by, shuffled_order

from .subprocesses import assert_second_process_starts_warm

try:
    import numba  # noqa: F401
except ImportError:  # pragma: no cover - numba is a dependency
    numba = None
needs_numba = pytest.mark.skipif(numba is None, reason="needs numba")


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 10_000])
def test_the_order_is_a_permutation_and_repeats_with_the_seed(n):
    order = shuffled_order(np.random.default_rng(3), n)
    assert order.dtype == np.int64
    assert np.array_equal(np.sort(order), np.arange(n))
    assert np.array_equal(order, shuffled_order(np.random.default_rng(3), n))
    if n >= 17:
        assert not np.array_equal(order, shuffled_order(np.random.default_rng(4), n))


@needs_numba
def test_compiled_and_python_swaps_give_the_same_order(monkeypatch):
    monkeypatch.setenv("DESCENT_JIT", "1")  # whatever the environment running the tests says
    compiled = shuffled_order(np.random.default_rng(7), 5000)
    assert order_module._compiled_loop() is not None  # the compiled loop runs here
    monkeypatch.setenv("DESCENT_JIT", "0")
    assert np.array_equal(shuffled_order(np.random.default_rng(7), 5000), compiled)


def test_a_draw_that_rounds_up_is_capped_at_its_own_position():
    order = np.arange(4, dtype=np.int64)
    _python_shuffle_by(order, np.full(4, np.nextafter(1.0, 0.0)))
    assert sorted(order.tolist()) == [0, 1, 2, 3]


@pytest.mark.parametrize("jit", ["1", "0"])
def test_every_order_of_four_rows_is_equally_likely(monkeypatch, jit):
    monkeypatch.setenv("DESCENT_JIT", jit)
    rng = np.random.default_rng(11)
    draws = 24_000
    seen = Counter(tuple(shuffled_order(rng, 4).tolist()) for _ in range(draws))
    assert set(seen) == set(permutations(range(4)))
    expected = draws / 24
    chi2 = sum((count - expected) ** 2 / expected for count in seen.values())
    assert chi2 < 49.7  # the 0.999 quantile of chi-square with 23 degrees of freedom
    # and every row lands in every position about a quarter of the time
    first = Counter(order[0] for order in seen.elements())
    assert all(math.isclose(first[i] / draws, 0.25, abs_tol=0.015) for i in range(4))


def test_shuffled_fits_are_the_same_with_and_without_the_compiled_kernels(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X @ [1.0, -1.0, 0.5, 0.0] > 0).astype(int)
    settings = dict(batch_size=16, epochs=3, tol=None, random_state=5)
    compiled = d.LogisticRegression(**settings).fit(X, y)
    monkeypatch.setenv("DESCENT_JIT", "0")
    reference = d.LogisticRegression(**settings).fit(X, y)
    np.testing.assert_allclose(compiled.coef_, reference.coef_, rtol=1e-10, atol=1e-12)


WARM = """
import json, numpy as np
from descent.kernels import order, order_loop
order.shuffled_order(np.random.default_rng(0), 10)
s = order_loop.shuffle_by.stats
print(json.dumps({"shuffle_by": [sum(s.cache_hits.values()), sum(s.cache_misses.values())]}))
"""

@needs_numba
def test_a_second_process_loads_the_compiled_shuffle_from_the_disk_cache():
    assert_second_process_starts_warm(WARM)
