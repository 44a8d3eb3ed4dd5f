"""The playground's frame: the command, the page, its guards. The labs have their own tests."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from descent.playground import create_app
from descent.playground.app import STATIC
from descent.playground.guards import MAX_BODY_BYTES, json_depth

from .subprocesses import environment


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1")


def test_the_page_and_its_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and "descent playground" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    for name in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert client.get(name).status_code == 200, name


def test_nothing_on_the_page_names_another_host(client):
    names = ["/"] + [f"/static/{f.name}" for f in STATIC.iterdir() if f.is_file()]
    assert len(names) > 8
    for name in names:
        text = client.get(name).text
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), name


def test_interactive_api_docs_are_off_and_the_schema_is_served(client):
    assert client.get("/docs").status_code == 404
    assert client.get("/api/openapi.json").json()["info"]["title"] == "descent playground"


def test_a_request_for_another_host_is_refused():
    # A page elsewhere reaching this server by DNS rebinding names its own host.
    outside = TestClient(create_app(), base_url="http://attacker.example")
    reply = outside.get("/")
    assert reply.status_code == 421 and "127.0.0.1" in reply.json()["error"]


def test_bodies_over_the_limit_are_refused_before_they_are_read(client):
    reply = client.post("/api/descend", content=b"x" * (MAX_BODY_BYTES + 1))
    assert reply.status_code == 413 and "smaller" in reply.json()["error"]


def test_deep_json_is_refused_without_recursion(client):
    body = b"[" * 200_000 + b"]" * 200_000
    reply = client.post("/api/descend", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 422 and "deep" in reply.json()["error"]


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1]}') == 2
    assert json_depth(b'"\\"[["') == 0


def _start(port: int = 0):
    child = subprocess.Popen(
        [sys.executable, "-m", "descent.cli", "playground", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment({"PYTHONUNBUFFERED": "1"}))
    line = child.stdout.readline()
    return child, line


def test_the_command_prints_its_address_serves_and_stops_cleanly_on_ctrl_c():
    from urllib.request import urlopen

    child, line = _start()
    try:
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        assert urlopen(match.group(0), timeout=10).status == 200
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert "playground stopped" in out and "Traceback" not in err


def test_a_port_in_use_is_one_line_not_a_traceback():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "descent.cli", "playground", "--port", str(port)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"port {port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_page_loads_in_a_real_browser_and_the_tabs_work_by_keyboard(page, playground_url):
    page.goto(playground_url + "/")
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_visible("#rate-lab") and not page.is_visible("#model-lab")
    page.focus("#tab-rate")
    page.keyboard.press("ArrowRight")
    assert page.is_visible("#model-lab") and not page.is_visible("#rate-lab")
    assert "lab=model" in page.url
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_visible("#model-lab")
    time.sleep(0.1)
