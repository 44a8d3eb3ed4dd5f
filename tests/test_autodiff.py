"""The engine: the graph of Introduction to the Math of Gradient Descent, every primitive
against central differences, stability."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import descent as d
from descent.autodiff.tensor import topological_order


def nudged_grads(f, *arrays, eps=1e-6):
    """Central differences of a scalar f(*arrays) with respect to each array (float64)."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            kept = a[i]
            a[i] = kept + eps
            up = float(f(*arrays))
            a[i] = kept - eps
            down = float(f(*arrays))
            a[i] = kept
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def engine_grads(build, *arrays):
    """Gradients of sum(build(*tensors) * weights) by the engine, plus the weights used."""
    tensors = [d.Tensor(a) for a in arrays]
    out = build(*tensors)
    # A fixed random weighting makes the scalar depend on every output element differently.
    weights = np.random.default_rng(0).normal(size=out.shape)
    (out * weights).sum().backward()
    return [t.grad for t in tensors], weights


def assert_matches_nudging(build, *arrays, tol=1e-6):
    grads, weights = engine_grads(build, *arrays)

    def f(*raw):
        return (build(*[d.Tensor(r, requires_grad=False) for r in raw]).data * weights).sum()

    for exact, nudged in zip(grads, nudged_grads(f, *arrays), strict=True):
        assert exact.shape == nudged.shape
        scale = np.maximum(np.maximum(np.abs(exact), np.abs(nudged)), 1.0)
        assert np.max(np.abs(exact - nudged) / scale, initial=0.0) < tol


# ----- the graph of Introduction to the Math of Gradient Descent ----------------------
def seed_graph():
    a, b, c = d.Tensor(5.0, name="a"), d.Tensor(3.0, name="b"), d.Tensor(2.0, name="c")
    u = b * c
    v = a + u
    J = 3 * v
    u.name, v.name, J.name = "u", "v", "J"
    return a, b, c, u, v, J


def test_seed_002_graph_values_and_chain_rule():
    a, b, c, u, v, J = seed_graph()
    J.backward()
    assert J.item() == 33.0
    assert [float(t.grad) for t in (v, u, a, b, c)] == [3.0, 3.0, 3.0, 6.0, 9.0]


def test_seed_002_nudging_b_agrees_with_chain_rule():
    _, b, _, _, _, J = seed_graph()
    J.backward()
    nudged = d.Tensor(5.0) + d.Tensor(3.001) * d.Tensor(2.0)
    slope = ((3 * nudged).item() - J.item()) / 0.001
    assert slope == pytest.approx(float(b.grad), rel=1e-9)


def test_graph_records_ops_and_parents():
    a, b, c, u, v, J = seed_graph()
    assert (u.op, v.op, J.op) == ("mul", "add", "mul")
    assert u.parents == (b, c) and v.parents == (a, u)
    order = topological_order(J)
    assert order.index(u) < order.index(v) < order.index(J)


def test_show_graph_and_dot_list_every_node_with_value_and_grad():
    *_, J = seed_graph()
    J.backward()
    table = d.show_graph(J)
    rows = {line.split()[0]: line.split() for line in table.splitlines()[1:]}
    assert rows["J"][1:] == ["mul", "3,", "v", "33", "1"]
    assert rows["b"][1:] == ["input", "3", "6"]
    dot = d.to_dot(J)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("->") == 6  # b,c -> u; a,u -> v; 3,v -> J
    assert "grad 9" in dot  # c's gradient


# ----- the log-loss lesson, Understanding the Mathematics behind Gradient Descent ------
def test_seed_001_log_loss_gradient_is_minus_residual_times_point():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(50, 4)), rng.integers(0, 2, size=50).astype(float)
    w, b = d.Tensor(rng.normal(size=4)), d.Tensor(0.3)
    z = X @ w + b
    p = d.sigmoid(z)
    loss = d.mean(-(y * d.log(p)) - (1 - y) * d.log(1 - p))
    loss.backward()
    yhat = 1 / (1 + np.exp(-(X @ w.data + b.data)))
    assert np.allclose(w.grad, (-(y - yhat)[:, None] * X).mean(axis=0), rtol=0, atol=1e-10)
    assert float(b.grad) == pytest.approx(float(-(y - yhat).mean()), abs=1e-10)


