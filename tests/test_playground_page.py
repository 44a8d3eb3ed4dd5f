"""The playground's frame: the command, the page, its guards. The labs have their own tests."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from descent.playground import create_app
from descent.playground.app import STATIC
from descent.playground.guards import MAX_BODY_BYTES, MAX_BODY_MESSAGES, Guard, json_depth

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


@pytest.mark.parametrize("content_type", ["Application/JSON", "application/merge+json", None])
def test_deep_json_is_refused_whatever_the_case_of_its_type_or_with_none(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    body = b"[" * 2000 + b"]" * 2000
    reply = client.post("/api/descend", content=body, headers=headers)
    assert reply.status_code == 422 and "deep" in reply.json()["error"]


def _through_guard(pieces: list[bytes]):
    """``pieces`` sent through the Guard as one POST's body messages: (status, body seen)."""
    import asyncio

    seen, sent = [], []

    async def inner(scope, receive, send):
        seen.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        last = len(sent) == len(pieces) - 1
        sent.append(1)
        return {"type": "http.request", "body": pieces[len(sent) - 1], "more_body": not last}

    replies = []

    async def send(message):
        replies.append(message)

    scope = {"type": "http", "method": "POST", "headers": [(b"host", b"127.0.0.1")]}
    # On a thread of its own: the browser tests' Playwright keeps a loop on this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, Guard(inner)(scope, receive, send)).result()
    return replies[0]["status"], seen[0] if seen else None


def test_a_body_in_many_small_pieces_is_joined_once_and_capped():
    status, seen = _through_guard([b"a" * 1000] * 1000)
    assert status == 200 and seen == b"a" * 1_000_000
    started = time.perf_counter()
    status, seen = _through_guard([b"a"] * (MAX_BODY_BYTES - 1))
    assert status == 400 and seen is None
    assert time.perf_counter() - started < 1.0
    status, _ = _through_guard([b"a"] * MAX_BODY_MESSAGES)
    assert status == 200


def test_a_body_that_is_not_json_names_no_field(client):
    reply = client.post("/api/descend", content=b'{"expression": "x^2",, }',
                        headers={"content-type": "application/json"})
    assert reply.status_code == 422
    assert reply.json() == {"error": "the request body is not valid JSON", "field": None}


def test_an_unknown_key_is_echoed_as_a_short_excerpt(client):
    key = "k" * 900_000
    reply = client.post("/api/descend", json={"expression": "x^2", "start": 1,
                                              "learning_rate": 0.1, key: 1})
    assert reply.status_code == 422 and len(reply.content) < 300
    body = reply.json()
    assert body["field"] == "k" * 57 + "..." and "not a known setting" in body["error"]


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/nothing-here", 404), ("GET", "/api/descend", 405),
    ("PUT", "/api/presets", 405)])
def test_routing_errors_have_the_one_error_shape(client, method, path, status):
    reply = client.request(method, path)
    assert reply.status_code == status
    assert set(reply.json()) == {"error", "field"} and reply.json()["field"] is None
    assert "docs/playground.md" in reply.json()["error"]


@pytest.mark.parametrize("host", ["localhost:1@evil.com", "[::1]evil", "127.0.0.1:80:80",
                                  "127.0.0.1:", "evil.com", "127.0.0.1 .evil"])
def test_a_host_that_is_not_exactly_loopback_and_a_port_is_refused(client, host):
    assert client.get("/api/presets", headers={"host": host}).status_code == 421


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:8765", "[::1]:8765", "LOCALHOST"])
def test_loopback_hosts_with_or_without_a_port_are_served(client, host):
    assert client.get("/api/presets", headers={"host": host}).status_code == 200


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


def test_ctrl_c_with_a_stream_open_ends_it_at_once_without_a_traceback():
    import httpx2 as httpx

    child, line = _start()
    try:
        base = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        with httpx.Client(base_url=base, timeout=20) as http:
            made = http.post("/api/models", json={"dataset": "circle", "model": "logistic"})
            assert made.status_code == 200, made.text
            path = f"/api/models/{made.json()['id']}/stream?epochs=1000&interval=1"
            with http.stream("GET", path) as stream:
                lines = stream.iter_lines()
                assert next(line for line in lines if line.startswith("data:"))
                started = time.monotonic()
                child.send_signal(signal.SIGINT)
                out, err = child.communicate(timeout=20)
                took = time.monotonic() - started
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert took < 2.0, f"Ctrl-C took {took:.1f} s with a stream open"
    assert "playground stopped" in out
    assert "Traceback" not in err and "CancelledError" not in err, err


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
