"""The command group, output helpers, and the rule that a user's mistake is one line.

A mistake a user can make (a missing file, a bad column, a bad expression, a diverging
learning rate, an unwritable folder) raises one of ``USER_ERRORS``; the group prints it as
``error: ...`` on stderr and exits with status 2, as click does for usage errors. Anything
else is a bug in descent and keeps its traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .. import __version__
from ..data import DataError
from ..models import DivergenceError


class UserError(click.ClickException):
    """A problem with the user's input, reported as one line."""

    exit_code = 2


def _user_errors() -> tuple[type[BaseException], ...]:
    """Error types that mean "the input is wrong", gathered from the modules that raise them."""
    from ..expression import ExpressionError
    from ..model_io import ModelFileError
    from ..report import ReportError

    return (UserError, DataError, ExpressionError, ModelFileError, ReportError, DivergenceError)


def one_line(err: BaseException) -> str:
    """The error's message on a single line."""
    text = " ".join(str(err).split())
    return text or type(err).__name__


class Group(click.Group):
    """A click group that turns users' mistakes into ``error: ...`` and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as err:  # click's own message, without the usage block
            where = err.ctx.command_path if err.ctx else ctx.command_path
            click.echo(f"error: {one_line(err.format_message())} (see '{where} --help')",
                       err=True)
            ctx.exit(2)
        except _user_errors() as err:
            click.echo(f"error: {one_line(err)}", err=True)
            ctx.exit(2)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"],
                                          "max_content_width": 100})
@click.version_option(__version__, prog_name="descent")
def main() -> None:
    """descent: gradient descent you can watch, check and scale.

    Fit models on CSV or Parquet files, predict with saved models, minimise a formula,
    find a learning rate, or write the illustrated report of the seeds' examples.
    """


def output_options(command):
    """Add ``--quiet`` and ``--json`` to a command."""
    command = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object instead of tables.")(command)
    return click.option("--quiet", "-q", is_flag=True,
                        help="Print only errors and the bare result.")(command)


def print_json(payload: dict) -> None:
    click.echo(json.dumps(payload, indent=2, default=_plain))


def _plain(value):
    """JSON for NumPy scalars and arrays."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def print_table(title: str, rows: list[tuple[str, object]]) -> None:
    """A two-column table of names and values."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for name, value in rows:
        table.add_row(name, value if isinstance(value, str) else f"{value:.6g}"
                      if isinstance(value, float) else str(value))
    Console().print(table)


def writable_target(path: str | os.PathLike, what: str) -> Path:
    """Check, before any work, that ``path`` can be written; return it as a Path."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UserError(f"{what} '{path}' is a folder; give a file name")
    if not folder.is_dir():
        raise UserError(f"cannot write {what} '{path}': folder '{folder}' does not exist; "
                        "create it first")
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write {what} '{path}': folder '{folder}' is not writable; "
                        "choose another place")
    return path


def write_atomically(path: Path, write, what: str) -> Path:
    """Call ``write(temporary_path)`` then rename over ``path``: never half a file."""
    path = writable_target(path, what)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as err:
        raise UserError(f"cannot write {what} '{path}': {err.strerror or err}") from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_figure(fig, path, what: str = "plot") -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    try:
        return write_atomically(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=100),
                                what)
    finally:
        plt.close(fig)