def test_seed_003_power_rule_and_partials():
    slope = d.grad(lambda x: 3 * x**5)
    for x in (-2.0, 0.5, 1.7):
        assert slope(x) == pytest.approx(15 * x**4, rel=1e-12)
    partials = d.grad(lambda p: p[0] ** 4 + p[1] ** 7)(np.array([1.5, -0.8]))
    assert np.allclose(partials, [4 * 1.5**3, 7 * 0.8**6])


# ----- every primitive against central differences --------------------------------------
UNARY = {
    "exp": d.exp, "log": lambda t: d.log(d.abs(t) + 0.5), "sqrt": lambda t: d.sqrt(d.abs(t) + 0.5),
    "abs": d.abs, "sin": d.sin, "cos": d.cos, "tanh": d.tanh, "sigmoid": d.sigmoid,
    "relu": d.relu, "softplus": d.softplus, "neg": lambda t: -t, "pow2": lambda t: t**2,
    "pow3": lambda t: t**3, "rpow": lambda t: 2.0**t, "sum": lambda t: d.sum(t),
    "mean": lambda t: d.mean(t), "logsumexp": lambda t: d.logsumexp(t),
    "softmax": lambda t: d.softmax(t), "log_softmax": lambda t: d.log_softmax(t),
    "log_sigmoid": d.log_sigmoid, "transpose": lambda t: t.T, "reshape": lambda t: t.reshape(-1),
    "scale_shift": lambda t: 1 - 3 * t / 2,
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0), "pow": lambda a, b: (a * a + 0.5) ** b,
    "maximum": d.maximum, "minimum": d.minimum,
    "where": lambda a, b: d.where(a > 0.1, a, b),
}
SHAPES = [(), (3,), (2, 3)]
PAIRS = [((2, 3), (3,)), ((2, 1), (1, 3)), ((3,), ()), ((), (2, 3)), ((2, 3), (2, 3)),
         ((4, 2, 3), (2, 1))]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_primitive_matches_nudging(name, shape):
    x = np.random.default_rng(hash((name, shape)) % 2**32).normal(size=shape)
    assert_matches_nudging(UNARY[name], x)


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_primitive_unbroadcasts(name, shapes):
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    assert_matches_nudging(BINARY[name], a, b)


@pytest.mark.parametrize(
    "shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
               ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (3,))], ids=str)
def test_matmul_matches_nudging(shapes):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    assert_matches_nudging(lambda a, b: a @ b, a, b)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduce", [d.sum, d.mean, d.logsumexp])
def test_reductions_along_axes(reduce, axis, keepdims):
    x = np.random.default_rng(5).normal(size=(2, 3, 2))
    assert_matches_nudging(lambda t: reduce(t, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize(
    "index", [0, -1, (1, slice(None, 2)), (Ellipsis, 1), np.array([0, 0, 2]),
              (np.array([1, 1]), np.array([0, 2]))], ids=str)
def test_indexing_including_repeated_fancy_indices(index):
    x = np.random.default_rng(8).normal(size=(3, 3))
    assert_matches_nudging(lambda t: t[index], x)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    name=st.sampled_from(sorted(BINARY)),
)
def test_binary_primitives_on_random_broadcast_shapes(data, shapes, name):
    floats = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
    a = data.draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=floats))
    b = data.draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=floats))
    # maximum/minimum/where are not differentiable at ties and at the switch; keep away.
    if name in ("maximum", "minimum") and np.min(np.abs(np.subtract(a, b)), initial=1) < 1e-3:
        return
    if name == "where" and np.min(np.abs(a - 0.1), initial=1) < 1e-3:
        return
    assert_matches_nudging(BINARY[name], a, b, tol=1e-5)


# ----- numerics, dtypes and mixing -----------------------------------------------------
def test_sigmoid_and_log_loss_are_finite_at_plus_minus_1000():
    z = d.Tensor([-1000.0, 1000.0])
    s = d.sigmoid(z)
    assert np.array_equal(s.data, [0.0, 1.0])
    loss = d.log_loss_with_logits(z, np.array([1.0, 0.0]))
    loss.backward()
    assert loss.item() == pytest.approx(1000.0)
    assert np.allclose(z.grad, [-0.5, 0.5])  # (p - y) / n
    assert np.all(np.isfinite(d.grad(lambda t: d.sigmoid(t).sum())(np.array([-1e3, 1e3]))))
    assert np.all(np.isfinite(d.softmax(d.Tensor([1000.0, -1000.0, 0.0])).data))


