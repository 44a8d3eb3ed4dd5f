"""descent.expression: values and gradients, precedence, the whitelist, random trees, rejections."""

import math
import pickle
import string
import sys
import time

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import descent as d
from descent import numerics
from descent.expression import (
    CONSTANTS,
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    Expression,
    ExpressionError,
    parse,
)

QUARTIC = "x**4 - 3*x**2 + x"
ROSENBROCK = "(1-x)**2 + 100*(y-x**2)**2"


def value_and_slope(text, **points):
    """Evaluate a parsed expression at Tensors and return (value, {name: gradient})."""
    tensors = {name: d.Tensor(value) for name, value in points.items()}
    out = parse(text).evaluate(tensors)
    out.backward()
    return out.item(), {name: float(t.grad) for name, t in tensors.items()}


# ----- the examples: closed-form values and gradients ------------------------------
@pytest.mark.parametrize("x", [-2.0, -0.5, 0.0, 0.3, 1.7, 3.0])
def test_quartic_value_and_derivative(x):
    value, slope = value_and_slope(QUARTIC, x=x)
    assert value == pytest.approx(x**4 - 3 * x**2 + x, rel=1e-12, abs=1e-12)
    assert slope["x"] == pytest.approx(4 * x**3 - 6 * x + 1, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("x, y", [(-1.0, 1.5), (0.0, 0.0), (1.0, 1.0), (0.5, -2.0), (2.0, 3.0)])
def test_rosenbrock_value_and_gradient(x, y):
    value, slope = value_and_slope(ROSENBROCK, x=x, y=y)
    assert value == pytest.approx((1 - x) ** 2 + 100 * (y - x**2) ** 2, rel=1e-12, abs=1e-12)
    assert slope["x"] == pytest.approx(-2 * (1 - x) - 400 * x * (y - x**2), rel=1e-12, abs=1e-12)
    assert slope["y"] == pytest.approx(200 * (y - x**2), rel=1e-12, abs=1e-12)
    # The same gradient through as_function, the way minimize sees it.
    g = d.grad(parse(ROSENBROCK).as_function())(np.array([x, y]))
    assert g == pytest.approx([slope["x"], slope["y"]], rel=1e-12, abs=1e-12)


def test_minimize_rosenbrock_from_the_parsed_text_reaches_one_one():
    f = parse(ROSENBROCK).as_function()
    for start in ([-1.0, 1.5], [-1.5, 2.0]):
        result = d.minimize(f, x0=start, optimizer="adam", learning_rate=0.1, epochs=3000)
        assert result.status == "converged"
        assert result.x == pytest.approx([1.0, 1.0], abs=1e-3)
        assert result.fun < 1e-8


def test_minimize_the_quartic_from_a_scalar_start_finds_the_nearest_minimum():
    result = d.minimize(parse(QUARTIC).as_function(), x0=2.0, learning_rate=0.01)
    roots = np.roots([4.0, 0.0, -6.0, 1.0])  # f'(x) = 4x^3 - 6x + 1
    nearest = roots.real[np.argmin(np.abs(roots.real - 1.1))]
    assert result.status == "converged"
    assert float(result.x) == pytest.approx(nearest, abs=1e-5)


# ----- precedence and associativity --------------------------------------------------------
# The right-hand column is Python's own arithmetic on the same text, written as code.
@pytest.mark.parametrize("text, expected", [
    ("-3**2", -3**2),
    ("2**3**2", 2**3**2),
    ("2^3^2", 2**3**2),
    ("(2**3)**2", (2**3) ** 2),
    ("2**-1", 2**-1),
    ("-2**-2", -2**-2),
    ("2*-3**2", 2 * -3**2),
    ("2**-1*3", 2**-1 * 3),
    ("1-2-3", 1 - 2 - 3),
    ("1-(2-3)", 1 - (2 - 3)),
    ("8/4/2", 8 / 4 / 2),
    ("8/(4/2)", 8 / (4 / 2)),
    ("2+3*4", 2 + 3 * 4),
    ("(2+3)*4", (2 + 3) * 4),
    ("2*3**2", 2 * 3**2),
    ("--3", 3),
    ("+-+3", -3),
    ("3--2", 3 - -2),
    ("-(2+3)*4", -(2 + 3) * 4),
    ("1e-3*2", 1e-3 * 2),
    (".5+2.", 0.5 + 2.0),
    ("1.5E2", 1.5e2),
    ("pi", math.pi),
    ("e**2", math.e**2),
    ("2*pi*e", 2 * math.pi * math.e),
])
def test_precedence_and_associativity_follow_python(text, expected):
    assert parse(text)().item() == pytest.approx(expected, rel=1e-15, abs=0)


@pytest.mark.parametrize("text, same, different", [
    ("-x**2", "-(x**2)", "(-x)**2"),
    ("a**b**c", "a**(b**c)", "(a**b)**c"),
    ("a^b", "a**b", "a*b"),
    ("a-b-c", "(a-b)-c", "a-(b-c)"),
    ("a/b*c", "(a/b)*c", "a/(b*c)"),
    ("a+b*c", "a+(b*c)", "(a+b)*c"),
    ("-a*b", "(-a)*b", "a*-b"),
    ("exp(x)**2", "(exp(x))**2", "exp(x**2)"),
])
def test_parse_groups_like_python(text, same, different):
    assert parse(text) == parse(same)
    assert parse(text) != parse(different)
    assert hash(parse(text)) == hash(parse(same))


def test_str_is_a_minimal_spelling_that_parses_back_to_the_same_expression():
    e = parse("((1-x))^2+100 * ( y-x**2 )^2")
    assert str(e) == "(1 - x)**2 + 100*(y - x**2)**2"
    assert parse(str(e)) == e
    assert str(parse("-(x**2)")) == "-x**2"
    assert str(parse("(-x)**2")) == "(-x)**2"
    assert str(parse("- -x")) == "-(-x)"
    assert str(parse("a-(b-c)")) == "a - (b - c)"
    assert str(parse("2**-x")) == "2**-x"
    assert repr(e) == "Expression('(1 - x)**2 + 100*(y - x**2)**2', variables=('x', 'y'))"
    assert e.text == "((1-x))^2+100 * ( y-x**2 )^2"


# ----- the whitelist against NumPy -----------------------------------------------------------
REFERENCE = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0.0),
    "softplus": lambda z: np.logaddexp(0.0, z),
}


