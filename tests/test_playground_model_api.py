"""The model lab's HTTP API (docs/playground.md, "Model lab"), through FastAPI's TestClient,
and the event stream and its disconnect through a real uvicorn."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import numpy as np
import pytest
from fastapi.testclient import TestClient

import descent
from descent.playground import create_app, model_access, model_lab, sessions
from descent.playground.datasets import make_dataset, split
from descent.playground.features import transform
from descent.playground.sessions import Session
from descent.playground.snapshot import dumps, snapshot
from descent.playground.stores import Store

from .subprocesses import environment


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1")


def create(client, **settings):
    reply = client.post("/api/models", json=settings)
    assert reply.status_code == 200, reply.text
    return reply.json()


def step(client, session_id, epochs=1):
    reply = client.post(f"/api/models/{session_id}/step", json={"epochs": epochs})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_options_offer_every_data_set_model_feature_and_limit(client):
    options = client.get("/api/options").json()
    names = [d["name"] for d in options["datasets"]]
    assert names == ["circle", "xor", "gaussians", "spiral", "linear", "plane", "curve", "upload"]
    assert [m["name"] for m in options["models"]] == ["perceptron", "logistic", "svm", "linear",
                                                      "mlp"]
    assert options["features"] == ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
    assert {"gd", "momentum", "adam"} <= set(options["optimizers"])
    assert options["penalties"] == [None, "l1", "l2"]
    for key in ("n_points", "hidden_layers", "neurons", "epochs_per_step", "upload_bytes",
                "sessions", "idle_seconds"):
        assert key in options["limits"]


@pytest.mark.parametrize("dataset, model", [
    ("circle", "logistic"), ("xor", "mlp"), ("gaussians", "svm"), ("spiral", "perceptron"),
    ("linear", "logistic"), ("plane", "linear"), ("plane", "mlp"), ("curve", "logistic"),
])
def test_a_new_model_answers_its_data_and_a_snapshot_of_the_promised_shape(client, dataset,
                                                                           model):
    reply = create(client, dataset=dataset, model=model, n_points=60, train_ratio=0.75,
                   features=["x1", "x2", "x1*x2"], hidden_layers=[3, 5])
    assert len(reply["train"]["X"]) == 45 and len(reply["test"]["X"]) == 15
    assert all(len(point) == 2 for point in reply["train"]["X"])
    X, y = make_dataset(dataset, n_points=60, seed=0)
    X_train = split(X, y, 0.75, 0)[0]
    assert np.allclose(reply["train"]["X"], X_train, atol=2e-3)  # the seeded points, rounded
    if reply["task"] == "classification":
        assert reply["classes"] == [0, 1] and set(reply["train"]["y"]) <= {0, 1}
    else:
        assert reply["classes"] == [] and model in ("linear", "mlp")
    snap = reply["snapshot"]
    assert snap["epoch"] == 0 and snap["status"] == "training"
    assert isinstance(snap["train_loss"], float) and isinstance(snap["test_loss"], float)
    grid = snap["grid"]
    assert grid["x"] == grid["y"] == [-3.0, 3.0]
    assert len(grid["values"]) == grid["size"] and all(len(r) == grid["size"]
                                                       for r in grid["values"])
    network = snap["network"]
    hidden = [3, 5] if model == "mlp" else []
    assert network["layers"] == ["x1", "x2", "x1*x2", *hidden, 1]
    widths = [3, *hidden, 1]
    assert [np.shape(w) for w in network["weights"]] == list(zip(widths[:-1], widths[1:],
                                                                strict=True))
    assert [len(b) for b in network["biases"]] == widths[1:]


@pytest.mark.parametrize("dataset, model, settings", [
    ("gaussians", "logistic", {}),
    ("gaussians", "svm", {}),
    ("linear", "perceptron", {}),
    ("xor", "mlp", {"features": ["x1", "x2"], "optimizer": "adam", "hidden_layers": [6]}),
    ("plane", "linear", {}),
    ("plane", "mlp", {"activation": "identity", "hidden_layers": [2]}),
])
def test_each_model_learns_an_easy_set(client, dataset, model, settings):
    session = create(client, dataset=dataset, model=model, seed=1, **settings)
    first = step(client, session["id"])
    later = step(client, session["id"], epochs=40)
    assert later["epoch"] == 41
    assert later["test_loss"] < first["test_loss"] or later["test_loss"] == 0.0
    limit = 0.05 if model == "perceptron" else 0.2 if dataset == "plane" else 0.5
    assert later["test_loss"] < limit, later["test_loss"]


def test_the_grid_is_the_models_own_prediction_over_the_box(client):
    session = create(client, dataset="gaussians", model="logistic", features=["x1", "x2^2"])
    snap = step(client, session["id"], epochs=5)
    w = np.array(snap["network"]["weights"][0])[:, 0]
    b = snap["network"]["biases"][0][0]
    axis = np.linspace(-3, 3, snap["grid"]["size"])
    gx, gy = np.meshgrid(axis, axis)
    expected = 1 / (1 + np.exp(-(w[0] * gx + w[1] * gy ** 2 + b)))
    assert snap["grid"]["kind"] == "probability"
    assert np.allclose(snap["grid"]["values"], expected, atol=5e-3)


def test_the_rendered_heatmap_is_the_json_of_its_numbers():
    session = Session.create({"dataset": "xor", "model": "mlp"})
    session.train(3)
    snap = snapshot(session)
    assert json.loads(dumps(snap)) == json.loads(json.dumps(snap))
    assert len(np.unique(snap["grid"]["values"])) > 10
    snap["message"] = "\x00heatmap\x00"  # the mark in the user's own text changes nothing
    assert json.loads(dumps({"snapshot": snap})) == json.loads(json.dumps({"snapshot": snap}))


def test_the_same_settings_train_the_same_and_reset_goes_back_to_the_start(client):
    settings = dict(dataset="spiral", model="mlp", optimizer="adam", seed=3, features=["x1", "x2",
                                                                                       "sin(x1)"])
    a, b = create(client, **settings), create(client, **settings)
    assert a["snapshot"] == b["snapshot"] and a["train"] == b["train"]
    after_a, after_b = step(client, a["id"], 7), step(client, b["id"], 7)
    assert after_a == after_b
    reset = client.post(f"/api/models/{a['id']}/reset").json()
    assert reset == a["snapshot"]
    assert step(client, a["id"], 7) == after_a
    other = create(client, **{**settings, "seed": 4})
    assert other["snapshot"]["network"] != a["snapshot"]["network"]


def test_a_step_of_many_epochs_lists_the_loss_after_each(client):
    settings = dict(dataset="gaussians", model="svm", seed=6)
    many, one = create(client, **settings), create(client, **settings)
    assert many["snapshot"]["losses"] == [[0, many["snapshot"]["train_loss"],
                                           many["snapshot"]["test_loss"]]]
    snap = step(client, many["id"], epochs=5)
    singles = [step(client, one["id"])["losses"] for _ in range(5)]
    assert [e for e, _, _ in snap["losses"]] == [1, 2, 3, 4, 5]
    assert snap["losses"][-1] == [5, snap["train_loss"], snap["test_loss"]]
    assert snap["losses"] == [entry for single in singles for entry in single]


def test_a_step_without_a_body_is_one_epoch(client):
    session = create(client, dataset="xor", model="logistic")
    assert client.post(f"/api/models/{session['id']}/step").json()["epoch"] == 1


@pytest.mark.parametrize("change, field", [
    ({"dataset": "moons"}, "dataset"),
    ({"model": "forest"}, "model"),
    ({"features": ["x1", "x3"]}, "features"),
    ({"features": []}, "features"),
    ({"n_points": 5000}, "n_points"),
    ({"n_points": 5}, "n_points"),
    ({"n_points": "200"}, "n_points"),
    ({"model": "mlp", "hidden_layers": [2] * 7}, "hidden_layers"),
    ({"model": "mlp", "hidden_layers": [17]}, "hidden_layers"),
    ({"model": "mlp", "hidden_layers": [0]}, "hidden_layers"),
    ({"model": "mlp", "activation": "softsign"}, "activation"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"penalty": "l3"}, "penalty"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": -1}, "learning_rate"),
    ({"learning_rate": 1e9}, "learning_rate"),
    ({"noise": 2}, "noise"),
    ({"train_ratio": 1}, "train_ratio"),
    ({"batch_size": 0}, "batch_size"),
    ({"alpha": -0.1}, "alpha"),
    ({"seed": -1}, "seed"),
    ({"colour": "red"}, "colour"),
    ({"dataset": "curve", "curve": "__import__('os').system('rm -rf /')"}, "curve"),
    ({"dataset": "curve", "curve": "x + y"}, "curve"),
    ({"dataset": "curve", "curve": "x" * 201}, "curve"),
    ({"dataset": "upload"}, "upload_id"),
    ({"dataset": "upload", "upload_id": "nope"}, "upload_id"),
    ({"model": "linear"}, "model"),
    ({"dataset": "plane", "model": "svm"}, "model"),
    ({"model": "svm", "penalty": "l1"}, "penalty"),
])
def test_every_bad_setting_is_422_naming_its_field(client, change, field):
    body = {"dataset": "circle", "model": "logistic", **change}
    reply = client.post("/api/models", json=body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["field"] == field, reply.json()
    assert "\n" not in reply.json()["error"]


def test_a_non_finite_number_is_422(client):
    body = b'{"dataset": "circle", "model": "logistic", "noise": NaN}'
    reply = client.post("/api/models", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 422 and reply.json()["field"] == "noise"


def test_bad_step_explain_and_stream_values_are_422(client):
    session = create(client, dataset="circle", model="logistic", n_points=20)
    sid = session["id"]
    assert client.post(f"/api/models/{sid}/step", json={"epochs": 101}).json()["field"] == "epochs"
    assert client.post(f"/api/models/{sid}/step", json={"epochs": 0}).status_code == 422
    reply = client.post(f"/api/models/{sid}/explain", json={"point": 10})
    assert reply.status_code == 422 and reply.json()["field"] == "point"
    assert client.get(f"/api/models/{sid}/stream?epochs=5000").status_code == 422


@pytest.mark.parametrize("method, path", [
    ("post", "/step"), ("get", "/stream"), ("post", "/reset"), ("get", "/export"),
    ("get", "/python"), ("delete", ""),
])
def test_an_unknown_session_is_404(client, method, path):
    reply = client.request(method.upper(), f"/api/models/no-such-session{path}")
    assert reply.status_code == 404 and reply.json()["field"] is None
    reply = client.post("/api/models/no-such-session/explain", json={"point": 0})
    assert reply.status_code == 404


def test_delete_ends_a_session(client):
    sid = create(client, dataset="circle", model="logistic")["id"]
    assert client.delete(f"/api/models/{sid}").json() == {"deleted": True}
    assert client.post(f"/api/models/{sid}/step").status_code == 404


# ----- limits: sessions, epochs, busy, divergence ------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def small():
    """A client whose session store holds 2 sessions, idle for at most 60 (fake) seconds."""
    app = create_app()
    clock = Clock()
    store = Store(2, 60, busy=Session.busy, clock=clock, keep_seconds=10,
                  on_drop=Session.close)
    app.dependency_overrides[model_lab.sessions] = lambda: store
    return TestClient(app, base_url="http://127.0.0.1"), clock, store


def test_a_full_store_evicts_the_least_recently_used_session(small):
    client, clock, _ = small
    a = create(client, dataset="circle", model="logistic")["id"]
    b = create(client, dataset="circle", model="logistic")["id"]
    clock.now = 20
    step(client, a)  # b is now the least recently used, unused for 20 s
    create(client, dataset="circle", model="logistic")
    assert client.post(f"/api/models/{b}/step").status_code == 404
    assert client.post(f"/api/models/{a}/step").status_code == 200


def test_sessions_used_recently_are_not_evicted_a_new_one_is_503(small):
    client, clock, _ = small
    ids = [create(client, dataset="circle", model="logistic")["id"] for _ in range(2)]
    clock.now = 5  # both used 5 s ago: someone is still at them
    reply = client.post("/api/models", json={"dataset": "circle", "model": "logistic"})
    assert reply.status_code == 503 and "in use in the last minute" in reply.json()["error"]
    assert all(client.post(f"/api/models/{i}/step").status_code == 200 for i in ids)


def test_sessions_expire_when_idle(small):
    client, clock, _ = small
    sid = create(client, dataset="circle", model="logistic")["id"]
    clock.now = 59
    step(client, sid)
    clock.now = 59 + 61
    reply = client.post(f"/api/models/{sid}/step")
    assert reply.status_code == 404 and "expired" in reply.json()["error"]


def test_every_slot_busy_is_503_and_a_busy_session_is_409(small, monkeypatch):
    client, _, store = small
    ids = [create(client, dataset="circle", model="logistic")["id"] for _ in range(2)]
    held = [store.get(i) for i in ids]
    for session in held:
        session.lock.acquire()
    monkeypatch.setattr(model_access, "LOCK_WAIT_SECONDS", 0.05)
    try:
        small[1].now = 30  # idle long enough to evict, but busy
        reply = client.post("/api/models", json={"dataset": "circle", "model": "logistic"})
        assert reply.status_code == 503 and "in use" in reply.json()["error"]
        reply = client.post(f"/api/models/{ids[0]}/step")
        assert reply.status_code == 409 and "busy" in reply.json()["error"]
    finally:
        for session in held:
            session.lock.release()
    assert client.post(f"/api/models/{ids[0]}/step").status_code == 200


def test_a_session_trains_at_most_its_epoch_cap(client, monkeypatch):
    monkeypatch.setattr(sessions, "MAX_SESSION_EPOCHS", 5)
    sid = create(client, dataset="circle", model="logistic")["id"]
    snap = step(client, sid, epochs=50)
    assert snap["epoch"] == 5 and snap["status"] == "limit" and "reset" in snap["message"]
    assert step(client, sid)["epoch"] == 5
    assert client.post(f"/api/models/{sid}/reset").json()["epoch"] == 0


def test_a_step_stops_after_its_time_budget(client, monkeypatch):
    monkeypatch.setattr(sessions, "STEP_SECONDS", 0.0)
    sid = create(client, dataset="circle", model="logistic")["id"]
    assert step(client, sid, epochs=100)["epoch"] == 1  # one epoch always runs


def test_a_diverged_model_says_so_and_stops(client):
    sid = create(client, dataset="plane", model="linear", learning_rate=10,
                 features=["x1^2", "x2^2", "x1*x2"], batch_size=100)["id"]
    snap = step(client, sid, epochs=50)
    assert snap["status"] == "diverged" and "learning" in snap["message"]
    assert snap["epoch"] < 50
    assert step(client, sid, epochs=5)["epoch"] == snap["epoch"]
    json.dumps(snap, allow_nan=False)  # no NaN or Infinity in the JSON


# ----- the event stream ---------------------------------------------------------------------
def _events(text: str) -> list[tuple[str, dict]]:
    found = []
    for block in text.strip().split("\n\n"):
        name = re.search(r"^event: (.+)$", block, re.M)
        data = re.search(r"^data: (.+)$", block, re.M)
        found.append((name.group(1) if name else "message", json.loads(data.group(1))))
    return found


def test_the_stream_sends_one_snapshot_per_epoch_then_end(client):
    sid = create(client, dataset="gaussians", model="logistic")["id"]
    with client.stream("GET", f"/api/models/{sid}/stream?epochs=4") as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        text = "".join(reply.iter_text())
    events = _events(text)
    assert [name for name, _ in events] == ["message"] * 4 + ["end"]
    assert [body["epoch"] for _, body in events[:4]] == [1, 2, 3, 4]
    assert events[-1][1]["epochs"] == 4 and events[-1][1]["status"] == "training"
    assert step(client, sid)["epoch"] == 5


def test_closing_the_stream_stops_the_training(playground_url):
    def post(path, body=None):
        request = Request(playground_url + path, data=json.dumps(body or {}).encode(),
                          headers={"content-type": "application/json"}, method="POST")
        with urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())

    sid = post("/api/models", {"dataset": "circle", "model": "logistic"})["id"]
    stream = urlopen(f"{playground_url}/api/models/{sid}/stream?epochs=1000&interval=0.02",
                     timeout=10)
    seen = 0
    while seen < 2:
        if stream.readline().startswith(b"data:"):
            seen += 1
    stream.close()
    time.sleep(0.3)  # let the server notice
    first = post(f"/api/models/{sid}/step")["epoch"]
    time.sleep(0.3)  # a stream still running would add about 15 epochs here
    assert post(f"/api/models/{sid}/step")["epoch"] == first + 1
    assert first < 40


def test_other_sessions_answer_while_one_streams(client):
    slow = create(client, dataset="circle", model="logistic")["id"]
    fast = create(client, dataset="circle", model="logistic")["id"]
    done = []

    def streaming():
        with client.stream("GET", f"/api/models/{slow}/stream?epochs=20&interval=0.02") as r:
            done.append("".join(r.iter_text()).count("data:"))

    thread = threading.Thread(target=streaming)
    thread.start()
    began = time.perf_counter()
    step(client, fast)
    assert time.perf_counter() - began < 0.3
    thread.join(10)
    assert done == [21]


# ----- explain -------------------------------------------------------------------------------
def _point(client, session, index):
    X = np.array(session["train"]["X"])
    return X[index], session["train"]["y"][index]


def test_explain_is_the_logistic_trick_with_the_estimators_numbers(client):
    session = create(client, dataset="gaussians", model="logistic", learning_rate=0.5, seed=2,
                     features=["x1", "x2"])
    sid = session["id"]
    snap = step(client, sid, epochs=2)
    before = client.post(f"/api/models/{sid}/explain", json={"point": 3}).json()
    w = np.array(snap["network"]["weights"][0])[:, 0]
    b = snap["network"]["biases"][0][0]
    x = np.array(list(before["x"].values()))
    y = before["target"]
    p = 1 / (1 + np.exp(-(x @ w + b)))
    assert np.allclose(before["before"]["weights"], w, rtol=1e-3)
    assert before["prediction"] == pytest.approx(p, abs=1e-3)
    assert before["error"] == pytest.approx(y - before["prediction"], abs=1e-6)
    assert np.allclose(before["gradient"]["weights"], -(y - before["prediction"]) * x, rtol=1e-4)
    assert before["gradient"]["bias"] == pytest.approx(-(y - before["prediction"]), rel=1e-4)
    assert np.allclose(before["after"]["weights"],
                       np.array(before["before"]["weights"]) + 0.5 * before["error"] * x,
                       rtol=1e-4)
    assert "w ← w + η (y − ŷ) x" in before["rule"]
    assert step(client, sid, epochs=0 + 1)["epoch"] == 3  # explaining moved nothing


def test_explain_at_the_start_is_the_estimators_own_first_step(client):
    session = create(client, dataset="circle", model="logistic", learning_rate=0.2, penalty="l2",
                     alpha=0.1, features=["x1", "x1^2"], optimizer="adam")
    reply = client.post(f"/api/models/{session['id']}/explain", json={"point": 5}).json()
    X, y = make_dataset("circle", n_points=200, noise=0.1, seed=0)
    X_train, _, y_train, _ = split(X, y, 0.5, 0)
    Z = transform(X_train[5:6], ["x1", "x1^2"])
    model = descent.LogisticRegression(optimizer="gd", learning_rate=0.2, batch_size=1,
                                       penalty="l2", alpha=0.1, standardize=False, tol=None)
    model.partial_fit(Z, y_train[5:6], classes=[0, 1])
    assert np.allclose(reply["after"]["weights"], model.coef_[0], rtol=1e-5)
    assert reply["after"]["bias"] == pytest.approx(model.intercept_[0], rel=1e-5)
    assert reply["before"]["weights"] == [0.0, 0.0]
    assert "L2" in reply["rule"]


def test_explain_of_a_misclassified_point_is_the_perceptron_trick(client):
    session = create(client, dataset="xor", model="perceptron", learning_rate=0.1)
    sid = session["id"]
    step(client, sid, epochs=3)
    for index in range(len(session["train"]["y"])):
        reply = client.post(f"/api/models/{sid}/explain", json={"point": index}).json()
        if reply["error"] != 0:
            break
    x = np.array(list(reply["x"].values()))
    assert reply["error"] == reply["target"] - reply["prediction"]
    assert np.allclose(np.array(reply["after"]["weights"]) - reply["before"]["weights"],
                       0.1 * reply["error"] * x, atol=1e-6)
    assert reply["after"]["bias"] - reply["before"]["bias"] == pytest.approx(0.1 * reply["error"])


def test_explain_of_the_svm_keeps_its_l2_pull(client):
    session = create(client, dataset="gaussians", model="svm", learning_rate=0.1, alpha=0.01,
                     n_points=100)
    sid = session["id"]
    step(client, sid, epochs=3)
    reply = client.post(f"/api/models/{sid}/explain", json={"point": 0}).json()
    w = np.array(reply["before"]["weights"])
    x = np.array(list(reply["x"].values()))
    t = 2 * reply["target"] - 1
    inside = t * reply["score"] < 1
    assert reply["error"] == (t if inside else 0)
    expected = -reply["error"] * x + 0.01 * w  # alpha = 1 / (C n): the session's, not 1 / C
    assert np.allclose(reply["gradient"]["weights"], expected, rtol=1e-4, atol=1e-7)


def test_explain_of_a_network_shows_its_output_layer(client):
    session = create(client, dataset="xor", model="mlp", hidden_layers=[3], learning_rate=0.3)
    sid = session["id"]
    snap = step(client, sid, epochs=2)
    reply = client.post(f"/api/models/{sid}/explain", json={"point": 1}).json()
    assert list(reply["inputs"]) == ["h1", "h2", "h3"]
    assert np.allclose(reply["before"]["weights"], np.array(snap["network"]["weights"][1])[:, 0],
                       rtol=1e-3, atol=1e-4)
    h = np.array(list(reply["inputs"].values()))
    assert np.allclose(reply["gradient"]["weights"], -reply["error"] * h, rtol=1e-4, atol=1e-7)


# ----- export and the Python script ------------------------------------------------------------
def test_the_exported_file_loads_and_predicts_as_the_lab_shows(client, tmp_path):
    session = create(client, dataset="circle", model="mlp", features=["x1", "x2", "x1^2"],
                     hidden_layers=[4])
    sid = session["id"]
    assert client.get(f"/api/models/{sid}/export").status_code == 422  # nothing trained yet
    snap = step(client, sid, epochs=10)
    reply = client.get(f"/api/models/{sid}/export")
    assert reply.headers["content-type"] == "application/octet-stream"
    name = re.search(r'filename="([^"]+)"', reply.headers["content-disposition"]).group(1)
    assert name == "descent-mlp-circle-epoch10.descent"
    path = tmp_path / name
    path.write_bytes(reply.content)
    model = descent.load(path)
    axis = np.linspace(-3, 3, snap["grid"]["size"])
    gx, gy = np.meshgrid(axis, axis)
    Z = transform(np.column_stack([gx.ravel(), gy.ravel()]), ["x1", "x2", "x1^2"])
    probability = model.predict_proba(Z)[:, 1].reshape(gx.shape)
    assert np.allclose(probability, snap["grid"]["values"], atol=6e-4)


def _run_script(client, sid, folder) -> dict:
    script = client.get(f"/api/models/{sid}/python")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/plain")
    (folder / "lab.py").write_text(script.text)
    done = subprocess.run([sys.executable, "lab.py"], cwd=folder, capture_output=True, text=True,
                          timeout=60, env=environment(None))
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(re.findall(r"^test (loss|score): (\S+)$", done.stdout, re.M))


def test_the_python_script_retrains_the_same_model(client, tmp_path):
    session = create(client, dataset="curve", curve="x^2/2 - 1", model="mlp", optimizer="adam",
                     features=["x1", "x2", "sin(x1)"], hidden_layers=[5, 3], seed=5,
                     penalty="l2", alpha=0.001)
    snap = step(client, session["id"], epochs=12)
    printed = _run_script(client, session["id"], tmp_path)
    assert float(printed["loss"]) == pytest.approx(snap["test_loss"], rel=1e-5)


def test_an_upload_trains_and_its_script_reads_the_same_file(client, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform([0, 100], [10, 300], size=(80, 2))
    kind = np.where(X[:, 0] / 10 + X[:, 1] / 300 > 1.2, "big", "small")
    text = "width,height,kind\n" + "".join(f"{a:.3f},{b:.3f},{k}\n"
                                          for (a, b), k in zip(X, kind, strict=True))
    upload = client.post("/api/uploads", content=text, headers={"content-type": "text/csv"})
    assert upload.status_code == 200, upload.text
    body = upload.json()
    assert body["rows"] == 80 and body["task"] == "classification"
    assert body["columns"] == ["width", "height", "kind"] and body["classes"] == ["big", "small"]
    session = create(client, dataset="upload", upload_id=body["upload_id"], model="logistic",
                     learning_rate=0.1)
    assert session["columns"] == ["width", "height"] and session["classes"] == ["big", "small"]
    assert np.abs(np.array(session["train"]["X"])).max() <= 3.0
    snap = step(client, session["id"], epochs=20)
    assert snap["test_loss"] < session["snapshot"]["test_loss"]
    (tmp_path / "your-data.csv").write_text(text)
    printed = _run_script(client, session["id"], tmp_path)
    assert float(printed["loss"]) == pytest.approx(snap["test_loss"], rel=1e-5)


def test_an_upload_of_many_numbers_is_a_regression(client):
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1000, size=(60, 2))
    price = 3 * X[:, 0] - X[:, 1] + rng.normal(0, 5, 60)
    text = "a,b,price\n" + "".join(f"{a:.2f},{b:.2f},{p:.2f}\n"
                                   for (a, b), p in zip(X, price, strict=True))
    body = client.post("/api/uploads", content=text).json()
    assert body["task"] == "regression" and body["classes"] == []
    assert client.post("/api/models", json={"dataset": "upload", "upload_id": body["upload_id"],
                                            "model": "logistic"}).json()["field"] == "model"
    session = create(client, dataset="upload", upload_id=body["upload_id"], model="linear")
    assert session["task"] == "regression"
    assert sorted(session["train"]["y"] + session["test"]["y"]) == pytest.approx(
        sorted(np.round(price, 2)), rel=1e-3)
    snap = step(client, session["id"], epochs=30)
    assert snap["grid"]["kind"] == "prediction"
    assert snap["test_loss"] < session["snapshot"]["test_loss"]


@pytest.mark.parametrize("text, status", [
    ("1,2,0\n2,3,1\n3,1,0\n4,4,1\n", 422),                               # no header
    ("a,b,label\nx,2,0\ny,3,1\nz,1,0\nw,4,1\n", 422),                     # text feature
    ("a,b,c,label\n1,2,3,0\n2,3,4,1\n3,1,5,0\n4,4,6,1\n", 422),            # four columns
    ("a,b,label\n" + "1,2,0\n" * 200_000, 413),                           # over 1 MiB
])
def test_a_bad_upload_is_refused(client, text, status):
    reply = client.post("/api/uploads", content=text, headers={"content-type": "text/csv"})
    assert reply.status_code == status, reply.text
    if status == 422:
        assert reply.json()["field"] == "file"


def test_an_upload_that_is_not_utf8_is_422(client):
    reply = client.post("/api/uploads", content=b"a,b,c\n\xff\xfe,1,2\n",
                        headers={"content-type": "text/csv"})
    assert reply.status_code == 422 and reply.json()["field"] == "file"


# ----- many requests, streams and closed sessions (real uvicorn) -----------------------------
def _post(url, body=None, method="POST"):
    request = Request(url, data=json.dumps(body or {}).encode(), method=method,
                      headers={"content-type": "application/json"})
    try:
        with urlopen(request, timeout=20) as reply:
            return reply.status, json.loads(reply.read())
    except HTTPError as err:
        return err.code, json.loads(err.read())


def test_many_steps_on_one_session_do_not_hold_up_another_user(playground_url, monkeypatch):
    monkeypatch.setattr(model_access, "LOCK_WAIT_SECONDS", 2.0)
    monkeypatch.setattr(sessions, "STEP_SECONDS", 0.3)
    _, busy = _post(playground_url + "/api/models", {
        "dataset": "spiral", "model": "mlp", "n_points": 2000, "hidden_layers": [16] * 6,
        "batch_size": 1})
    _, mine = _post(playground_url + "/api/models", {"dataset": "circle", "model": "logistic"})
    codes = []

    def slow_step():  # 0.3 s of training each, one at a time: the rest wait for the lock
        codes.append(_post(f"{playground_url}/api/models/{busy['id']}/step",
                           {"epochs": 100})[0])

    threads = [threading.Thread(target=slow_step) for _ in range(45)]  # past anyio's 40
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # every one of them is in the server
    waits = []
    for _ in range(3):
        began = time.perf_counter()
        with urlopen(playground_url + "/api/options", timeout=20) as reply:
            assert reply.status == 200
        assert _post(f"{playground_url}/api/models/{mine['id']}/step")[0] == 200
        waits.append(time.perf_counter() - began)
    for thread in threads:
        thread.join(30)
    # Waiting threads made them wait for the lock's timeout (seconds) when they held threads.
    assert max(waits) < 0.5, waits
    assert 200 in codes and set(codes) <= {200, 409}


def _open_stream(playground_url, sid, query="epochs=1000&interval=0.02"):
    stream = urlopen(f"{playground_url}/api/models/{sid}/stream?{query}", timeout=10)
    seen = 0
    while seen < 2:
        if stream.readline().startswith(b"data:"):
            seen += 1
    return stream


def test_a_deleted_sessions_stream_ends_at_the_next_epoch(playground_url):
    _, made = _post(playground_url + "/api/models", {"dataset": "circle", "model": "logistic"})
    stream = _open_stream(playground_url, made["id"])
    status, _ = _post(f"{playground_url}/api/models/{made['id']}", method="DELETE")
    assert status == 200
    began, rest = time.perf_counter(), stream.read().decode()  # read() returns at the end
    stream.close()
    assert time.perf_counter() - began < 2 and "event: end" in rest
    assert rest.count("data:") <= 3  # the end event and at most an epoch or two in flight


def test_one_session_plays_in_one_stream_at_a_time(playground_url):
    _, made = _post(playground_url + "/api/models", {"dataset": "circle", "model": "logistic"})
    stream = _open_stream(playground_url, made["id"])
    try:
        with pytest.raises(HTTPError) as second:
            urlopen(f"{playground_url}/api/models/{made['id']}/stream?epochs=5", timeout=10)
        assert second.value.code == 409
        assert "already playing" in json.loads(second.value.read())["error"]
    finally:
        stream.close()
    deadline = time.monotonic() + 5
    while True:  # the first stream's slot comes back once the server sees it closed
        try:
            with urlopen(f"{playground_url}/api/models/{made['id']}/stream?epochs=2",
                         timeout=10) as again:
                assert again.read().count(b"data:") == 3
            break
        except HTTPError as err:
            assert err.code == 409 and time.monotonic() < deadline
            time.sleep(0.05)


def test_the_streams_are_capped_in_all(client, monkeypatch):
    monkeypatch.setattr(model_access.STREAMS, "limit", 0)
    sid = create(client, dataset="circle", model="logistic")["id"]
    reply = client.get(f"/api/models/{sid}/stream?epochs=2")
    assert reply.status_code == 503 and "streaming" in reply.json()["error"]


def test_a_stream_ends_once_the_server_is_stopping():
    app = create_app()
    client = TestClient(app, base_url="http://127.0.0.1")
    sid = create(client, dataset="circle", model="logistic")["id"]
    app.state.stopping.set()
    with client.stream("GET", f"/api/models/{sid}/stream?epochs=100") as reply:
        events = _events("".join(reply.iter_text()))
    assert [name for name, _ in events] == ["end"] and events[0][1]["epochs"] == 0
