"""Arithmetic typed as text, for ``descent minimize "x**2 + y**2"``: read safely, run by the engine.

The text is read by the small tokenizer and precedence-climbing parser below; nothing
is handed to Python's ``eval``, ``exec``, ``compile`` or ``ast``, so a string can name
only numbers, variables, the operators and the whitelisted functions, never Python
objects. The grammar, loosest binding first::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("+" | "-") unary | power
    power      := atom (("**" | "^") unary)?       (right-associative)
    atom       := number | name | function "(" expression ")" | "(" expression ")"

so precedence follows Python: ``-x**2`` is ``-(x**2)``, ``2**3**2`` is ``2**(3**2)``
and ``2**-1`` is 0.5. ``^`` is another spelling of ``**`` (as in most calculators), not
exclusive-or. Numbers are written ``2``, ``2.5``, ``.5`` or ``1e-3``; ``pi`` and ``e`` are
constants; every other name is a variable. Multiplication is always written: ``2x`` is an
error, ``2*x`` is not.

The parse is kept as a postfix program (a flat list of steps), so evaluating and printing
an expression are loops: a sum of thousands of terms cannot hit the recursion limit. The
parser itself recurses on a list, not on Python's stack (each rule is a generator that
yields the rules it needs), so nesting is bounded only by ``MAX_DEPTH``, with a clear
message. Reading, printing and differentiating an expression take time linear in its
length (``bench/bench_expression.py`` measures it), and every error quotes at most a
short excerpt of the text, however long the text is.

Example:
    >>> from descent import Tensor
    >>> f = parse("x**4 - 3*x**2 + x")
    >>> f.variables
    ('x',)
    >>> x = Tensor(2.0)
    >>> y = f(x=x)
    >>> y.backward()
    >>> y.item(), float(x.grad)
    (6.0, 21.0)
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import NamedTuple

from .autodiff import Tensor, ops
from .autodiff.tensor import lift

MAX_LENGTH = 10_000
"""The longest text ``parse`` accepts, in characters."""

MAX_DEPTH = 200
"""How deeply parentheses, signs, calls and powers may nest inside one another."""

FUNCTIONS: Mapping[str, Callable[[Tensor], Tensor]] = MappingProxyType({
    "exp": ops.exp, "log": ops.log, "sqrt": ops.sqrt, "abs": ops.abs, "sin": ops.sin,
    "cos": ops.cos, "tanh": ops.tanh, "sigmoid": ops.sigmoid, "relu": ops.relu,
    "softplus": ops.softplus,
})
"""The functions an expression may call, each with one argument, by name."""

CONSTANTS: Mapping[str, float] = MappingProxyType({"pi": math.pi, "e": math.e})
"""Names that stand for numbers rather than variables."""

ALLOWED = (
    "Allowed: numbers (2, 2.5, .5, 1e-3), variable names, + - * / and ** (^ means ** too), "
    "unary + and -, parentheses, the constants pi and e, and the functions "
    + ", ".join(FUNCTIONS) + " (one argument each)."
)

# Binary operators: precedence and whether they group from the right.
_BINARY = {"+": (1, False), "-": (1, False), "*": (2, False), "/": (2, False), "**": (4, True)}
_UNARY = 3  # a sign binds tighter than * but looser than ** on its right: -x**2 == -(x**2)
_ATOM = 5
_ENGINE_OPS = {"+": ops.add, "-": ops.subtract, "*": ops.multiply, "/": ops.divide,
               "**": ops.power}

_Pieces = str | tuple  # printing: a string, or a tuple of pieces to be joined in order

_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = " \t\r\n\f\v"
_SYMBOLS = ("**", "+", "-", "*", "/", "^", "(", ")", ",")
_FORBIDDEN = {
    '"': "strings are not allowed",
    "'": "strings are not allowed",
    ".": "attribute access ('.') is not allowed",
    "[": "subscripts ('[...]') are not allowed",
    "]": "subscripts ('[...]') are not allowed",
    "{": "braces are not allowed",
    "}": "braces are not allowed",
    "<": "comparison operators are not allowed",
    ">": "comparison operators are not allowed",
    "!": "comparison operators are not allowed",
    ":": "':' is not allowed (no lambda, slices or annotations)",
    ";": "only one expression is allowed (no ';')",
    "#": "comments ('#') are not allowed",
    "\\": "backslashes are not allowed",
}


_SHORTEN = (f"Write a shorter formula (at most {MAX_LENGTH:,} characters), e.g. with fewer "
            "terms or shorter numbers.")
_FLATTEN = ("Simplify it: remove doubled parentheses and signs (--x is x), and nest fewer "
            "calls and powers.")


class ExpressionError(ValueError):
    """Text that is not an expression descent accepts (or values that do not fit one).

    The message names the problem, shows the text with a caret under the place where
    it was found and says what is allowed.

    Attributes:
        reason: the problem, in one sentence.
        hint: the last line of the message: what is allowed, or what to do.
        text: the text that was parsed (None when the problem is not in the text).
        position: the 0-based index in ``text`` of the problem (None likewise).
    """

    def __init__(self, reason: str, text: str | None = None, position: int | None = None,
                 hint: str = ALLOWED):
        self.reason, self.text, self.position, self.hint = reason, text, position, hint
        if text is None or position is None:
            message = f"{reason}\n{hint}" if hint else reason
        else:
            message = f"{reason} (column {position + 1}):\n{_excerpt(text, position)}\n{hint}"
        super().__init__(message)

    def __reduce__(self):
        return type(self), (self.reason, self.text, self.position, self.hint)

    def one_line(self, width: int = 60) -> str:
        """The error on one line, quoting at most ``width`` characters around the problem.

        What the command line prints: the column, a short excerpt of the text (never the
        whole of a long text), the reason and the hint.

        Example:
            >>> try:
            ...     parse("x + 2y")
            ... except ExpressionError as err:
            ...     print(err.one_line().split(": implicit")[0])
            at column 6, near 'x + 2y': missing operator between '2' and 'y'
        """
        if self.text is None or self.position is None:
            return f"{self.reason}. {self.hint}"
        near, _ = _window(self.text, self.position, width)
        of = f" of {len(self.text):,}" if len(self.text) > width else ""
        return (f"at column {self.position + 1:,}{of}, near '{near}': "
                f"{self.reason}. {self.hint}")


# Whitespace shows as a space, anything else unprintable (NUL, ESC, ...) as '?': one
# character each, so the caret stays under its place and nothing reaches a terminal raw.
_SHOWN = {ord(ch): " " for ch in _SPACE}


def _window(text: str, position: int, width: int) -> tuple[str, int]:
    """At most ``width`` characters of ``text`` around ``position``, on one line, safe to
    print, with '...' where cut; and the index of ``position`` in what is returned."""
    start = 0
    if len(text) > width:
        start = max(0, min(position - width // 2, len(text) - width))
    piece = text[start:start + width].translate(_SHOWN)
    piece = "".join(ch if ch.isprintable() else "?" for ch in piece)
    before = "..." if start > 0 else ""
    after = "..." if start + width < len(text) else ""
    return before + piece + after, len(before) + position - start


def _excerpt(text: str, position: int, width: int = 72) -> str:
    """The text (a window of it when long) on one line, and a caret under ``position``."""
    line, column = _window(text, position, width)
    return f"    {line}\n    {' ' * column}^"


def _cut(token: str, limit: int = 24) -> str:
    """A token as a message quotes it: whole when short, else its start and its length.

    >>> _cut("x" * 5000)
    "'xxxxxxxxxxxxxxxxxxxxx...' (5,000 characters)"
    """
    if len(token) <= limit:
        return repr(token)
    return f"{token[:limit - 3] + '...'!r} ({len(token):,} characters)"


def _cut_bare(token: str, limit: int = 24) -> str:
    """Like ``_cut`` without the quotes, for numbers and for advice such as 'write 2*y'."""
    return token if len(token) <= limit else f"{token[:limit - 3]}... ({len(token):,} chars)"


def _names(names, limit: int = 8) -> str:
    """Names joined by commas, the first ``limit`` of them (and how many in all)."""
    names = list(names)
    shown = ", ".join(_cut_bare(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names):,} in all)"


class _Token(NamedTuple):
    kind: str  # "number", "name", "symbol" or "end"
    text: str
    position: int


def _fail(reason: str, text: str, position: int) -> ExpressionError:
    return ExpressionError(reason, text, position)


def _tokens(text: str) -> Iterator[_Token]:
    """The tokens of ``text``, one at a time, so the first problem is the one reported."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            end = number.end()
            if end < n and (text[end].isalnum() or text[end] in "_."):
                raise _bad_number_end(text, i, end)
            value = float(number.group())
            if not math.isfinite(value):
                raise _fail(f"the number {_cut_bare(number.group())} is too large for a float "
                            "(the largest is about 1.8e308)", text, i)
            yield _Token("number", number.group(), i)
            i = end
            continue
        name = _NAME.match(text, i)
        if name:
            word = name.group()
            if word.startswith("_"):
                raise _fail(f"names starting with '_' are reserved, so {_cut(word)} is not "
                            "allowed", text, i)
            if keyword.iskeyword(word):
                raise _fail(f"{word!r} is a Python keyword; keywords are not allowed", text, i)
            yield _Token("name", word, i)
            i = name.end()
            continue
        symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
        if symbol:
            yield _Token("symbol", symbol, i)
            i += len(symbol)
            continue
        raise _fail(_forbidden_reason(text, i), text, i)
    yield _Token("end", "", n)


