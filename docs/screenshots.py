"""Take the playground screenshots in docs/ (the README shows them).

    .venv/bin/python docs/screenshots.py

Serves the playground on a free loopback port, drives Debian's chromium (Playwright) through
one setup per lab, and writes docs/playground-rate.png and docs/playground-model.png. Each
setup is a shareable URL, the same one a teacher would send.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import CHROMIUM, _ThreadedServer  # noqa: E402

RATE = {"preset": "himmelblau", "expression": "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        "learning_rate": 0.01, "start": "0, 0", "restarts": 6, "view": {"x": [-5, 5], "y": [-5, 5]}}
MODEL = {"dataset": "circle", "model": "mlp", "hidden_layers": [4, 2], "activation": "tanh",
         "features": ["x1", "x2"], "optimizer": "gd", "learning_rate": 0.1, "batch_size": 10}


def _wait(page, script: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise RuntimeError(f"never true: {script}")
        time.sleep(0.1)


def main() -> None:
    from playwright.sync_api import sync_playwright

    from descent.playground import create_app

    with _ThreadedServer(create_app()) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.goto(f"{url}/#{urlencode({'lab': 'rate', 'rate': json.dumps(RATE)})}")
        page.wait_for_selector("#rate-lab[data-busy=false]")
        page.click("#rate-run")
        page.wait_for_selector("#rate-status[data-status=converged]")
        _wait(page, "document.getElementById('rate-lab').dataset.busy === 'false'")
        page.screenshot(path=str(HERE / "playground-rate.png"))

        page = browser.new_page(viewport={"width": 1280, "height": 1240})
        page.goto(f"{url}/#{urlencode({'lab': 'model', 'model': json.dumps(MODEL)})}")
        page.wait_for_selector("#model-lab[data-ready=true][data-drawn-epoch='0']")
        page.click("#model-play")
        _wait(page, "Number(document.getElementById('model-lab').dataset.epoch) >= 300", 90)
        page.click("#model-play")
        page.fill("#model-explain-point", "3")
        page.click("#model-explain")
        page.wait_for_selector("#model-explain-rule")
        page.screenshot(path=str(HERE / "playground-model.png"))
        browser.close()
    print("wrote", HERE / "playground-rate.png", "and", HERE / "playground-model.png")


if __name__ == "__main__":
    main()
