"""``descent demo``: the illustrated report that retells the seeds' examples."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .app import main, output_options, print_json, printable


@main.command()
@click.option("--out", "out_dir", default="descent-report", show_default=True,
              type=click.Path(file_okay=False), help="Folder for index.html and its figures.")
@output_options
def demo(out_dir, quiet, as_json):
    """Write the report (index.html and figures) and print what each section found."""
    from ..report import write_report

    report = write_report(out_dir)
    if as_json:
        print_json({"index": str(report.index), "seconds": report.seconds,
                    "sections": [{"title": t, "numbers": k} for t, k in report.summary]})
        return
    if quiet:
        return
    table = Table(title="descent demo", title_justify="left")
    table.add_column("section", style="bold")
    table.add_column("what it found")
    for title, numbers in report.summary:
        table.add_row(Text(title), Text(numbers))
    console = Console()
    console.print(table)
    # The folder is the user's text: printed as written, never read as rich markup.
    console.print(Text(f"Report written to {printable(str(report.index))} in "
                       f"{report.seconds:.1f} s; open it in a browser."))
