"""The learning-rate lab in a real browser: STEP counts agree with descent.minimize, the
states a learner must see show up, errors sit next to their field, the URL keeps the setup,
and the lab works at phone width and by keyboard."""

from __future__ import annotations

import pytest

from descent import minimize
from descent.expression import parse


def open_lab(page, url, fragment=""):
    page.goto(url + "/" + fragment)
    page.wait_for_selector("body[data-ready=true]")
    settle(page)


def settle(page):
    """Wait until every request the lab has queued is answered."""
    page.wait_for_selector("#rate-lab[data-busy=false]")


def counter(page) -> int:
    return int(page.inner_text("#rate-steps"))


def status(page) -> str:
    return page.get_attribute("#rate-status", "data-status")


def set_value(page, selector, value):
    page.fill(selector, str(value))
    page.press(selector, "Enter")  # "change": the lab resets with the new setting
    settle(page)


def test_the_lab_loads_with_the_bowl_at_step_zero(page, playground_url):
    open_lab(page, playground_url)
    assert page.input_value("#rate-expression") == "x^2"
    assert counter(page) == 0 and status(page) == "running"
    assert page.inner_text("#rate-value") == "25"  # f(5), from the server
    assert page.evaluate("document.getElementById('rate-plot').width") > 300


@pytest.mark.parametrize("rate", [0.5, 0.45, 0.3])
def test_step_counts_on_the_bowl_match_minimize(page, playground_url, rate):
    expected = minimize(parse("x^2").as_function(), x0=5.0, learning_rate=rate, epochs=10_000,
                        tol=1e-6).n_steps
    open_lab(page, playground_url)
    set_value(page, "#rate-lr", rate)
    for _ in range(expected + 2):
        if status(page) == "converged":
            break
        page.click("#rate-step")
        settle(page)
    assert status(page) == "converged"
    assert counter(page) == expected
    assert "Reached the minimum" in page.inner_text("#rate-feedback")
    assert page.is_disabled("#rate-step")


def test_a_large_rate_shows_the_diverging_state(page, playground_url):
    open_lab(page, playground_url)
    set_value(page, "#rate-lr", 1.05)
    page.click("#rate-run")
    page.wait_for_selector("#rate-status[data-status=diverged]")
    assert counter(page) == 5
    assert "smaller" in page.inner_text("#rate-feedback")


def test_run_plays_back_pause_stops_it_and_step_goes_on_from_there(page, playground_url):
    open_lab(page, playground_url)
    page.select_option("#rate-preset", "rosenbrock")  # 500 steps without converging
    settle(page)
    page.click("#rate-run")
    # (wait_for_function evaluates a string, which the page's CSP refuses: poll instead)
    for _ in range(100):
        if counter(page) > 20:
            break
        page.wait_for_timeout(50)
    assert page.inner_text("#rate-run") == "PAUSE"
    page.click("#rate-run")
    paused = counter(page)
    page.wait_for_timeout(150)
    assert counter(page) == paused < 500 and page.inner_text("#rate-run") == "RUN"
    page.click("#rate-step")
    settle(page)
    assert counter(page) == paused + 1 and status(page) == "running"


def test_rate_one_on_the_bowl_shows_bouncing(page, playground_url):
    open_lab(page, playground_url)
    set_value(page, "#rate-lr", 1)
    for _ in range(6):
        page.click("#rate-step")
        settle(page)
    assert status(page) == "bouncing"


def test_a_bad_expression_shows_its_error_next_to_the_field(page, playground_url):
    open_lab(page, playground_url)
    set_value(page, "#rate-expression", "x + ")
    message = page.inner_text("#rate-controls [data-error-for=expression]")
    assert "column" in message and "Allowed" in message
    assert page.get_attribute("#rate-expression", "aria-invalid") == "true"
    # The browser logs each refused request (HTTP 422) as a console error; those are expected.
    page.watch.console_errors[:] = [m for m in page.watch.console_errors if "422" not in m]
    set_value(page, "#rate-expression", "x^4 - 3*x^2 + x")
    assert page.inner_text("#rate-controls [data-error-for=expression]") == ""
    assert page.input_value("#rate-preset") == "custom"


def test_the_url_restores_the_setup_after_reload(page, playground_url):
    open_lab(page, playground_url)
    page.select_option("#rate-preset", "rosenbrock")
    settle(page)
    set_value(page, "#rate-lr", 0.002)
    page.select_option("#rate-optimizer", "momentum")
    settle(page)
    set_value(page, "#rate-beta", 0.5)
    page.check("#rate-compare")
    settle(page)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    settle(page)
    assert page.input_value("#rate-preset") == "rosenbrock"
    assert "100*(y - x^2)^2" in page.input_value("#rate-expression")
    assert page.input_value("#rate-lr") == "0.002"
    assert page.input_value("#rate-optimizer") == "momentum"
    assert page.input_value("#rate-beta") == "0.5"
    assert page.is_checked("#rate-compare")
    assert page.input_value("#rate-start") == "-1.5, 2"
    page.click("#rate-step")
    settle(page)
    assert counter(page) == 1 and page.is_visible("#rate-compare-readout")


