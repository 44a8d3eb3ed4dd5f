"""Running the playground: uvicorn on loopback, the address printed, Ctrl-C stops it."""

from __future__ import annotations

import ipaddress
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
    config = uvicorn.Config(create_app(allowed_hosts=allowed), host=host.strip("[]"), port=port,
                            log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)

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