def test_the_reference_table_covers_the_whitelist():
    assert set(REFERENCE) == set(FUNCTIONS)
    assert set(CONSTANTS) == {"pi", "e"}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_each_function_matches_numpy_and_has_the_engines_gradient(name):
    points = np.array([0.2, 0.7, 1.3, 2.9]) if name in ("log", "sqrt") else np.array(
        [-2.5, -0.4, 0.3, 1.1, 3.0])
    e = parse(f"{name}(x)")
    assert e.variables == ("x",)
    assert e(x=points).data == pytest.approx(REFERENCE[name](points), rel=1e-12, abs=1e-15)
    # Composed inside arithmetic, the gradient is the engine's and agrees with nudging.
    f = parse(f"2*{name}(x) + x").as_function()
    for p in points:
        assert d.check_grad(f, np.array(p)) < 1e-6


# ----- random expression trees --------------------------------------------------------------
NUMBER_TEXTS = st.one_of(
    st.integers(0, 999).map(str),
    st.floats(0, 50, allow_nan=False).map(repr),
    st.floats(1e-4, 1e4).map(lambda v: f"{v:.3e}"),
    st.integers(0, 999).map(lambda k: f".{k}"),
    st.integers(0, 99).map(lambda k: f"{k}."),
)
LEAVES = st.one_of(
    NUMBER_TEXTS.map(lambda t: ("number", t)),
    st.sampled_from(["x", "y", "z", "rate_2"]).map(lambda n: ("variable", n)),
    st.sampled_from(["pi", "e"]).map(lambda n: ("constant", n)),
)


def _extend(children):
    return st.one_of(
        st.tuples(st.just("sign"), st.sampled_from("+-"), children),
        st.tuples(st.just("binary"), st.sampled_from(["+", "-", "*", "/", "**"]), children,
                  children),
        st.tuples(st.just("call"), st.sampled_from(sorted(REFERENCE)), children),
    )


TREES = st.recursive(LEAVES, _extend, max_leaves=12)
# Python's binding strengths, written out independently of the parser's table.
LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2, "sign": 3, "**": 4, "atom": 5}


