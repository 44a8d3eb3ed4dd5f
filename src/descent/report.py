"""The illustrated report: the worked examples of ``descent.demo`` as one HTML page.

``write_report`` runs every section, draws its pictures into PNG (and GIF) files and
writes ``index.html`` beside them. The page is self-contained: relative links only,
a small inline style sheet, no scripts and nothing fetched from the network.

Writing is careful about half-finished states. Pictures are drawn into a temporary
folder next to the target, moved in once all of them exist, and ``index.html`` is
written last through a temporary file and ``os.replace``: an interrupted run leaves
either the previous page or the new one, never a page pointing at missing pictures.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .demo import Picture, Section, all_sections


class ReportError(OSError):
    """The report's folder cannot be created or written; the message says which and why."""


@dataclass
class Report:
    """What ``write_report`` produced.

    Attributes:
        index: the path of the ``index.html`` written.
        summary: one ``(title, key numbers)`` pair per section, in order.
        seconds: how long computing, drawing and writing took.
    """

    index: Path
    summary: list[tuple[str, str]]
    seconds: float


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.5;
       max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; margin-top: 2.5rem; }
.lead { color: #555; }
.summary { background: #f6f8fb; border-left: 3px solid #4a78b5; padding: 0.3rem 0.7rem; }
pre { background: #f5f5f5; padding: 0.8rem; overflow-x: auto; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; }
th { background: #f0f0f0; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; flex: 1 1 26rem; max-width: 100%; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
footer { margin-top: 3rem; font-size: 0.85rem; color: #777; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _prepare(out: Path) -> Path:
    """Create ``out`` and a staging folder beside it; ReportError if either is impossible."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as err:
        raise ReportError(_cannot_write(out, err)) from err
    return staging


def _cannot_write(out: Path, err: OSError) -> str:
    why = err.strerror or str(err)
    return (f"cannot write the report folder {out}: {why}"
            + (f" ({err.filename})" if err.filename and str(err.filename) != str(out) else "")
            + "; choose a folder you can write to, e.g. --out descent-report")


def _draw(picture: Picture, target: Path) -> None:
    """Draw one picture into ``target``, closing its figure whatever happens."""
    if picture.animated:
        picture.draw(target)
        os.chmod(target, 0o644)  # the GIF writer's temporary file is private to its owner
        return
    import matplotlib.pyplot as plt

    fig = picture.draw()
    try:
        fig.savefig(target, dpi=100)
    finally:
        plt.close(fig)


def _section_html(number: int, section: Section, images: Sequence[tuple[str, Picture]]) -> str:
    parts = [f'<section id="s{number}">', f"<h2>{number}. {_e(section.title)}</h2>"]
    if section.summary:
        parts.append(f'<p class="summary"><strong>In short:</strong> {_e(section.summary)}</p>')
    for paragraph in section.text.split("\n\n"):
        if paragraph.strip():
            parts.append(f"<p>{_e(paragraph.strip())}</p>")
    if section.code:
        parts.append(f"<pre>{_e(section.code)}</pre>")
    if section.rows:
        parts.append("<table>")
        parts.append("<thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in section.columns)
                     + "</tr></thead>")
        parts.append("<tbody>")
        for row in section.rows:
            parts.append("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>")
        parts.append("</tbody></table>")
    if images:
        parts.append('<div class="figures">')
        for name, picture in images:
            parts.append(f'<figure><img src="{_e(name)}" alt="{_e(picture.caption)}">'
                         f"<figcaption>{_e(picture.caption)}</figcaption></figure>")
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _page(sections: Sequence[Section], bodies: Sequence[str], seconds: float) -> str:
    contents = "\n".join(f'<li><a href="#s{i}">{_e(s.title)}</a></li>'
                         for i, s in enumerate(sections, start=1))
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>descent: gradient descent, step by step</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<h1>Gradient descent, step by step</h1>",
        '<p class="lead">The worked examples of descent, from the derivative of one '
        "function to trained models. Every number and picture below was computed by "
        "descent on data generated with a fixed seed or bundled with scikit-learn, so "
        "running it again gives the same numbers (only timings change).</p>",
        f"<nav><ol>\n{contents}\n</ol></nav>",
        *bodies,
        f"<footer>Written by descent {_e(__version__)} in {seconds:.1f} s.</footer>",
        "</body>",
        "</html>",
        "",
    ])


def write_report(out_dir="descent-report", *, sections: Sequence[Section] | None = None
                 ) -> Report:
    """Compute the worked examples and write them as ``out_dir/index.html`` with figures.

    Args:
        out_dir: the folder to write into; created if missing. Files of an earlier
            report there are replaced.
        sections: the sections to write; by default ``descent.demo.all_sections()``.

    Returns:
        A ``Report`` with the path of ``index.html``, each section's key numbers and
        the time taken.

    Raises:
        ReportError: the folder cannot be created or written (the message names it).

    Example:
        >>> import tempfile
        >>> from descent.demo import section_graph
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     report = write_report(folder, sections=[section_graph()])
        ...     report.index.name, report.summary[0][1]
        ('index.html', 'dJ/da = 3, dJ/db = 6, dJ/dc = 9')
    """
    started = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"cannot write the report folder {out}: it is a file, not a folder; "
                          "choose another --out")
    staging = _prepare(out)
    try:
        sections = all_sections() if sections is None else list(sections)
        bodies, names = [], []
        for number, section in enumerate(sections, start=1):
            images = []
            for picture in section.figures:
                name = f"{number:02d}-{picture.stem}{picture.suffix}"
                _draw(picture, staging / name)
                images.append((name, picture))
                names.append(name)
            bodies.append(_section_html(number, section, images))
        for name in names:
            os.replace(staging / name, out / name)
        seconds = time.perf_counter() - started
        index = out / "index.html"
        pending = staging / "index.html"
        pending.write_text(_page(sections, bodies, seconds), encoding="utf-8")
        os.replace(pending, index)
    except OSError as err:
        raise ReportError(_cannot_write(out, err)) from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Report(index=index, summary=[(s.title, s.summary) for s in sections],
                  seconds=time.perf_counter() - started)
