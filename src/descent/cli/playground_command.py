"""``descent playground``: serve the playground page on this machine until Ctrl-C."""

from __future__ import annotations

import click

from .app import UserError, main, printable


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the default (this machine only) unless you "
                   "mean to let other machines in.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0 picks a free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in your browser.")
def playground(host, port, open_browser):
    """Serve the playground: the learning-rate lab and the model lab, in your browser."""
    from ..playground.server import is_loopback, port_is_free, serve

    if not port_is_free(host, port):
        raise UserError(f"port {port} on {printable(host)} is in use or cannot be bound; "
                        "pick another with --port (0 picks a free one)")
    if not is_loopback(host):
        click.echo(f"warning: listening on {printable(host)}: anyone who can reach this "
                   "machine can use the playground", err=True)

    def ready(url):
        click.echo(f"descent playground: {url}  (Ctrl-C stops it)")

    try:
        serve(host, port, open_browser=open_browser, on_ready=ready)
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled after shutting down
        pass
    click.echo("playground stopped")