def render(tree, draw):
    """Text for ``tree`` with the parentheses Python needs, plus some it does not."""
    kind = tree[0]
    if kind in ("number", "variable", "constant"):
        text, level = tree[1], LEVEL["atom"]
    elif kind == "call":
        text, level = f"{tree[1]}({render(tree[2], draw)[0]})", LEVEL["atom"]
    elif kind == "sign":
        inner, inner_level = render(tree[2], draw)
        text, level = tree[1] + wrap(inner, inner_level < LEVEL["sign"], draw), LEVEL["sign"]
    else:
        op, (left, lo), (right, ro) = tree[1], render(tree[2], draw), render(tree[3], draw)
        level = LEVEL[op]
        if op == "**":
            left = wrap(left, lo < LEVEL["atom"], draw)
            right = wrap(right, ro < LEVEL["sign"], draw)
            op = draw(st.sampled_from(["**", "^"]))
        else:
            left = wrap(left, lo < level, draw)
            right = wrap(right, ro <= level, draw)
        space = draw(st.sampled_from(["", " ", "  "]))
        text = left + space + op + space + right
    return text, level


def wrap(text, needed, draw):
    return f"({text})" if needed or draw(st.integers(0, 3)) == 0 else text


def fully_parenthesized(tree):
    """Text in which every operation has its own parentheses: no precedence involved."""
    kind = tree[0]
    if kind in ("number", "variable", "constant"):
        return tree[1]
    if kind == "call":
        return f"{tree[1]}({fully_parenthesized(tree[2])})"
    if kind == "sign":
        return f"({tree[1]}{fully_parenthesized(tree[2])})"
    return f"({fully_parenthesized(tree[2])}{tree[1]}{fully_parenthesized(tree[3])})"


NUMPY_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}
NUMPY_CALL = {**REFERENCE, "sigmoid": numerics.sigmoid, "softplus": numerics.softplus}


def numpy_value(tree, env):
    """The tree evaluated directly with NumPy, the same operations the engine runs."""
    kind = tree[0]
    if kind == "number":
        return np.asarray(float(tree[1]))
    if kind == "variable":
        return env[tree[1]]
    if kind == "constant":
        return np.asarray({"pi": math.pi, "e": math.e}[tree[1]])
    if kind == "sign":
        inner = numpy_value(tree[2], env)
        return -inner if tree[1] == "-" else inner
    if kind == "call":
        return NUMPY_CALL[tree[1]](numpy_value(tree[2], env))
    return NUMPY_BINARY[tree[1]](numpy_value(tree[2], env), numpy_value(tree[3], env))


def variables_of(tree):
    if tree[0] == "variable":
        return {tree[1]}
    return set().union(*(variables_of(t) for t in tree[2:] if isinstance(t, tuple)))


