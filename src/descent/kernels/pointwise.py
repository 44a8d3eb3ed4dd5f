"""Compiled per-point losses: each seed error's value and its slope dL/ds at one score.

The same formulas as ``descent.losses`` (where they are explained), one point at a time,
for the compiled loops. Codes, not names, select the loss inside compiled code:

    0 squared error   1/2 (s - y)^2        slope s - y
    1 absolute error  |s - y|              slope sign(s - y)
    2 perceptron      (step(s) - y) s      slope step(s) - y
    3 log loss        softplus(s) - y s    slope sigmoid(s) - y
    4 hinge           max(0, 1 - t s)      slope -t inside the margin, t = 2y - 1

Every formula lets NaN through (a NaN score gives a NaN loss), so the loops see divergence.
The log loss needs exp and log1p; both are polynomials here, not calls to the C library:
a call cannot be vectorised and stalls the loop around it (no vector maths library is
available to the compiler). Both are accurate to a few units in the last place.
"""

from __future__ import annotations

import math

import numba

from ._jit import pow2

_inline = numba.njit(inline="always", error_model="numpy", fastmath={"contract"})


@_inline
def exp_nonpositive(x):
    """exp(x) for x <= 0: exp(r) * 2**k with x = k ln2 + r, |r| <= ln2 / 2.

    ln2 is split in two (Cody and Waite) so k ln2 is exact; the degree-13 Taylor
    polynomial of exp(r) errs by under 1e-17 on that range. Below -708 the result
    would be subnormal: it is clamped to exp(-708), about 3e-308.
    """
    x = max(x, -708.0)
    k = math.floor(x * 1.4426950408889634 + 0.5)
    r = (x - k * 0.6931471803691238) - k * 1.9082149292705877e-10
    # Estrin's scheme: the same polynomial in four levels of multiply-adds instead of
    # thirteen in a row (a stochastic step waits for this value).
    r2 = r * r
    r4 = r2 * r2
    a0 = 1.0 + r
    a1 = 0.5 + r * (1.0 / 6.0)
    a2 = 1.0 / 24.0 + r * (1.0 / 120.0)
    a3 = 1.0 / 720.0 + r * (1.0 / 5040.0)
    a4 = 1.0 / 40320.0 + r * (1.0 / 362880.0)
    a5 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0)
    a6 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0)
    b0 = a0 + r2 * a1
    b1 = a2 + r2 * a3
    b2 = a4 + r2 * a5
    c0 = b0 + r4 * b1
    c1 = b2 + r4 * a6
    p = c0 + (r4 * r4) * c1
    return p * pow2(numba.int64(k))


@_inline
def log1p_unit(e):
    """log(1 + e) for e in [0, 1], as 2 atanh(z) (plus ln 2 above 1 + e = sqrt 2).

    z = e / (e + 2), or (e - 1) / (e + 3) after halving 1 + e; either way |z| < 0.172,
    and twelve terms of atanh's odd series reach the last bit.
    """
    big = e > 0.41421356237309503
    z = (e - 1.0 if big else e) / (e + 3.0 if big else e + 2.0)
    z2 = z * z
    q = 1.0 / 23.0
    q = q * z2 + 1.0 / 21.0
    q = q * z2 + 1.0 / 19.0
    q = q * z2 + 1.0 / 17.0
    q = q * z2 + 1.0 / 15.0
    q = q * z2 + 1.0 / 13.0
    q = q * z2 + 1.0 / 11.0
    q = q * z2 + 1.0 / 9.0
    q = q * z2 + 1.0 / 7.0
    q = q * z2 + 1.0 / 5.0
    q = q * z2 + 1.0 / 3.0
    q = q * z2 + 1.0
    return (0.6931471805599453 if big else 0.0) + 2.0 * z * q


@_inline
def squared_error(s, y):
    """(1/2 (s - y)^2, s - y)."""
    r = s - y
    return 0.5 * r * r, r


@_inline
def absolute_error(s, y):
    """(|s - y|, sign(s - y)), the sign of 0 being 0."""
    r = s - y
    sign = 1.0 if r > 0 else (-1.0 if r < 0 else r * 0.0)  # r * 0 keeps NaN
    return abs(r), sign


@_inline
def perceptron(s, y):
    """((step(s) - y) s, step(s) - y), step(0) = 1."""
    slope = (1.0 if s >= 0 else 0.0) - y
    return slope * s, slope


@_inline
def log_loss(s, y):
    """(softplus(s) - y s, sigmoid(s) - y), from the one exp(-|s|)."""
    e = exp_nonpositive(-abs(s))
    # sigmoid(s) = exp(min(s, 0)) / (1 + exp(-|s|)); softplus(s) = max(s, 0) + log1p(e)
    slope = (1.0 if s >= 0 else e) / (1.0 + e) - y
    return (s if s > 0 else 0.0) + log1p_unit(e) - y * s, slope


@_inline
def hinge(s, y):
    """(max(0, 1 - t s), -t inside the margin else 0), t = 2y - 1."""
    t = 2.0 * y - 1.0
    slack = 1.0 - t * s
    if slack <= 0:  # outside the margin (a NaN slack counts as inside, as in NumPy)
        return 0.0, 0.0
    return slack, -t


@_inline
def loss_and_slope(loss, s, y):
    """(L, dL/ds) of loss code ``loss`` at score ``s`` and target ``y`` (floats)."""
    if loss == 0:
        return squared_error(s, y)
    if loss == 1:
        return absolute_error(s, y)
    if loss == 2:
        return perceptron(s, y)
    if loss == 3:
        return log_loss(s, y)
    return hinge(s, y)
