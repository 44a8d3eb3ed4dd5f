"""The playground under load: many model-lab users stepping at once.

A real ``descent playground`` server (uvicorn, in its own process on 127.0.0.1) and N
clients (threads, each with its own keep-alive connection and its own model-lab session)
that each ask for one STEP (``POST /api/models/{id}/step``, one epoch, a full snapshot
back) five times a second, on a fixed schedule, for D seconds. It counts the failed
requests, the step latency (median and 99th percentile, as the client sees it: queueing
in the server included) and the server's resident memory (psutil).

    python bench/bench_playground.py                        # 50 clients, 30 s
    python bench/bench_playground.py --clients 20 --duration 10 --model logistic

The target: p99 below 100 ms with 50 clients on a 2-core machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from common import Table, verdict

TARGET_MS = 100.0
SETTINGS = {  # a network on the circle: the heaviest default the page offers
    "dataset": "circle", "model": "mlp", "hidden_layers": [4, 2], "n_points": 200,
    "features": ["x1", "x2", "x1^2", "x2^2"], "optimizer": "adam", "learning_rate": 0.03,
}
SERVER = ("import uvicorn, sys; from descent.playground import create_app; "
          "uvicorn.run(create_app(), host='127.0.0.1', port=int(sys.argv[1]), "
          "log_level='warning', access_log=False)")


@dataclass
class Load:
    """What the clients saw, and the server's memory."""

    latencies: list[float] = field(default_factory=list)  # seconds, successful steps
    errors: list[str] = field(default_factory=list)
    late: int = 0  # steps sent behind schedule (the client was still waiting on one)
    snapshot_bytes: int = 0
    rss_start: int = 0
    rss_peak: int = 0
    server_cpu: float = 0.0  # seconds of CPU the server used while the clients ran
    load_average: float = 0.0  # the machine's 1-minute load average before the server started
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict | None = None) -> tuple[subprocess.Popen, int]:
    """A playground server in its own process (``env`` laid over this one's environment),
    answering on the returned port."""
    port = _free_port()
    child = subprocess.Popen([sys.executable, "-c", SERVER, str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the server exited: {child.stderr.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return child, port
        except OSError:
            time.sleep(0.05)
    child.kill()
    raise RuntimeError("the playground server did not start within 60 s")


def _request(conn, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    payload = None if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"} if body is not None else {}
    conn.request(method, path, body=payload, headers=headers)
    reply = conn.getresponse()
    return reply.status, reply.read()


def client(port: int, settings: dict, rate: float, duration: float, begin: float,
           load: Load) -> None:
    """One user: a session, then one step every 1/rate seconds until ``begin + duration``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        status, body = _request(conn, "POST", "/api/models", settings)
        if status != 200:
            raise RuntimeError(f"create: HTTP {status} {body[:200]!r}")
        path = f"/api/models/{json.loads(body)['id']}/step"
        period, tick = 1.0 / rate, 0
        while True:
            due = begin + tick * period
            if due >= begin + duration:
                break
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -period:
                with load.lock:
                    load.late += 1
            sent = time.perf_counter()
            try:
                status, body = _request(conn, "POST", path, {"epochs": 1})
            except (OSError, http.client.HTTPException) as err:
                with load.lock:
                    load.errors.append(type(err).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            else:
                took = time.perf_counter() - sent
                with load.lock:
                    if status == 200:
                        load.latencies.append(took)
                        load.snapshot_bytes = len(body)
                    else:
                        load.errors.append(f"HTTP {status}")
            tick += 1
        _request(conn, "DELETE", path.rsplit("/", 1)[0])
    except Exception as err:  # a client that cannot start counts as an error, the rest go on
        with load.lock:
            load.errors.append(f"{type(err).__name__}: {err}")
    finally:
        conn.close()


def _watch_memory(pid: int, load: Load, stop: threading.Event) -> None:
    import psutil

    process = psutil.Process(pid)
    while not stop.wait(0.25):
        try:
            load.rss_peak = max(load.rss_peak, process.memory_info().rss)
        except psutil.Error:
            return


class Server:
    """A playground server in its own process, warmed up, for one or more loads."""

    def __init__(self, env: dict | None = None, settings: dict | None = None):
        import psutil

        self.load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        self.child, self.port = start_server(env)
        self.process = psutil.Process(self.child.pid)
        self.rss_start = self.process.memory_info().rss
        warm = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        status, body = _request(warm, "POST", "/api/models", settings or SETTINGS)
        if status == 200:  # the first session loads the compiled kernels: not part of a load
            _request(warm, "POST", f"/api/models/{json.loads(body)['id']}/step", {"epochs": 1})
        warm.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.child.terminate()
        try:
            self.child.wait(10)
        except subprocess.TimeoutExpired:
            self.child.kill()


def run_load(clients: int = 50, duration: float = 30.0, rate: float = 5.0,
             settings: dict | None = None, env: dict | None = None,
             server: Server | None = None) -> Load:
    """Run the clients against ``server`` (a new one, stopped after, when None)."""
    if server is None:
        with Server(env, settings) as own:
            return run_load(clients, duration, rate, settings, server=own)
    load, stop = Load(), threading.Event()
    load.load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    load.rss_start = server.rss_start
    load.rss_peak = server.process.memory_info().rss
    watcher = threading.Thread(target=_watch_memory, args=(server.child.pid, load, stop),
                               daemon=True)
    watcher.start()
    try:
        begin = time.perf_counter() + 1.0  # every client has its session before the clock runs
        threads = [threading.Thread(target=client, args=(server.port, settings or SETTINGS,
                                                         rate, duration,
                                                         begin + i / (rate * clients), load))
                   for i in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, begin - time.perf_counter()))
        cpu = sum(server.process.cpu_times()[:2])  # the steps' CPU from here: sessions exist
        for thread in threads:
            thread.join(duration + 120)
        load.server_cpu = sum(server.process.cpu_times()[:2]) - cpu
    finally:
        stop.set()
    return load


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


def _row(result: Table, load: Load, clients: int, rate: float) -> tuple[float, float]:
    ms = [t * 1000 for t in load.latencies]
    p50 = statistics.median(ms) if ms else float("nan")
    p99 = percentile(ms, 0.99) if ms else float("inf")
    result.add(f"{clients} x {rate:g}", f"{len(ms):,}", len(load.errors), load.late,
               f"{p50:.1f} ms", f"{p99:.1f} ms", f"{max(ms, default=float('nan')):.1f} ms",
               f"{1000 * load.server_cpu / max(len(ms), 1):.2f} ms",
               f"{load.snapshot_bytes / 1024:.1f} KiB",
               f"{load.rss_start / 2**20:.0f} MiB at start, {load.rss_peak / 2**20:.0f} MiB peak")
    return p50, p99


def table(runs: list[tuple[Load, int, float]], duration: float, rate: float) -> Table:
    """The table of ``runs`` ((load, clients, duration) each, the last one judged)."""
    load, clients, _ = runs[-1]
    result = Table(
        title="Playground under load: model-lab steps from many users",
        note=f"A `descent playground` server (uvicorn, its own process) and N clients "
             f"(threads, keep-alive connections, one model-lab session each: "
             f"{SETTINGS['model'].upper()} {SETTINGS['hidden_layers']} on the "
             f"{SETTINGS['dataset']} set, {SETTINGS['n_points']} points, "
             f"{len(SETTINGS['features'])} features, {SETTINGS['optimizer']}) each asking for "
             f"one STEP (one epoch and a full snapshot: losses, the 40 x 40 heatmap, the "
             f"weights) {rate:g} times a second, on a fixed schedule, for {duration:g} s "
             "(the one-client row: a step without company, for a shorter time). "
             "Latency is as the client sees it, queueing in the server included; the clients "
             f"share the machine's {os.cpu_count()} cores with the server. Server CPU per step "
             "is the server process's CPU time over the run divided by the steps answered: "
             "what a step costs, whatever else the machine was doing. The machine's load "
             f"average before the last run was {load.load_average:.2f}: other processes' "
             "share of the cores shows in the latencies.",
        columns=["clients x steps/s", "steps answered", "errors", "late sends",
                 "step latency p50", "p99", "max", "server CPU per step", "snapshot size",
                 "server memory (RSS)"],
    )
    for each, n, _ in runs:
        _, p99 = _row(result, each, n, rate)
    result.verdicts.append(verdict("playground", f"p99 step latency with {clients} clients at "
                                   f"{rate:g} steps/s", p99, TARGET_MS, unit=" ms"))
    if load.errors:
        result.bounds.append(f"{len(load.errors)} failed request(s), e.g. {load.errors[0]}")
    if p99 > TARGET_MS:
        per_step = load.server_cpu / max(len(load.latencies), 1)
        result.bounds.append(
            f"the server used {1000 * per_step:.2f} ms of CPU a step: {clients * rate:g} steps "
            f"a second need {per_step * clients * rate:.2f} s of CPU each second, of the one "
            "core a Python process can use at a time (the GIL; the threads only share it), "
            "so steps queue once that nears 1; other processes (load average "
            f"{load.load_average:.2f} before the run) and the clients take their share of "
            f"the {os.cpu_count()} cores too")
    return result


def measure(clients: int, duration: float, rate: float) -> Table:
    """One client alone for a few seconds, then ``clients`` together (one server): the
    table."""
    short = min(duration / 3, 5.0)
    with Server() as server:
        alone = run_load(1, short, rate, server=server)
        crowd = run_load(clients, duration, rate, server=server)
    return table([(alone, 1, short), (crowd, clients, duration)], duration, rate)


def run(quick: bool = False) -> list[Table]:
    clients, duration, rate = (10, 3.0, 5.0) if quick else (50, 30.0, 5.0)
    return [measure(clients, duration, rate)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds")
    parser.add_argument("--rate", type=float, default=5.0, help="steps a second per client")
    parser.add_argument("--model", choices=["perceptron", "logistic", "svm", "mlp"])
    args = parser.parse_args(argv)
    if args.model:
        SETTINGS["model"] = args.model
    result = measure(args.clients, args.duration, args.rate)
    print(result.markdown())
    return 1 if any("failed request" in b for b in result.bounds) else 0


if __name__ == "__main__":
    raise SystemExit(main())