OPERATOR_TREES = st.recursive(
    st.sampled_from(["a", "b", "c", "2"]).map(lambda n: ("number" if n == "2" else "variable", n)),
    lambda children: st.one_of(
        st.tuples(st.just("sign"), st.sampled_from("+-"), children),
        *[st.tuples(st.just("binary"), st.just(op), children, children)
          for op in ("+", "-", "*", "/", "**")],
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(tree=OPERATOR_TREES, data=st.data())
def test_operator_chains_group_like_python(tree, data):
    text, _ = render(tree, data.draw)
    assert parse(text) == parse(fully_parenthesized(tree))


POINTS = st.lists(st.floats(-4, 4, allow_nan=False), min_size=3, max_size=3).map(np.array)


@settings(max_examples=300, deadline=None)
@given(tree=TREES, data=st.data(), x=POINTS, y=POINTS, z=POINTS, r=POINTS)
def test_random_trees_parse_to_what_numpy_computes(tree, data, x, y, z, r):
    text, _ = render(tree, data.draw)
    e = parse(text)
    assert e == parse(fully_parenthesized(tree))  # grouped as Python would group it
    assert e.variables == tuple(sorted(variables_of(tree)))
    env = {"x": x, "y": y, "z": z, "rate_2": r}
    with np.errstate(all="ignore"):
        got = e.evaluate({name: env[name] for name in e.variables}).data
        expected = numpy_value(tree, env)
    # Same operations in the same order: equal wherever finite, and non-finite alike.
    np.testing.assert_allclose(got, np.broadcast_to(expected, got.shape), rtol=1e-12,
                               atol=0, equal_nan=True)
    assert parse(str(e)) == e


# ----- the API -------------------------------------------------------------------------------
def test_variables_are_sorted_and_exclude_constants_and_functions():
    assert parse("y*b + a - exp(c) + pi*e").variables == ("a", "b", "c", "y")
    assert parse("x + X + x1 + x10 + x2").variables == ("X", "x", "x1", "x10", "x2")
    assert parse("2 + 3").variables == ()


def test_evaluate_returns_a_tensor_with_engine_gradients():
    e = parse("x*y + sin(x)")
    x, y = d.Tensor(0.5), d.Tensor(2.0)
    out = e.evaluate({"x": x, "y": y})
    assert isinstance(out, d.Tensor)
    out.backward()
    assert float(x.grad) == pytest.approx(2.0 + math.cos(0.5))
    assert float(y.grad) == pytest.approx(0.5)
    assert isinstance(parse("2 + 3")(), d.Tensor) and parse("2 + 3")().item() == 5.0
    assert parse("self + 1")(self=2.0).item() == 3.0  # 'self' is an ordinary variable name


def test_evaluate_names_missing_and_unknown_variables():
    with pytest.raises(ExpressionError, match="no value for y") as info:
        parse("x + y")(x=1.0)
    assert "x, y" in str(info.value)
    with pytest.raises(ExpressionError, match="names it does not use: z"):
        parse("x + y")(x=1.0, y=2.0, z=3.0)


def test_as_function_takes_a_vector_in_variable_order_or_a_scalar():
    f = parse("10*b + a").as_function()  # variables ('a', 'b')
    assert f(d.Tensor([1.0, 2.0])).item() == 21.0
    grid = f(np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]]))  # many points along axis 1
    assert grid.data.tolist() == [1.0, 12.0, 23.0]
    g = parse("x**2").as_function()
    assert g(d.Tensor(3.0)).item() == 9.0
    assert g(d.Tensor([3.0])).item() == 9.0
    assert "f(a, b) = 10*b + a" in f.__doc__
    with pytest.raises(ExpressionError, match=r"needs a vector of 2 coordinates \(a, b\)"):
        f(d.Tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ExpressionError, match="got shape"):
        f(d.Tensor(1.0))
    with pytest.raises(ExpressionError, match="no variables"):
        parse("1 + 2").as_function()


def test_parse_needs_a_string():
    with pytest.raises(TypeError, match="needs a str"):
        parse(b"x + 1")


def test_expression_error_is_a_value_error_with_position_and_text():
    with pytest.raises(ValueError) as info:
        parse("x + 2y")
    err = info.value
    assert isinstance(err, ExpressionError)
    assert err.position == 5 and err.text == "x + 2y"
    lines = str(err).splitlines()
    assert lines[1] == "    x + 2y" and lines[2] == "         ^"
    assert "write 2*y" in lines[0] and lines[3].startswith("Allowed:")
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err) and copy.position == 5


