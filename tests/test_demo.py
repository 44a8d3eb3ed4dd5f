"""The worked examples behind ``descent demo`` compute what the seeds say."""

import pytest

from descent import demo


def test_graph_section_agrees_with_nudging():
    section = demo.section_graph()
    assert section.facts["J"] == 33.0
    for _, _, chain, nudged in section.rows:
        assert float(chain) == pytest.approx(float(nudged), abs=1e-6)


def test_one_weight_loss_falls_towards_zero_every_100_epochs():
    section = demo.section_one_weight()
    losses = [float(row[2]) for row in section.rows]
    assert len(section.rows) == 11  # epochs 0, 100, ..., 900 and the end
    assert all(a > b for a, b in zip(losses, losses[1:], strict=False))
    assert section.facts["final_loss"] < 1e-12
    assert section.facts["m"] == pytest.approx(section.facts["target_m"], rel=1e-9)


def test_restarts_section_beats_the_single_start():
    facts = demo.section_restarts().facts
    assert facts["best_fun"] < -1.49
    assert abs(facts["single_x"] - 1.0) < 0.05 and abs(facts["best_x"] - 3.0) < 1e-3


def test_learning_rate_section_orders_the_rates():
    facts = demo.section_learning_rates().facts
    small, right, bouncy, large = (facts[r] for r in (0.01, 0.5, 0.95, 1.05))
    assert right["n_steps"] == 1
    assert small["n_steps"] > bouncy["n_steps"] > right["n_steps"]
    assert large["status"] == "diverged"
