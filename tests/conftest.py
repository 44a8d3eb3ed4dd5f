"""Fixtures for the playground: a real uvicorn server on loopback and a real chromium.

The browser is Debian's chromium driven by Playwright (never a downloaded build). Where
it is missing the browser tests skip, except in CI (``CI`` set), where they fail: .ci/run
installs it.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("DESCENT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


class _ThreadedServer:
    """uvicorn serving ``app`` on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, app):
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # the test process keeps Ctrl-C
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the playground server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def playground_url():
    """The base URL of a playground served by uvicorn for the whole test session."""
    from descent.playground import create_app

    with _ThreadedServer(create_app()) as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    """A headless Debian chromium under Playwright, shared by the session's browser tests."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"chromium is not installed at {CHROMIUM}; .ci/run installs it "
                        "(apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


class PageWatch:
    """What a page did that a test must see: console errors and requests off this machine."""

    def __init__(self):
        self.console_errors: list[str] = []
        self.outside_requests: list[str] = []


@pytest.fixture
def page(chromium, playground_url):
    """A fresh browser page at 1280x800; fails the test if it logged a console error or
    asked anything of a host other than the playground's."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch = PageWatch()
    page.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
    page.on("pageerror", lambda e: watch.console_errors.append(str(e)))
    local = urlparse(playground_url).netloc

    def note(request):
        parsed = urlparse(request.url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.netloc != local:
            watch.outside_requests.append(request.url)

    page.on("request", note)
    page.watch = watch
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert watch.console_errors == [], f"console errors: {watch.console_errors}"
    assert watch.outside_requests == [], f"requests off this machine: {watch.outside_requests}"


class DemoRun:
    """What one ``descent demo`` run left: its folder, its exit code and output, and the
    report and sections it computed (the same objects the page was written from)."""

    def __init__(self, folder, result, report, sections):
        self.folder, self.result, self.report, self.sections = folder, result, report, sections


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """``descent demo --out DIR`` once for the whole test session.

    The report is the slowest thing the suite computes, so it is built once, through the
    command line as a user runs it (click's runner, in this process), and every test of
    the report, the demo sections and the command reads that one run. The real
    ``write_report`` and ``all_sections`` run; the wrappers only keep what they returned.
    The folder name is one rich would read as markup, to show it printed as written.
    """
    from click.testing import CliRunner

    from descent import report
    from descent.cli import main

    kept: dict = {}
    compute_sections, write = report.all_sections, report.write_report

    def sections():
        kept["sections"] = compute_sections()
        return kept["sections"]

    def write_report(*args, **kwargs):
        kept["report"] = write(*args, **kwargs)
        return kept["report"]

    folder = tmp_path_factory.mktemp("demo") / "x[" / "]report"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "all_sections", sections)
        patch.setattr(report, "write_report", write_report)
        patch.setenv("COLUMNS", "120")
        result = CliRunner().invoke(main, ["demo", "--out", str(folder)])
    return DemoRun(folder, result, kept.get("report"), kept.get("sections"))