def _bad_number_end(text: str, start: int, end: int) -> ExpressionError:
    """The error for a number followed at once by a letter, '_' or '.'."""
    number, nxt = text[start:end], text[end]
    if nxt == ".":
        return _fail(f"malformed number {_cut(text[start:end + 1])}", text, end)
    advice = f"write {_cut_bare(number)}*{nxt}"
    if nxt in "eE":
        advice += f"; a number in scientific notation needs digits after {nxt}, as in 1e-3"
    return _fail(f"missing operator between {_cut(number)} and {nxt!r}: implicit "
                 f"multiplication is not allowed; {advice}", text, end)


def _forbidden_reason(text: str, i: int) -> str:
    ch = text[i]
    if ch == "=":
        if text.startswith("==", i):
            return "comparison operators are not allowed"
        return "'=' is not allowed: no assignments or keyword arguments"
    if ch in _FORBIDDEN:
        return _FORBIDDEN[ch]
    if ch in "%@&|~":
        return f"the operator {ch!r} is not supported"
    return f"unexpected character {ch!r}"


# A parsing rule is a generator: where a recursive parser would call another rule, it
# yields that rule's generator instead, and ``_run`` runs it before resuming the caller.
_Rule = Iterator["_Rule"]


def _run(rule: _Rule) -> None:
    """Run ``rule`` and every rule it yields, keeping the pending ones on a list.

    Nesting then grows this list instead of Python's stack: the deepest expression
    allowed parses a few frames above the caller, whatever the recursion limit.
    """
    pending = [rule]
    while pending:
        inner = next(pending[-1], None)
        if inner is None:
            pending.pop()
        else:
            pending.append(inner)


