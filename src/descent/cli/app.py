"""The command group, output helpers, and the rule that a user's mistake is one line.

A mistake a user can make (a missing file, a bad column, a bad expression, a diverging
learning rate, an unwritable folder, a full disk) raises one of ``_user_errors()``; the
group prints it as ``error: ...`` on stderr and exits with status 2, as click does for
usage errors. Anything else is a bug in descent and keeps its traceback.

What reaches the terminal is safe to show: control characters in file names, column
names and labels are printed as escapes (``\\x1b``), never sent raw, and table cells are
never read as rich markup. ``--json`` prints standard JSON: NaN and infinities are null.
Outputs are written whole or not at all, and never over an input (``refuse_clashes``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

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
    """The error's message on a single line, safe for a terminal."""
    text = " ".join(str(err).split())
    return printable(text or type(err).__name__)


# C0 and C1 controls, DEL, and the bidirectional overrides that can disguise text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    r"""``text`` with every control character written as an escape, for a terminal.

    A label or file name holding ``ESC [2J`` would otherwise clear the screen (or retitle
    the window, or hide text) when printed.

    >>> printable("cat\x1b[2J\x07")
    'cat\\x1b[2J\\x07'
    """
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class FiniteFloat(click.FloatRange):
    """click's FloatRange, refusing NaN and infinities too (they pass its comparisons)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number; give a number such as 0.1", param, ctx)
        return number


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
        except KeyboardInterrupt:  # a second Ctrl-C (the first one ends a fit cleanly)
            click.echo("error: interrupted (Ctrl-C); nothing more was written", err=True)
            ctx.exit(130)


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
    """Print ``payload`` as standard JSON: NumPy values as plain ones, NaN and ±inf as null.

    Python's ``json`` would write a bare ``NaN``, which JSON parsers refuse; null is
    what pandas' ``to_json`` writes for a missing number.

    >>> print_json({"loss": float("nan"), "rates": [0.1, float("inf")]})
    {
      "loss": null,
      "rates": [
        0.1,
        null
      ]
    }
    """
    click.echo(json.dumps(_json_ready(payload), indent=2, allow_nan=False))


def _json_ready(value):
    """NumPy scalars and arrays as Python values; non-finite floats as None."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if hasattr(value, "tolist"):  # a NumPy scalar or array
        return _json_ready(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_table(title: str, rows: list[tuple[str, object]]) -> None:
    """A two-column table of names and values (shown as written: no markup, no escapes)."""
    table = Table(title=Text(printable(title)), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for name, value in rows:
        text = value if isinstance(value, str) else f"{value:.6g}" \
            if isinstance(value, float) else str(value)
        table.add_row(Text(printable(name)), Text(printable(text)))
    Console().print(table)


def echo(text: str, *, err: bool = False) -> None:
    """``click.echo`` for a message that may hold names from files: escapes control codes."""
    click.echo(printable(text), err=err)


# ----- outputs: never over an input, whole or not at all ---------------------------------
def refuse_clashes(inputs: dict[str, object], outputs: dict[str, object]) -> None:
    """Refuse, before any work, an output that names an input or another output.

    ``inputs`` maps a description ("data file") and ``outputs`` an option ("--save") to a
    path or None. Paths are compared resolved (symlinks, ``..``) and, for files that
    exist, with ``os.path.samefile``, so a hard link counts too. Two outputs may share a
    character device such as ``/dev/null``, which nothing can destroy.
    """
    given_outputs = [(option, p) for option, p in outputs.items() if p]
    for option, out in given_outputs:
        for what, source in inputs.items():
            if source and _same_file(out, source):
                raise UserError(f"{option} '{out}' is the {what} '{source}': writing it would "
                                f"destroy the {what}; give {option} another file name")
    for i, (first, a) in enumerate(given_outputs):
        for second, b in given_outputs[i + 1:]:
            if _same_file(a, b) and not _is_character_device(a):
                raise UserError(f"{second} '{b}' is the same file as {first} '{a}'; give "
                                f"{first} and {second} different file names")


def _same_file(a, b) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _is_character_device(path) -> bool:
    mode = _mode(Path(path))
    return mode is not None and stat.S_ISCHR(mode)


def readable_input(path, what: str, hint: str) -> Path:
    """Check that ``path`` is a regular file (``stat`` only: a FIFO is never opened)."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UserError(f"{what} '{path}' does not exist; check the path, or {hint}") from None
    except OSError as err:
        raise UserError(f"cannot read {what} '{path}': {err.strerror or err}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise UserError(f"{what} '{path}' is {kind}; give the file itself")
    return path


def writable_target(path: str | os.PathLike, what: str) -> Path:
    """Check, before any work, that ``path`` can be written; return it as a Path.

    A symlink is written through (the link stays); a stream (a character device such as
    ``/dev/null``, a FIFO, ``/dev/stdout``) is written into; any other non-file is refused.
    """
    path = Path(path)
    mode = _mode(path)
    if mode is not None and stat.S_ISDIR(mode):
        raise UserError(f"{what} '{path}' is a folder; give a file name")
    if _is_stream(path, mode):
        return path
    if mode is not None and not stat.S_ISREG(mode):
        raise UserError(f"{what} '{path}' is not a regular file (a block device or a "
                        "socket); give a file name")
    folder = Path(os.path.realpath(path)).parent
    if not folder.is_dir():
        raise UserError(f"cannot write {what} '{path}': folder '{path.parent}' does not "
                        "exist; create it first")
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write {what} '{path}': folder '{path.parent}' is not "
                        "writable; choose another place")
    return path


def _mode(path: Path) -> int | None:
    """``path``'s file type and mode, following links as the kernel does; None if absent."""
    try:
        return os.stat(path).st_mode
    except OSError:
        return None


# Names of the process's own open files: written into, like a device, never renamed over.
_OWN_STREAMS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/")


def _is_stream(path: Path, mode: int | None) -> bool:
    if mode is None:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or str(path).startswith(_OWN_STREAMS)


def write_atomically(path, write, what: str, *, replaces_itself: bool = False) -> Path:
    """Have ``write(file)`` write ``path`` whole or not at all; OSError becomes one line.

    ``write`` writes a temporary file beside ``path``, which is then renamed over it, so a
    failure (a full disk, an interrupt) leaves any earlier file untouched and no
    temporary behind. ``replaces_itself=True`` says that ``write`` does that on its own
    (``model_io.save``): it gets ``path`` itself. A stream (``/dev/null``, a FIFO,
    ``/dev/stdout``) cannot be renamed over: the finished temporary file is copied into it.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> out = write_atomically(Path(folder) / "a.txt",
        ...                        lambda f: Path(f).write_text("hi"), "note")
        >>> out.read_text(), sorted(p.name for p in Path(folder).iterdir())
        ('hi', ['a.txt'])
    """
    path = writable_target(path, what)
    try:
        if _is_stream(path, _mode(path)):
            _write_into(path, write)
        elif replaces_itself:
            try:
                write(Path(os.path.realpath(path)))
            except OSError as err:  # its own message names the file, the problem and the fix
                raise UserError(str(err)) from err
        else:
            _replace(Path(os.path.realpath(path)), write)
    except OSError as err:
        raise UserError(f"cannot write {what} '{path}': {err.strerror or err}") from err
    return path


def _replace(real: Path, write) -> None:
    """``write`` into a temporary file beside ``real``, flush it to disk, rename it over."""
    mode = real.stat().st_mode & 0o7777 if real.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)  # on disk before it replaces the earlier file
        finally:
            os.close(fd)
        os.chmod(tmp, mode)  # mkstemp's 0600 is not what the user's umask asks for
        os.replace(tmp, real)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _write_into(stream: Path, write) -> None:
    """``write`` a temporary file elsewhere, then copy its bytes into a device or FIFO
    (through this process's own stdout or stderr when ``stream`` is one of them, so that
    the bytes are not written over by, or over, what else goes there)."""
    fd, tmp = tempfile.mkstemp(prefix=".descent-output.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as source:
            own = _own_stream(stream)
            if own is not None:
                own.flush()
                shutil.copyfileobj(source, own.buffer)
                own.buffer.flush()
                return
            with open(stream, "wb") as sink:
                shutil.copyfileobj(source, sink)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _own_stream(path: Path):
    """sys.stdout or sys.stderr when ``path`` is the file they write to, else None."""
    import sys

    try:
        target = os.stat(path)
    except OSError:
        return None
    for stream in (sys.stdout, sys.stderr):
        try:
            mine = os.fstat(stream.fileno())
        except (AttributeError, OSError, ValueError):  # no file behind it (a test runner)
            continue
        if (mine.st_dev, mine.st_ino) == (target.st_dev, target.st_ino):
            return stream
    return None


def is_stream(path) -> bool:
    """Whether ``path`` names a device, a FIFO or this process's stdout (written into)."""
    return _is_stream(Path(path), _mode(Path(path)))


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def save_figure(fig, path, what: str = "plot") -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    try:
        return write_atomically(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=100),
                                what)
    finally:
        plt.close(fig)