def test_numbers_and_arrays_mix_in_on_either_side():
    t = d.Tensor([1.0, 2.0])
    y = np.array([3.0, 4.0])
    for out in (3 * t, t * 3, 1 - t, t - 1, y * t, t * y, y / t, 2**t, y @ t):
        assert isinstance(out, d.Tensor) and out.data.dtype == np.float64
    assert np.array_equal((1 - t).data, [0.0, -1.0])


def test_float32_is_kept_and_float64_is_the_default():
    assert d.Tensor([1, 2]).dtype == np.float64
    x = d.Tensor(np.array([0.5, -1.5], dtype=np.float32))
    out = d.sum(d.sigmoid(2 * x + 1) ** 2 / 3)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32
    g = d.grad(lambda t: (d.tanh(t) * 0.5).sum())(np.ones(3, dtype=np.float32))
    assert g.dtype == np.float32


def test_gradients_accumulate_until_zero_grad():
    x = d.Tensor(2.0)
    (x * x).backward()
    (x * x).backward()
    assert float(x.grad) == 8.0
    y = x * 3
    y.backward()
    y.zero_grad()
    assert x.grad is None and y.grad is None


def test_backward_of_a_non_scalar_needs_a_seed():
    t = d.Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="seed gradient"):
        (t * 2).backward()
    (t * 2).backward(grad=np.array([1.0, 10.0]))
    assert np.array_equal(t.grad, [2.0, 20.0])


def test_a_chain_of_100000_operations_does_not_recurse():
    x = d.Tensor(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert float(x.grad) == 1.0


def test_non_numeric_data_is_refused():
    with pytest.raises(TypeError, match="numeric"):
        d.Tensor(["a", "b"])


# ----- grad, numerical_grad and check_grad -----------------------------------------------
def test_grad_allows_indexing_the_input():
    g = d.grad(lambda x: x[0] ** 2 + 3 * x[1])
    assert np.array_equal(g(np.array([2.0, 5.0])), [4.0, 3.0])


def test_grad_of_a_function_that_ignores_its_input_is_zero():
    assert np.array_equal(d.grad(lambda x: d.Tensor(1.0, requires_grad=False))(np.ones(2)), [0, 0])


def test_grad_refuses_a_non_scalar_function_with_advice():
    with pytest.raises(ValueError, match=r"scalar.*\(3,\).*\.sum\(\)"):
        d.grad(lambda x: x * 2)(np.ones(3))


def test_numerical_grad_and_check_grad_agree_with_the_engine():
    def f(x):
        return d.sum(d.exp(x[:2]) * d.sin(x[1:]))

    x = np.array([0.3, -1.2, 0.7])
    assert np.allclose(d.numerical_grad(f, x), d.grad(f)(x), atol=1e-8)
    assert d.check_grad(f, x) < 1e-6
    # A deliberately wrong gradient is caught: relu's kink compared away from it is fine,
    # but a function whose engine gradient we corrupt is not.
    assert d.check_grad(lambda t: d.abs(t).sum(), np.array([1e-9, 2.0])) > 0.1


def test_value_and_grad_returns_both():
    value, slope = d.value_and_grad(lambda x: x**2)(3.0)
    assert (value, slope) == (9.0, 6.0)


# ----- the stable kernels and the fused log loss -------------------------------------------
def test_sigmoid_kernel_keeps_relative_precision_in_both_tails():
    from descent import numerics

    z = np.array([-700.0, -40.0, -1.0, 0.0, 1.0, 40.0, 700.0])
    exact = np.array([np.exp(v) / (1 + np.exp(v)) if v < 0 else 1 / (1 + np.exp(-v)) for v in z])
    assert np.allclose(numerics.sigmoid(z), exact, rtol=1e-15, atol=0)
    assert numerics.sigmoid(np.float32(-50.0)).dtype == np.float32
    assert numerics.softplus(np.array(1000.0)) == 1000.0


def test_fused_log_loss_equals_its_composition_and_nudging():
    rng = np.random.default_rng(11)
    z0, y = rng.normal(size=20) * 4, rng.integers(0, 2, size=20).astype(float)
    fused = d.Tensor(z0)
    loss = d.log_loss_with_logits(fused, y)
    loss.backward()
    composed = d.Tensor(z0)
    p = d.sigmoid(composed)
    reference = d.mean(-(y * d.log(p)) - (1 - y) * d.log(1 - p))
    reference.backward()
    assert loss.item() == pytest.approx(reference.item(), rel=1e-12)
    assert np.allclose(fused.grad, composed.grad, rtol=1e-10, atol=1e-15)
    assert d.check_grad(lambda t: d.log_loss_with_logits(t, y), z0) < 1e-6
