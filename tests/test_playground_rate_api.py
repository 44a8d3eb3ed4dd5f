"""The learning-rate lab's API: the paths are descent.minimize's, the statuses are what a
learner should see, and every bad input is a 422 naming its field."""

from __future__ import annotations

import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from descent import grad, minimize
from descent.demo.functions import three_valleys
from descent.expression import parse
from descent.playground import create_app
from descent.playground.presets import PRESETS
from descent.playground.rate_runs import WORK_BUDGET, work


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1")


def descend(client, **body):
    body = {"expression": "x^2", "start": 5.0, "learning_rate": 0.1, **body}
    return client.post("/api/descend", json=body)


def ok(client, **body) -> dict:
    reply = descend(client, **body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_presets_are_the_four_functions_and_each_descends(client):
    presets = client.get("/api/presets").json()["presets"]
    assert [p["name"] for p in presets] == ["bowl", "valleys", "rosenbrock", "himmelblau"]
    for preset in presets:
        assert set(preset["view"]) == set(preset["variables"])
        reply = ok(client, expression=preset["expression"], start=preset["start"],
                   learning_rate=preset["learning_rate"], steps=300)
        assert reply["variables"] == preset["variables"]
        assert reply["status"] in ("converged", "running"), (preset["name"], reply["message"])
        assert reply["points"][-1][-1] < reply["points"][0][-1]  # it went downhill


def test_the_three_valleys_preset_is_the_reports_curve():
    text = next(p.expression for p in PRESETS if p.name == "valleys")
    xs = np.linspace(0, 6, 61)
    expected = three_valleys(xs)
    expected = np.asarray(getattr(expected, "data", expected))
    np.testing.assert_allclose(parse(text).as_function()(xs[None]).data, expected, rtol=1e-12)


@pytest.mark.parametrize("rate", [0.01, 0.1, 0.9])
def test_bowl_paths_are_minimizes_to_the_last_digit(client, rate):
    reply = ok(client, learning_rate=rate, steps=200)
    expected = minimize(parse("x^2").as_function(), x0=5.0, learning_rate=rate, epochs=200,
                        tol=1e-6)
    points = np.array(reply["points"])
    assert points[:, 0].tolist() == np.ravel(expected.path).tolist()
    assert points[:, 1].tolist() == np.ravel(expected.losses).tolist()
    assert reply["steps"] == expected.n_steps
    assert reply["gradients"] == [[2 * x] for x in points[:, 0]]


def test_gradients_are_the_engines_at_every_point_in_2d(client):
    text = "(1 - x)^2 + 100*(y - x^2)^2"
    reply = ok(client, expression=text, start=[-1.5, 2.0], learning_rate=0.001, steps=20)
    f = parse(text).as_function()
    for point, gradient in zip(reply["points"], reply["gradients"], strict=True):
        np.testing.assert_allclose(gradient, grad(f)(np.array(point[:2])), rtol=1e-12)


def test_statuses_for_too_small_right_and_too_large_rates_on_the_bowl(client):
    assert ok(client, learning_rate=0.001, steps=100)["status"] == "running"
    right = ok(client, learning_rate=0.4, steps=100)
    assert right["status"] == "converged" and right["message"].startswith("converged after")
    bouncing = ok(client, learning_rate=1.0, steps=100)
    assert bouncing["status"] == "bouncing" and bouncing["steps"] == 100


def test_a_rate_of_1_05_diverges_within_a_few_steps_not_after_1e10_growth(client):
    # |x| grows 10% a step: the value has risen 5 steps running and is above the start.
    reply = ok(client, learning_rate=1.05, steps=1000)
    assert reply["status"] == "diverged" and reply["steps"] == 5
    assert "smaller rate" in reply["message"]
    assert reply["points"][-1][1] < 100  # cut where the rule fired, not 1e10 later
    # the same verdict when the run is asked for one step at a time, as STEP does
    # (at step 4 the value is above the start already: bouncing, not yet diverged)
    assert [ok(client, learning_rate=1.05, steps=n)["status"] for n in range(4, 7)] == \
        ["bouncing", "diverged", "diverged"]


def test_a_huge_rate_is_minimizes_own_divergence(client):
    reply = ok(client, learning_rate=100.0)
    assert reply["status"] == "diverged" and "the loss went from" in reply["message"]


def test_momentum_coasting_uphill_is_not_called_diverged(client):
    valleys = next(p for p in PRESETS if p.name == "valleys")
    reply = ok(client, expression=valleys.expression, start=valleys.start, learning_rate=0.5,
               optimizer="momentum", beta=0.9, steps=40)
    assert reply["status"] != "diverged"


def test_optimizers_and_beta_are_minimizes(client):
    from descent.optim import momentum

    reply = ok(client, optimizer="momentum", beta=0.5, steps=30)
    expected = minimize(parse("x^2").as_function(), x0=5.0, learning_rate=0.1, epochs=30,
                        tol=1e-6, optimizer=momentum(0.1, beta=0.5))
    assert [p[0] for p in reply["points"]] == np.ravel(expected.path).tolist()
    adam = ok(client, optimizer="adam", learning_rate=0.5, steps=30)
    assert adam["points"][1][0] == pytest.approx(4.5)  # Adam's first step is the rate itself


def test_stepping_one_at_a_time_counts_like_one_whole_run(client):
    whole = ok(client, learning_rate=0.3, steps=1000)
    assert whole["status"] == "converged"
    n = 0
    while True:
        reply = ok(client, learning_rate=0.3, steps=n + 1)
        if reply["status"] == "converged":
            break
        assert reply["steps"] == n + 1
        n += 1
    # converged on a tiny step (that step counts) or on a flat slope at the point reached
    assert reply["steps"] == whole["steps"] and reply["steps"] in (n, n + 1)


def test_zero_steps_is_the_start_alone(client):
    reply = ok(client, steps=0)
    assert reply["points"] == [[5.0, 25.0]] and reply["status"] == "running"
    assert reply["gradients"] == [[10.0]]


def test_restarts_return_every_run_and_the_best(client):
    valleys = next(p for p in PRESETS if p.name == "valleys")
    reply = ok(client, expression=valleys.expression, start=0.3, learning_rate=0.05,
               steps=500, restarts=6, random_state=1)
    runs = reply["runs"]
    assert len(runs) == 6 and 0 <= reply["best"] < 6
    finals = [run["points"][-1][1] for run in runs]
    assert reply["best"] == int(np.argmin(finals))
    assert reply["points"] == runs[reply["best"]]["points"]
    assert runs[0]["points"][0][0] == 0.3  # the first run starts at start
    assert all(0 <= run["points"][0][0] <= 6 for run in runs)  # the others in the view
    assert abs(reply["points"][-1][0] - 3) < 0.1  # the deepest valley is in the middle
    same = minimize(parse(valleys.expression).as_function(), x0=0.3, learning_rate=0.05,
                    epochs=500, tol=1e-6, restarts=6, bounds=(0.0, 6.0), random_state=1)
    assert [len(run["points"]) for run in runs] == [len(run.path) for run in same.runs]


def test_random_starts_outside_the_domain_are_skipped_never_best(client):
    reply = ok(client, expression="x^2 - log(x)", start=0.5, learning_rate=0.1, steps=200,
               restarts=8, bounds=[[-1.0, 1.0]], random_state=0)
    statuses = [run["status"] for run in reply["runs"]]
    assert "skipped" in statuses and statuses[reply["best"]] == "converged"
    skipped = reply["runs"][statuses.index("skipped")]
    assert skipped["steps"] == 0 and skipped["points"][0][0] <= 0
    assert skipped["points"][0][1] is None  # log of a negative number: no value


def test_one_run_has_no_runs_list(client):
    reply = ok(client)
    assert reply["runs"] == [] and reply["best"] == 0


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"learning_rate": 0}, "learning_rate", "greater than 0"),
    ({"learning_rate": -1}, "learning_rate", "greater than 0"),
    ({"learning_rate": 1e7}, "learning_rate", "less than or equal"),
    ({"steps": 10_001}, "steps", "10000"),
    ({"steps": -1}, "steps", "greater than or equal"),
    ({"optimizer": "sgd"}, "optimizer", "'gd'"),
    ({"beta": 1.0}, "beta", "less than 1"),
    ({"restarts": 21}, "restarts", "20"),
    ({"start": [1.0, 2.0]}, "start", "one number"),
    ({"expression": "x*y", "start": 1.0}, "start", "two numbers"),
    ({"start": "5"}, "start", "number"),
    ({"start": True}, "start", "number"),
    ({"tol": -1}, "tol", "greater than or equal"),
    ({"surprise": 1}, "surprise", "not a known setting"),
    ({"expression": "__import__('os')"}, "expression", "reserved"),
    ({"expression": "x.real"}, "expression", "attribute"),
    ({"expression": "lambda: 1"}, "expression", "keyword"),
    ({"expression": "x +"}, "expression", "column"),
    ({"expression": "a^2"}, "expression", "x and y"),
    ({"expression": "x + " * 130 + "x"}, "expression", "at most 500"),
    ({"expression": "log(x)", "start": -1.0}, "start", "not finite"),
    ({"expression": "x^2 + 0*y", "start": [1.0, 1.0], "restarts": 3}, "bounds",
     "need bounds"),
    ({"bounds": [[1.0, -1.0]], "restarts": 2}, "bounds", "low < high"),
    ({"bounds": [[0.0, 1.0], [0.0, 1.0]], "restarts": 2}, "bounds", "one per variable"),
])
def test_bad_input_is_a_422_naming_its_field(client, body, field, words):
    reply = descend(client, **body)
    assert reply.status_code == 422, reply.text
    error = reply.json()
    assert error["field"] == field and words in error["error"], error
    assert "\n" not in error["error"]