class _Parser:
    """Precedence climbing over the token stream, writing a postfix program.

    ``expression``, ``atom`` and ``call`` are rules for ``_run`` (see ``_Rule``).
    """

    def __init__(self, text: str):
        self.text = text
        self.stream = _tokens(text)
        self.token = next(self.stream)
        self.program: list[tuple[str, str, float | None]] = []
        self.depth = -1

    def advance(self) -> None:
        self.token = next(self.stream)

    def fail(self, reason: str, position: int | None = None) -> ExpressionError:
        return _fail(reason, self.text, self.token.position if position is None else position)

    def parse(self) -> list[tuple[str, str, float | None]]:
        _run(self.expression(0))
        if self.token.kind != "end":
            raise self.unexpected_after_operand(None)
        return self.program

    def expression(self, min_precedence: int) -> _Rule:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the expression nests more than {MAX_DEPTH} levels deep "
                                  "(parentheses, signs, calls and powers)", self.text,
                                  self.token.position, hint=_FLATTEN)
        token = self.token
        if token.kind == "symbol" and token.text in ("+", "-"):
            self.advance()
            yield self.expression(_UNARY)
            if token.text == "-":
                self.program.append(("negate", "-", None))
        else:
            yield self.atom()
        while self.token.kind == "symbol":
            op = "**" if self.token.text == "^" else self.token.text
            if op not in _BINARY or _BINARY[op][0] < min_precedence:
                break
            precedence, from_right = _BINARY[op]
            self.advance()
            # '**' takes a signed operand on its right, as in Python: 2**-1 == 0.5.
            yield self.expression(precedence if from_right else precedence + 1)
            self.program.append(("binary", op, None))
        self.depth -= 1

    def atom(self) -> _Rule:
        token = self.token
        if token.kind == "number":
            self.program.append(("number", token.text, float(token.text)))
            self.advance()
        elif token.kind == "name":
            self.advance()
            if self.token.kind == "symbol" and self.token.text == "(":
                yield self.call(token)
            elif token.text in FUNCTIONS:
                raise self.fail(f"{token.text!r} is a function; call it with one argument, "
                                f"as in {token.text}(x)", token.position)
            elif token.text in CONSTANTS:
                self.program.append(("constant", token.text, CONSTANTS[token.text]))
            else:
                self.program.append(("variable", token.text, None))
        elif token.kind == "symbol" and token.text == "(":
            self.advance()
            yield self.expression(0)
            if not (self.token.kind == "symbol" and self.token.text == ")"):
                raise self.unexpected_after_operand(token)
            self.advance()
        else:
            found = "the end of the text" if token.kind == "end" else repr(token.text)
            raise self.fail(f"expected a number, a name or '(', found {found}")

    def call(self, name: _Token) -> _Rule:
        if name.text not in FUNCTIONS:
            if name.text in CONSTANTS:
                reason = f"{name.text!r} is a constant, not a function"
            else:
                reason = (f"{_cut(name.text)} is not a function that can be called (to "
                          f"multiply, write {_cut_bare(name.text)}*(...))")
            raise self.fail(reason, name.position)
        opening = self.token
        self.advance()
        count = 0
        while not (self.token.kind == "symbol" and self.token.text == ")"):
            yield self.expression(0)
            count += 1
            if self.token.kind == "symbol" and self.token.text == ",":
                self.advance()
            elif not (self.token.kind == "symbol" and self.token.text == ")"):
                raise self.unexpected_after_operand(opening)
        if count != 1:
            raise self.fail(f"{name.text}() takes exactly one argument, got {count}",
                            name.position)
        self.advance()
        self.program.append(("call", name.text, None))

    def unexpected_after_operand(self, opening: _Token | None) -> ExpressionError:
        """The error for a token that cannot follow a complete operand."""
        token = self.token
        if token.kind in ("number", "name") or token.text == "(":
            return self.fail(f"missing operator before {_cut(token.text)}: implicit "
                             "multiplication is not allowed; write '*', as in 2*x")
        if token.text == ",":
            return self.fail("a comma may only separate function arguments, and every "
                             "function takes one")
        if token.kind == "end" and opening is not None:
            return self.fail("unbalanced parentheses: this '(' is never closed",
                             opening.position)
        if token.text == ")":
            return self.fail("unbalanced parentheses: this ')' has no matching '('")
        return self.fail(f"unexpected {token.text!r}")


