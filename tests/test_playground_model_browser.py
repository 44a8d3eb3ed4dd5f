"""The model lab in a real browser against the real server: training, the URL, errors, layout.

Each test opens the lab on a fresh page (the ``page`` fixture fails a test that logs a
console error or asks anything of another host) and waits on what the page exposes:
``#model-lab``'s data-ready / data-epoch / data-drawn-epoch / data-test-loss attributes.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

HEATMAP = "document.getElementById('model-heatmap').toDataURL()"
LAB = "document.getElementById('model-lab').dataset"


def until(page, script: str, timeout: float = 15.0):
    """Polls `script` in the page until it is truthy (the page's CSP forbids the string
    evaluation that Playwright's wait_for_function uses)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never true: {script}")


def creates(request) -> bool:
    return request.url.endswith("/api/models") and request.method == "POST"


def open_lab(page, url: str, setup: dict | None = None) -> dict:
    """The page with the model lab shown (and `setup` in the URL), once its first
    snapshot is drawn; returns the server's reply creating the session."""
    fragment = {"lab": "model"}
    if setup:
        fragment["model"] = json.dumps(setup)
    with page.expect_response(lambda r: creates(r.request)) as created:
        page.goto(f"{url}/#{urlencode(fragment)}")
    ready(page)
    return created.value.json()


def ready(page):
    page.wait_for_selector("#model-lab[data-ready=true][data-drawn-epoch='0']")


def lab(page) -> dict:
    return page.evaluate(f"({{...{LAB}}})")


def expect_failed_request(page, status: int):
    """The browser reports an HTTP error answer as a console error; a test that provokes
    one on purpose takes exactly that line out of the fixture's watch."""
    errors = page.watch.console_errors
    expected = [e for e in errors if "Failed to load resource" in e and str(status) in e]
    assert expected, errors
    for line in expected:
        errors.remove(line)


def test_play_lowers_the_test_loss_and_changes_the_heatmap(page, playground_url):
    open_lab(page, playground_url, {"dataset": "gaussians", "model": "logistic",
                                    "learning_rate": 0.1})
    before = lab(page)
    picture = page.evaluate(HEATMAP)
    page.click("#model-play")
    assert page.get_attribute("#model-play", "aria-pressed") == "true"
    until(page, f"Number({LAB}.epoch) >= 20")
    page.click("#model-play")
    assert page.get_attribute("#model-play", "aria-pressed") == "false"
    until(page, f"{LAB}.drawnEpoch === {LAB}.epoch")
    after = lab(page)
    assert float(after["testLoss"]) < float(before["testLoss"])
    assert page.text_content("#model-epoch") == after["epoch"]
    assert page.evaluate(HEATMAP) != picture
    # The loss chart keeps every snapshot: two lines with a point per epoch so far.
    assert page.locator("#model-loss-chart polyline").count() == 2
    # Pause holds: no more epochs arrive.
    time.sleep(0.2)
    assert lab(page)["epoch"] == after["epoch"]


def test_step_adds_one_epoch_and_reset_goes_back_to_zero(page, playground_url):
    open_lab(page, playground_url)
    page.click("#model-step")
    page.wait_for_selector("#model-lab[data-epoch='1']")
    page.click("#model-step")
    page.wait_for_selector("#model-lab[data-epoch='2']")
    assert page.text_content("#model-epoch") == "2"
    page.click("#model-reset")
    page.wait_for_selector("#model-lab[data-epoch='0']")
    assert page.text_content("#model-epoch") == "0"


def test_the_url_restores_a_setup_and_the_server_session_uses_it(page, playground_url):
    first = open_lab(page, playground_url)
    deleted = []
    page.on("request", lambda r: r.method == "DELETE" and deleted.append(r.url))
    page.select_option("#model-dataset", "xor")
    page.select_option("#model-kind", "logistic")
    page.fill("#model-rate", "0.1")
    page.press("#model-rate", "Enter")
    until(page, "location.hash.includes('logistic') && location.hash.includes('0.1')")
    ready(page)
    # A new setup is a new session; the old one is ended, not left to expire.
    assert any(url.endswith(f"/api/models/{first['id']}") for url in deleted), deleted
    with page.expect_request(creates) as sent:
        page.reload()
        ready(page)
    body = sent.value.post_data_json
    assert (body["dataset"], body["model"], body["learning_rate"]) == ("xor", "logistic", 0.1)
    assert page.input_value("#model-dataset") == "xor"
    assert page.input_value("#model-kind") == "logistic"
    assert page.input_value("#model-rate") == "0.1"
    # The server's session was built from it: its Python rebuilds the same setup.
    page.click("#model-python")
    code = until(page, "document.getElementById('model-python-code').textContent")
    assert "xor" in code and "0.1" in code


def test_a_bad_curve_shows_its_error_next_to_the_curve_box(page, playground_url):
    open_lab(page, playground_url)
    page.select_option("#model-dataset", "curve")
    ready(page)
    page.fill("#model-curve", "sin(3*x) + nope")
    page.press("#model-curve", "Enter")
    message = page.locator("[data-error-for=curve]")
    message.wait_for()
    until(page, "document.querySelector('[data-error-for=curve]').textContent.includes('nope')")
    assert page.get_attribute("#model-curve", "aria-invalid") == "true"
    assert page.is_disabled("#model-step")
    expect_failed_request(page, 422)


def test_the_lab_fits_a_phone_and_steps_by_keyboard(page, playground_url):
    page.set_viewport_size({"width": 390, "height": 800})
    open_lab(page, playground_url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    heatmap = page.locator("#model-heatmap").bounding_box()
    assert heatmap["x"] + heatmap["width"] <= 390
    page.focus("#model-play")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "model-step"
    page.keyboard.press("Enter")
    page.wait_for_selector("#model-lab[data-epoch='1']")


def test_the_network_diagram_grows_with_a_layer_and_shows_the_weights(page, playground_url):
    open_lab(page, playground_url, {"dataset": "xor", "model": "mlp", "hidden_layers": [3]})
    assert page.locator("#model-network circle").count() == 2 + 3 + 1
    assert page.locator("#model-network line").count() == 2 * 3 + 3 * 1
    with page.expect_request(creates) as sent:
        page.click("#model-layer-count-plus")
    ready(page)
    assert sent.value.post_data_json["hidden_layers"] == [3, 3]
    assert page.text_content("#model-layer-count") == "2 hidden layers"
    assert page.locator("#model-network circle").count() == 2 + 3 + 3 + 1
    # Edge width is |weight| (they differ), colour its sign (a class per sign).
    edges = page.locator("#model-network line")
    widths = {edges.nth(i).get_attribute("stroke-width") for i in range(edges.count())}
    signs = {edges.nth(i).get_attribute("class") for i in range(edges.count())}
    assert len(widths) > 3 and signs <= {"edge positive", "edge negative"} and len(signs) == 2


def test_explain_shows_one_step_on_a_typed_training_point(page, playground_url):
    open_lab(page, playground_url)
    page.fill("#model-explain-point", "0")
    page.press("#model-explain-point", "Enter")
    page.wait_for_selector("#model-explain-rule")
    assert "Training point 0" in page.text_content("#model-explain-body")
    assert page.text_content("#model-explain-rule").strip()
    for name in ("target", "prediction", "error"):
        assert page.text_content(f"#model-explain-{name}") not in ("", "-")
    assert page.locator(".explain-table tbody tr").count() == 3  # w (x1), w (x2) and the bias


def test_clicking_a_training_point_on_the_heatmap_explains_that_point(page, playground_url):
    session = open_lab(page, playground_url)
    grid = session["snapshot"]["grid"]
    box = page.locator("#model-heatmap").bounding_box()

    def pixels(point):
        (x0, x1), (y0, y1) = grid["x"], grid["y"]
        return ((point[0] - x0) / (x1 - x0) * box["width"],
                box["height"] - (point[1] - y0) / (y1 - y0) * box["height"])

    x, y = pixels(session["train"]["X"][5])
    page.click("#model-heatmap", position={"x": x, "y": y})
    page.wait_for_selector("#model-explain-rule")
    chosen = int(page.input_value("#model-explain-point"))
    cx, cy = pixels(session["train"]["X"][chosen])
    assert (cx - x) ** 2 + (cy - y) ** 2 <= 12 ** 2  # that point, or one drawn on top of it
    assert f"Training point {chosen} " in page.text_content("#model-explain-body")


def test_an_uploaded_csv_is_trained_on_and_the_model_file_downloads(page, playground_url):
    open_lab(page, playground_url)
    page.select_option("#model-dataset", "upload")
    bad = {"name": "bad.csv", "mimeType": "text/csv", "buffer": b"a\n1\n2\n"}
    page.set_input_files("#model-upload", files=[bad])
    page.wait_for_selector("[data-error-for=upload_id]:has-text('column')")
    expect_failed_request(page, 422)
    rows = "\n".join(f"{i % 7 - 3},{(i * 5) % 11 - 5},{int(i % 7 - 3 > 0)}" for i in range(60))
    csv = {"name": "points.csv", "mimeType": "text/csv",
           "buffer": ("a,b,label\n" + rows + "\n").encode()}
    page.set_input_files("#model-upload", files=[csv])
    ready(page)
    assert "60 rows" in page.text_content("#model-upload-note")
    assert page.get_attribute("#model-export", "href") is None  # nothing trained yet
    page.click("#model-step")
    page.wait_for_selector("#model-lab[data-epoch='1']")
    href = page.get_attribute("#model-export", "href")
    assert href.endswith(f"/api/models/{lab(page)['session']}/export")
    with page.expect_download() as download:
        page.click("#model-export")
    assert download.value.path().stat().st_size > 0


def test_a_diverging_rate_stops_play_and_says_why(page, playground_url):
    open_lab(page, playground_url, {"dataset": "plane", "model": "linear", "learning_rate": 9})
    page.click("#model-play")
    page.wait_for_selector("#model-play[aria-pressed=false]")
    page.wait_for_selector("#model-status.diverged")
    assert "learning_rate" in page.text_content("#model-status")
    assert page.get_attribute("#model-lab", "data-playing") == "false"



def streams_by_session(page) -> list:
    """The session ids of the training streams the page opens, in order."""
    opened = []
    page.on("request", lambda r: "/stream" in r.url
            and opened.append(r.url.split("/api/models/")[1].split("/")[0]))
    return opened


def press(page, button: str):
    """A click that does not wait for the button to be enabled (a person does not either);
    a disabled button ignores it."""
    page.evaluate("(id) => document.getElementById(id).click()", button)


def test_play_while_a_new_setup_settles_trains_only_the_new_session(page, playground_url):
    first = open_lab(page, playground_url)
    opened = streams_by_session(page)
    with page.expect_response(lambda r: creates(r.request)) as created:
        page.select_option("#model-dataset", "xor")
        # Pressed at once, before the new session exists: the old session must not train.
        assert page.is_disabled("#model-play") and page.is_disabled("#model-step")
        press(page, "model-play")
        press(page, "model-step")
        press(page, "model-reset")
    second = created.value.json()
    ready(page)
    assert second["id"] != first["id"] and lab(page)["session"] == second["id"]
    assert opened == [] and lab(page)["playing"] == "false"
    page.click("#model-play")
    until(page, f"Number({LAB}.drawnEpoch) >= 3")
    page.click("#model-play")
    assert opened and set(opened) == {second["id"]}, opened
    assert lab(page)["session"] == second["id"]


def test_rapid_clicks_and_setting_changes_leave_one_consistent_session(page, playground_url):
    open_lab(page, playground_url)
    opened = streams_by_session(page)
    created = []
    page.on("response", lambda r: creates(r.request) and created.append(r))
    for dataset in ("xor", "circle", "gaussians"):
        for button in ("model-play", "model-step", "model-reset", "model-play", "model-python"):
            press(page, button)
        page.select_option("#model-dataset", dataset)
        press(page, "model-step")
        press(page, "model-play")  # (the old session must not play on into the new setup)
    until(page, f"{LAB}.ready === 'true' && {LAB}.drawnEpoch === '0'")
    last = lab(page)["session"]
    assert created and created[-1].json()["id"] == last
    assert lab(page)["playing"] == "false" and lab(page)["epoch"] == "0"
    page.click("#model-play")
    until(page, f"Number({LAB}.drawnEpoch) >= 2")
    page.click("#model-play")
    # Streams opened before the last change were closed with it; the latest is this session's.
    assert opened[-1] == last
    until(page, f"{LAB}.drawnEpoch === {LAB}.epoch")
    epoch = int(lab(page)["epoch"])
    assert lab(page)["session"] == last
    page.click("#model-step")  # (the server may have trained one more epoch than was shown)
    until(page, f"Number({LAB}.epoch) > {epoch} && {LAB}.session === '{last}'")


def test_a_stream_refused_by_the_server_shows_its_message_and_play_stops(page, playground_url):
    session = open_lab(page, playground_url)["id"]
    # Another tab plays the same session: the server allows one stream per session (409).
    page.evaluate("""(id) => { window.other = new AbortController();
        fetch(`/api/models/${id}/stream?epochs=1000&interval=0.05`, { signal: window.other.signal })
          .then((r) => r.body.getReader().read()).catch(() => null); }""", session)
    page.click("#model-play")
    page.wait_for_selector("#model-lab [data-error-for=general]:has-text('another stream')")
    assert lab(page)["playing"] == "false" and not page.is_disabled("#model-play")
    expect_failed_request(page, 409)
    page.evaluate("window.other.abort()")
    page.click("#model-step")  # the page goes on once the other stream is gone
    until(page, f"Number({LAB}.epoch) >= 1 && {LAB}.playing === 'false'")