def test_non_finite_numbers_are_refused(client):
    for raw in ('{"expression": "x^2", "start": NaN, "learning_rate": 0.1}',
                '{"expression": "x^2", "start": 1, "learning_rate": Infinity}',
                '{"expression": "x^2", "start": 1e999, "learning_rate": 0.1}'):
        reply = client.post("/api/descend", content=raw,
                            headers={"content-type": "application/json"})
        assert reply.status_code == 422 and reply.json()["field"] in ("start", "learning_rate")


def test_work_is_bounded_so_a_request_stays_fast(client):
    valleys = next(p for p in PRESETS if p.name == "valleys").expression
    reply = descend(client, expression=valleys, start=0.3, steps=10_000, restarts=20,
                    bounds=[[0.0, 6.0]])
    assert reply.status_code == 422 and reply.json()["field"] == "steps"
    assert "at most" in reply.json()["error"]
    # The largest request allowed on the bowl, every step taken (rate 1.0 bounces forever).
    steps = min(10_000, WORK_BUDGET // work("x^2", 1, 1))
    began = time.perf_counter()
    assert ok(client, learning_rate=1.0, steps=steps)["steps"] == steps
    assert time.perf_counter() - began < 3  # about 0.4 s alone; generous for a busy machine


def test_surface_in_1d_is_the_function_on_a_line(client):
    text = next(p.expression for p in PRESETS if p.name == "valleys")
    reply = client.post("/api/surface", json={"expression": text, "x": [0, 6], "size": 50})
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["variables"] == ["x"] and len(data["x"]) == 50 and data["x"][0] == 0
    f = parse(text)
    for x, value in zip(data["x"], data["values"], strict=True):
        assert value == pytest.approx(f(x=x).item(), rel=1e-12)


def test_surface_in_2d_is_a_grid_by_rows_of_y(client):
    text = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
    reply = client.post("/api/surface", json={"expression": text, "x": [-5, 5], "y": [-4, 4],
                                              "size": 21})
    data = reply.json()
    assert len(data["values"]) == 21 and all(len(row) == 21 for row in data["values"])
    f = parse(text)
    for i in (0, 7, 20):
        for j in (0, 3, 20):
            expected = f(x=data["x"][j], y=data["y"][i]).item()
            assert data["values"][i][j] == pytest.approx(expected, rel=1e-12)


def test_surface_values_that_are_not_finite_are_null(client):
    reply = client.post("/api/surface", json={"expression": "log(x)", "x": [-1, 1], "size": 3})
    assert reply.json()["values"][0] is None and reply.json()["values"][2] == 0.0


@pytest.mark.parametrize(("body", "field"), [
    ({"expression": "x*y", "x": [0, 1]}, "y"),
    ({"expression": "x^2", "x": [1, 0]}, "x"),
    ({"expression": "x^2", "x": [0, 1], "size": 201}, "size"),
    ({"expression": "x^2", "x": [0, 1], "size": 1}, "size"),
    ({"expression": "open('f')", "x": [0, 1]}, "expression"),
    ({"expression": "x^2", "x": [0, 1e7]}, "x"),
])
def test_bad_surface_requests_name_their_field(client, body, field):
    reply = client.post("/api/surface", json=body)
    assert reply.status_code == 422 and reply.json()["field"] == field, reply.text


def test_a_start_outside_the_bounds_is_refused_not_clipped(client):
    reply = descend(client, start=9.0, bounds=[[-6.0, 6.0]])
    assert reply.status_code == 422 and reply.json()["field"] == "start"
    assert "outside the bounds [-6, 6]" in reply.json()["error"]
    # Restarts without bounds draw from the preset's view: the start must lie in it too.
    reply = descend(client, start=9.0, restarts=3)
    assert reply.status_code == 422 and "preset's view" in reply.json()["error"]
    assert ok(client, start=6.0, bounds=[[-6.0, 6.0]])["points"][0][0] == 6.0


def test_a_step_that_overshoots_to_a_flat_far_place_is_not_converged(client):
    # exp(x) from 700 at rate 1: one step to -1.01e304, where the gradient underflows to 0;
    # minimize calls that converged.
    reply = ok(client, expression="exp(x)", start=700.0, learning_rate=1.0)
    assert reply["status"] == "diverged" and reply["steps"] == 1
    assert "overshot" in reply["message"] and "smaller rate" in reply["message"]
    assert reply["points"][1][0] < -1e300
    # A long but honest first step is not an overshoot: x^2 at rate 0.5 lands on 0 at once.
    assert ok(client, start=900.0, learning_rate=0.5)["status"] == "converged"


def test_overflow_on_the_way_to_divergence_warns_nobody(client):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for rate in (1.05, 10.0, 1000.0):
            assert ok(client, expression="x^4", start=5.0, learning_rate=rate)["status"] \
                == "diverged"
        ok(client, expression="exp(x)", start=700.0, learning_rate=1.0)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_many_heavy_descents_at_once_do_not_stall_a_cheap_request(playground_url):
    import threading

    import httpx2 as httpx

    heavy = {"expression": "x^2", "start": 5.0, "learning_rate": 1.0,
             "steps": min(10_000, WORK_BUDGET // work("x^2", 1, 1))}
    statuses: list[int] = []

    def one():
        with httpx.Client(base_url=playground_url, timeout=60) as http:
            statuses.append(http.post("/api/descend", json=heavy).status_code)

    crowd = [threading.Thread(target=one) for _ in range(12)]
    waits = []
    with httpx.Client(base_url=playground_url, timeout=60) as http:
        http.get("/api/presets")  # connected before the crowd arrives
        for thread in crowd:
            thread.start()
        time.sleep(0.2)
        while any(thread.is_alive() for thread in crowd) and len(waits) < 40:
            began = time.perf_counter()
            assert http.get("/api/presets").status_code == 200
            waits.append(time.perf_counter() - began)
            time.sleep(0.05)
    for thread in crowd:
        thread.join(60)
    assert statuses.count(200) == 12, statuses
    assert len(waits) >= 3 and max(waits) < 0.5, [round(w, 3) for w in waits]