# ----- rejections -------------------------------------------------------------------------
REJECTED = [
    # text, where the caret points, words the message must contain
    ("__import__('os')", 0, "reserved"),
    ('__import__("os")', 0, "reserved"),
    ("x.__class__", 1, "attribute"),
    ("x.real", 1, "attribute"),
    ("().__class__", 1, "found ')'"),
    ('"abc"', 0, "strings"),
    ("'abc'", 0, "strings"),
    ("x + 'a'", 4, "strings"),
    ("open('f')", 0, "'open' is not a function"),
    ("eval('1')", 0, "'eval' is not a function"),
    ("exec(x)", 0, "'exec' is not a function"),
    ("x(2)", 0, "'x' is not a function"),
    ("pi(2)", 0, "constant, not a function"),
    ("exp(x=1)", 5, "keyword arguments"),
    ("exp(x, y)", 0, "exactly one argument, got 2"),
    ("exp()", 0, "exactly one argument, got 0"),
    ("x, y", 1, "comma"),
    ("(x, y)", 2, "comma"),
    ("x[0]", 1, "subscripts"),
    ("lambda x: x", 0, "keyword"),
    ("x if y else z", 2, "keyword"),
    ("not x", 0, "keyword"),
    ("x < 1", 2, "comparison"),
    ("x >= 1", 2, "comparison"),
    ("x == 1", 2, "comparison"),
    ("x != 1", 2, "comparison"),
    ("x = 1", 2, "assignments"),
    ("(x + 1", 0, "never closed"),
    ("exp(x", 3, "never closed"),
    ("((x)", 0, "never closed"),
    ("x + 1)", 5, "no matching '('"),
    ("", 0, "empty"),
    ("  \t ", 0, "empty"),
    ("x +", 3, "end of the text"),
    ("x ** * 2", 5, "found '*'"),
    ("x 1", 2, "missing operator"),
    ("2x", 1, "implicit multiplication"),
    ("2 x", 2, "implicit multiplication"),
    ("2(x)", 1, "implicit multiplication"),
    ("(x)(y)", 3, "implicit multiplication"),
    ("x y", 2, "implicit multiplication"),
    ("1e", 1, "scientific notation"),
    ("1.2.3", 3, "malformed number"),
    ("_x + 1", 0, "reserved"),
    ("x + _", 4, "reserved"),
    ("exp + 1", 0, "'exp' is a function"),
    ("2*sqrt", 2, "'sqrt' is a function"),
    ("x; y", 1, "one expression"),
    ("x % 2", 2, "'%' is not supported"),
    ("x @ y", 2, "'@' is not supported"),
    ("x // y", 3, "found '/'"),
    ("x # note", 2, "comments"),
    ("x²", 1, "unexpected character"),
    ("1e999 * x", 0, "too large"),
    ("x" + " + x" * 2_500, MAX_LENGTH, "the limit is 10,000"),
    ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), MAX_DEPTH + 1, "nests more than 200"),
    ("-" * 300 + "x", MAX_DEPTH + 1, "nests more than 200"),
    ("exp(" * 300 + "x" + ")" * 300, 4 * (MAX_DEPTH + 1), "nests more than 200"),
    ("2**" * 300 + "2", 3 * (MAX_DEPTH + 1), "nests more than 200"),
    ("(" * 4_999 + "x" + ")" * 4_999, MAX_DEPTH + 1, "nests more than 200"),
]


@pytest.mark.parametrize("text, position, words", REJECTED, ids=lambda v: repr(v)[:30])
def test_rejections_raise_expression_error_with_a_caret(text, position, words):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    message = str(err)
    assert words in err.reason
    assert err.position == position
    assert f"(column {position + 1})" in message
    shown, caret = message.splitlines()[1:3]
    assert caret.strip() == "^"
    # The caret sits under the reported character (the shown text may be a window of it).
    if len(text) <= 72 and position < len(text):
        assert shown[caret.index("^")] == text[position].replace("\t", " ")
    if words.startswith(("the limit", "nests")):  # a limit: the fix is a smaller formula
        assert message.endswith(err.hint) and err.hint.startswith(("Write a shorter",
                                                                   "Simplify it"))
    else:
        assert "Allowed:" in message and "softplus" in message


def test_deep_but_allowed_nesting_and_long_flat_sums_work_without_recursion_trouble():
    nested = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert parse(nested)(x=2.0).item() == 2.0
    assert parse("-" * MAX_DEPTH + "x")(x=2.0).item() == 2.0  # an even number of signs
    flat = "x" + " + x" * 2_000  # 8,001 characters: well inside the limit, 4,000 steps
    e = parse(flat)
    x = d.Tensor(1.5)
    out = e(x=x)
    out.backward()
    assert out.item() == pytest.approx(1.5 * 2_001) and float(x.grad) == 2_001.0
    assert parse(str(e)) == e


def test_expression_is_constructed_only_by_parse_and_holds_no_python_code():
    e = parse(ROSENBROCK)
    assert isinstance(e, Expression)
    assert not hasattr(e, "__dict__")  # slots only: text, variables and the postfix steps
    kinds = {step[0] for step in e._program}
    assert kinds <= {"number", "constant", "variable", "negate", "call", "binary"}


