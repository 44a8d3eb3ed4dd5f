"""The top-level namespace offers what users call, and nothing that leaked in by accident."""

import types

import descent


def test_every_public_name_at_the_top_is_user_api_or_a_submodule():
    leaked = sorted(name for name in dir(descent)
                    if not name.startswith("_") and name not in descent.__all__
                    and not isinstance(getattr(descent, name), types.ModuleType))
    assert leaked == [], f"names exported by accident: {leaked}"


def test_everything_in_all_exists_and_has_a_docstring():
    for name in descent.__all__:
        value = getattr(descent, name)
        assert (getattr(value, "__doc__", None) or "").strip(), f"{name} has no docstring"


def test_divergence_error_lives_with_the_divergence_rule():
    from descent import divergence

    assert descent.DivergenceError is divergence.DivergenceError
    assert issubclass(descent.DivergenceError, ArithmeticError)