def parse(text: str) -> Expression:
    """Read ``text`` as an arithmetic expression, without ever running it as Python.

    Args:
        text: the expression, e.g. ``"(1-x)**2 + 100*(y-x**2)**2"``; see the module
            docstring for the grammar. At most ``MAX_LENGTH`` characters.

    Returns:
        An ``Expression``: call it with values for its variables, or turn it into a
        function of one vector with ``as_function()`` for ``descent.minimize``.

    Raises:
        ExpressionError: when the text is not an expression of the grammar; the
            message points at the problem with a caret.

    Example:
        >>> from descent import minimize
        >>> rosenbrock = parse("(1-x)**2 + 100*(y-x**2)**2")
        >>> rosenbrock.variables
        ('x', 'y')
        >>> result = minimize(rosenbrock.as_function(), x0=[-1.0, 1.5], optimizer="adam",
        ...                   learning_rate=0.1, epochs=3000)
        >>> result.x.round(2).tolist()
        [1.0, 1.0]
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the text is {len(text):,} characters long; the limit is "
                              f"{MAX_LENGTH:,}", text, MAX_LENGTH, hint=_SHORTEN)
    if not text.strip(_SPACE):
        raise _fail("the expression is empty", text, 0)
    return Expression(text, _Parser(text).parse())


class Expression:
    """A parsed expression: its text, its variables and a way to evaluate it with the engine.

    Attributes:
        text: the text it was parsed from.
        variables: the names of its variables, sorted (Python's string order, so
            ``"x, y"``, and ``"X"`` before ``"x"``); this is also the order of the
            coordinates of the vector that ``as_function()`` expects.
    """

    __slots__ = ("text", "variables", "_program")

    def __init__(self, text: str, program: list[tuple[str, str, float | None]]):
        self.text = text
        self._program = tuple(program)
        self.variables = tuple(sorted({name for kind, name, _ in program if kind == "variable"}))

    def evaluate(self, values: Mapping[str, object]) -> Tensor:
        """The expression's value as an engine Tensor, so ``.backward()`` gives gradients.

        Args:
            values: one value per variable: a Tensor (its ``.grad`` is filled by
                ``backward()``), a number or an array (taken as a constant). Arrays
                evaluate the expression elementwise, broadcasting like NumPy.

        Returns:
            A Tensor, even when the expression has no variables.

        Example:
            >>> parse("2*x + y").evaluate({"x": 3.0, "y": 1.0}).item()
            7.0
        """
        missing = [name for name in self.variables if name not in values]
        unknown = sorted(name for name in values if name not in self.variables)
        if missing or unknown:
            problems = []
            if missing:
                problems.append("no value for " + _names(missing))
            if unknown:
                problems.append("values for names it does not use: " + _names(unknown))
            uses = _names(self.variables) if self.variables else "no variables"
            raise ExpressionError(f"{_cut(self.text, 60)} got " + "; ".join(problems),
                                  hint=f"It uses {uses}.")
        env = {name: lift(values[name]) for name in self.variables}
        stack: list = []
        for kind, name, value in self._program:
            if kind in ("number", "constant"):
                stack.append(value)
            elif kind == "variable":
                stack.append(env[name])
            elif kind == "negate":
                stack.append(ops.negative(stack.pop()))
            elif kind == "call":
                stack.append(FUNCTIONS[name](stack.pop()))
            else:
                right = stack.pop()
                stack.append(_ENGINE_OPS[name](stack.pop(), right))
        return lift(stack.pop())

    def __call__(self, /, **values) -> Tensor:
        """``expr(x=..., y=...)`` is ``expr.evaluate({"x": ..., "y": ...})``.

        Example:
            >>> parse("-x**2")(x=3.0).item()
            -9.0
        """
        return self.evaluate(values)

    def as_function(self) -> Callable[[Tensor], Tensor]:
        """The expression as ``f(v)`` of one vector, coordinates in ``variables`` order.

        ``v`` has length ``len(variables)`` along its first axis (later axes evaluate many
        points at once); with one variable ``v`` may also be a scalar. That is what
        ``descent.minimize``, ``descent.grad`` and the plots pass.

        Example:
            >>> from descent import grad
            >>> f = parse("x*y + y").as_function()
            >>> grad(f)([2.0, 3.0]).tolist()
            [3.0, 3.0]
        """
        names = self.variables
        if not names:
            raise ExpressionError(f"{_cut(self.text, 60)} has no variables, so it is not a "
                                  "function of anything",
                                  hint="Use variable names such as x and y.")

        def f(v):
            v = lift(v)
            if v.ndim == 0 and len(names) == 1:
                return self.evaluate({names[0]: v})
            if v.ndim == 0 or v.shape[0] != len(names):
                raise ExpressionError(
                    f"{_cut(self.text, 60)} needs a vector of {len(names)} coordinates "
                    f"({_names(names)}), got shape {v.shape}",
                    hint="Give one starting value per variable, in that order.",
                )
            return self.evaluate({name: v[i] for i, name in enumerate(names)})

        f.__name__ = "expression"
        f.__qualname__ = "expression"
        f.__doc__ = f"f({', '.join(names)}) = {self}"
        return f

    def __str__(self) -> str:
        """The expression in a standard spelling: parentheses only where needed.

        Example:
            >>> str(parse("((1-x))^2+100 * ( y-x**2 )^2"))
            '(1 - x)**2 + 100*(y - x**2)**2'
        """
        # Pieces are joined once at the end: concatenating as we go would copy the left
        # operand of every '+' of a long sum again, time quadratic in the length.
        # Each entry: (pieces, precedence, whether the text starts with '-').
        stack: list[tuple[_Pieces, int, bool]] = []
        for kind, name, _ in self._program:
            if kind == "call":
                stack.append(((name, "(", stack.pop()[0], ")"), _ATOM, False))
            elif kind == "negate":
                inner, precedence, negative = stack.pop()
                wrap = precedence < _UNARY or negative
                stack.append((("-", _wrapped(inner, wrap)), _UNARY, True))
            elif kind == "binary":
                (right, p_right, _), (left, p_left, negative) = stack.pop(), stack.pop()
                precedence, from_right = _BINARY[name]
                if from_right:  # '**': the base must be an atom, the exponent may be signed
                    wrap_left, wrap_right = p_left <= precedence, p_right < _UNARY
                else:
                    wrap_left, wrap_right = p_left < precedence, p_right <= precedence
                sep = f" {name} " if name in ("+", "-") else name
                stack.append(((_wrapped(left, wrap_left), sep, _wrapped(right, wrap_right)),
                              precedence, negative and not wrap_left))
            else:
                stack.append((name, _ATOM, False))
        return _joined(stack[0][0])

    def __repr__(self) -> str:
        return f"Expression({str(self)!r}, variables={self.variables!r})"

    def _key(self) -> tuple:
        return tuple((kind, value if kind == "number" else name)
                     for kind, name, value in self._program)

    def __eq__(self, other) -> bool:
        """Equal when parsed to the same structure (``2^x`` equals ``(2)**x``)."""
        return isinstance(other, Expression) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def _wrapped(pieces: _Pieces, wrap: bool) -> _Pieces:
    return ("(", pieces, ")") if wrap else pieces


def _joined(pieces: _Pieces) -> str:
    """The string that nested ``pieces`` spell, built in one pass without recursion."""
    out, pending = [], [pieces]
    while pending:
        piece = pending.pop()
        if isinstance(piece, str):
            out.append(piece)
        else:
            pending.extend(reversed(piece))
    return "".join(out)