# ----- fuzzing: random and hostile text ------------------------------------------------------
# Nothing in parsing or evaluating may compile, execute, import, open or spawn anything.
# An audit hook (permanent once added, so it records only while a test watches) sees
# every such attempt, wherever in Python or a C extension it comes from.
WATCHED_EVENTS = {"exec", "compile", "import", "open", "os.system", "os.exec", "os.spawn",
                  "os.posix_spawn", "subprocess.Popen", "ctypes.dlopen", "pickle.find_class",
                  "marshal.loads", "builtins.input", "socket.connect", "code.__new__"}
_seen_events: list[str] = []
_watching = [False]


def _audit(event, args):
    if _watching[0] and event in WATCHED_EVENTS:
        _seen_events.append(event)


sys.addaudithook(_audit)

def test_the_audit_hook_sees_code_being_run():
    _seen_events.clear()
    _watching[0] = True
    try:
        eval("1 + 1")  # what parse must never do
    finally:
        _watching[0] = False
    assert {"compile", "exec"} & set(_seen_events)


TRICKY = [
    "__import__", "__import__('os').system('echo hi')", "__class__", ".__dict__", "x.__mro__",
    "lambda", "lambda x: x", "(lambda: 1)()", "eval", "exec", "open", "import os", "os",
    "1e999999", "-1e999999", "1e-999999", "9" * 400, "0." + "0" * 400 + "1", "0x1F", "1_000",
    "(" * 250, ")" * 250, "exp(" * 120, "-" * 250, "**" * 30, "2**" * 40, "((x))",
    "\x00", "\x1b[2J", "\x07", "\u202e", "\u2003", "\ufeff", "٣", "𝟗", "１", "²", "é", "µ",
    "x", "y", "z1", "pi", "e", "sqrt", "log", "exp", "softplus", "(", ")", ",", "+", "-", "*",
    "/", "^", "**", " ", "\t", "\n", "\\", "#", ";", "=", "==", ":", "[", "]", "{", "}", "@",
    "%", "!", "'", '"', "`", "$", ".", "..", "1.", ".5", "2x", "1e", "1e+", "inf", "nan",
]
FUZZ = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=120),
    st.text(string.printable + "\x00\x1b٣𝟗²é", max_size=200),
    st.lists(st.sampled_from(TRICKY), max_size=40).map("".join),
    st.lists(st.sampled_from(TRICKY), max_size=40).map(" ".join),
)


@settings(max_examples=400, deadline=None)
@given(text=FUZZ)
@example("__import__('os').system('touch /tmp/descent-pwned')")
@example("(lambda: __import__('os'))()")
@example("x.__class__.__mro__[1].__subclasses__()")
@example("1e999999 * x")
@example("9" * 5_000 + "*x")
@example("(" * 5_000 + "x" + ")" * 5_000)
@example("exp(" * 300 + "x" + ")" * 300)
@example("٣ + x")
@example("x\x00 + 1")
@example("x" + "+x" * 4_999)
@example("x" + "+x" * 5_000)
def test_random_text_evaluates_or_is_one_short_error_and_never_runs_anything(text):
    started = time.perf_counter()
    _seen_events.clear()
    _watching[0] = True
    try:
        try:
            e = parse(text)
        except ExpressionError as err:
            _check_error(err)
        else:
            _check_evaluates(e)
    finally:
        _watching[0] = False
    assert not _seen_events, _seen_events
    assert time.perf_counter() - started < 3.0  # generous on a busy 2-core machine


def _check_error(err: ExpressionError) -> None:
    """One reason of bounded length, a bounded one-line form, nothing unprintable raw."""
    assert err.reason and "\n" not in err.reason and len(err.reason) <= 200, err.reason[:300]
    line = err.one_line()
    assert "\n" not in line and len(line) <= 600
    assert all(len(row) <= 300 for row in str(err).splitlines())
    assert all(ch.isprintable() for ch in line), repr(line[:200])


def _check_evaluates(e: Expression) -> None:
    """The engine evaluates it at a point and differentiates it; printing parses back."""
    point = {name: d.Tensor(1.5) for name in e.variables}
    with np.errstate(all="ignore"):
        out = e.evaluate(point)
        if e.variables:
            out.backward()
    assert isinstance(out, d.Tensor) and out.data.shape == ()
    assert all(t.grad is not None and t.grad.shape == () for t in point.values())
    printed = str(e)  # spaced around + and -: it may be longer than the text it came from
    if len(printed) <= MAX_LENGTH:
        assert parse(printed) == e
