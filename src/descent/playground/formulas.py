"""Formulas typed into the page (a function to descend, a curve to draw data around):
bounded in length, read by descent's safe parser, and refused on their own field."""

from __future__ import annotations

from ..expression import Expression, ExpressionError, parse
from .errors import InputError


def parse_formula(text: str, field: str, limit: int, error=InputError) -> Expression:
    """``text`` parsed, or ``error(field, one line)`` when too long or not a formula.

    Example:
        >>> parse_formula("x^2 + y", "expression", 500).variables
        ('x', 'y')
        >>> try:
        ...     parse_formula("__import__('os')", "curve", 200)
        ... except InputError as err:
        ...     print(err.field)
        curve
    """
    if len(text) > limit:
        raise error(field, f"the {field} is {len(text):,} characters long; the limit is "
                           f"at most {limit:,}: write a shorter one")
    try:
        return parse(text)
    except ExpressionError as err:
        raise error(field, err.one_line()) from None
