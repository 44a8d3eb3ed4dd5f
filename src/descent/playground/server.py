"""Running the playground: uvicorn on loopback, the address printed, Ctrl-C stops it.

Ctrl-C sets the app's ``stopping`` event before uvicorn starts its graceful shutdown, so
open streams end at their next event instead of holding the shutdown for its whole
timeout; a stream still open when that timeout ends is cancelled without a traceback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
import webbrowser

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_for(host: str, port: int) -> str:
    """The address to open in a browser."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def port_is_free(host: str, port: int) -> bool:
    """Whether ``port`` can be bound on ``host`` now (so a clash is one clear line)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


class _QuietCancel(logging.Filter):
    """Drops uvicorn's report of a request cancelled at shutdown (a stream cut short):
    the user pressed Ctrl-C, so a traceback about it is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        cancelled = record.exc_info is not None and isinstance(record.exc_info[1],
                                                               asyncio.CancelledError)
        return not cancelled and "timeout graceful shutdown exceeded" not in record.getMessage()


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, telling the app it is stopping as soon as Ctrl-C arrives."""

        def __init__(self, config, stopping: threading.Event):
            super().__init__(config)
            self.stopping = stopping

        def handle_exit(self, sig, frame) -> None:
            self.stopping.set()  # first: streams check it between events
            super().handle_exit(sig, frame)

    return Server


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, open_browser: bool = False,
          on_ready=None) -> None:
    """Serve the playground until Ctrl-C (uvicorn shuts down cleanly and this returns).

    Args:
        host: the address to bind; loopback by default. Any other address makes the
            playground reachable from other machines and accepts any Host header.
        port: the TCP port (0 picks a free one).
        open_browser: open the page in the default browser once the server is up.
        on_ready: optional ``on_ready(url)``, called once the server accepts connections.
    """
    import uvicorn

    from .app import create_app
    from .guards import LOOPBACK_HOSTS

    allowed = LOOPBACK_HOSTS if is_loopback(host) else None
    app = create_app(allowed_hosts=allowed)
    config = uvicorn.Config(app, host=host.strip("[]"), port=port, log_level="warning",
                            access_log=False, lifespan="on", timeout_graceful_shutdown=3)
    server = _server_class()(config, app.state.stopping)
    logging.getLogger("uvicorn.error").addFilter(_QuietCancel())

    def announce():
        while not server.started and not server.should_exit:
            threading.Event().wait(0.02)
        if server.started:
            bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
            url = url_for(host, bound)
            if on_ready is not None:
                on_ready(url)
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