def test_restarts_draw_every_run_and_mark_the_best(page, playground_url):
    open_lab(page, playground_url)
    page.select_option("#rate-preset", "valleys")
    settle(page)
    set_value(page, "#rate-restarts", 5)
    page.click("#rate-run")
    page.wait_for_selector("#rate-status[data-status=converged]")
    legend = page.inner_text("#rate-legend")
    assert "other restarts" in legend and "best run" in legend
    assert float(page.inner_text("#rate-value")) < -1.4  # the deepest valley


def test_clicking_the_plot_sets_the_start(page, playground_url):
    open_lab(page, playground_url)
    box = page.locator("#rate-plot").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    settle(page)
    start = float(page.input_value("#rate-start"))
    assert -6 < start < 0  # left of the middle of the view [-6, 6]
    assert "start" in page.url and counter(page) == 0


def test_phone_width_has_no_horizontal_scroll_and_steps_work(page, playground_url):
    page.set_viewport_size({"width": 390, "height": 800})
    open_lab(page, playground_url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    plot_right = "document.getElementById('rate-plot').getBoundingClientRect().right"
    assert page.evaluate(plot_right) <= 390
    page.click("#rate-step")
    settle(page)
    assert counter(page) == 1


def test_keyboard_reaches_step_and_enter_and_space_press_it(page, playground_url):
    open_lab(page, playground_url)
    page.focus("#rate-expression")
    for _ in range(40):
        if page.evaluate("document.activeElement.id") == "rate-step":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "rate-step"
    page.keyboard.press("Enter")
    settle(page)
    assert counter(page) == 1
    page.keyboard.press("Space")
    settle(page)
    assert counter(page) == 2


def press(page, button: str):
    """A click that does not wait for the button to be enabled (a disabled one ignores it)."""
    page.evaluate("(id) => document.getElementById(id).click()", button)


def test_fast_clicks_and_a_preset_change_end_in_the_new_setup_at_step_zero(page, playground_url):
    open_lab(page, playground_url)
    page.select_option("#rate-preset", "rosenbrock")  # 500 steps: RUN plays for seconds
    settle(page)
    for _ in range(3):
        for button in ("rate-step", "rate-run", "rate-reset", "rate-step", "rate-run",
                       "rate-compare"):
            press(page, button)
    settle(page)
    page.click("#rate-run")
    page.wait_for_selector("#rate-run[aria-pressed=true]")
    # A new setup while the run plays: the old run stops at once, not when the new one loads.
    page.select_option("#rate-preset", "valleys")
    shown = counter(page)
    page.wait_for_timeout(120)
    assert counter(page) in (shown, 0)
    press(page, "rate-run")
    press(page, "rate-step")
    press(page, "rate-reset")
    settle(page)
    assert counter(page) == 0 and page.inner_text("#rate-run") == "RUN"
    assert page.input_value("#rate-preset") == "valleys"
    assert "exp(" in page.input_value("#rate-expression")
    page.click("#rate-step")
    settle(page)
    assert counter(page) == 1


def test_steps_asked_for_before_a_change_are_not_taken_on_the_new_setup(page, playground_url):
    open_lab(page, playground_url)
    page.select_option("#rate-preset", "rosenbrock")
    settle(page)
    page.click("#rate-run")
    page.wait_for_selector("#rate-run[aria-pressed=true]")
    sent = []
    page.on("request", lambda r: r.url.endswith("/api/descend") and sent.append(r.post_data_json))
    # In one go, as fast clicks are: STEP (queued behind nothing), then a new preset.
    playing = page.evaluate("""() => {
        document.getElementById('rate-step').click();
        const preset = document.getElementById('rate-preset');
        preset.value = 'valleys';
        preset.dispatchEvent(new Event('change'));
        return document.getElementById('rate-run').getAttribute('aria-pressed');
    }""")
    assert playing == "false"  # the old run stopped at once
    settle(page)
    new = [body for body in sent if "exp(" in body["expression"]]
    assert new and all(body["steps"] == 0 for body in new), new  # only the new setup's start
    assert counter(page) == 0 and page.inner_text("#rate-run") == "RUN"


def test_run_pressed_twice_before_its_run_comes_does_not_play(page, playground_url):
    open_lab(page, playground_url)
    set_value(page, "#rate-lr", 0.45)  # (a short run)
    page.evaluate("() => { const run = document.getElementById('rate-run'); run.click(); "
                  "run.click(); }")
    settle(page)
    assert counter(page) == 0 and page.get_attribute("#rate-run", "aria-pressed") == "false"
    page.click("#rate-run")  # a third press plays
    page.wait_for_selector("#rate-status[data-status=converged]")
    assert counter(page) > 0
