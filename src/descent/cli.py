"""The ``descent`` command line."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .demo import Section, all_sections


def print_section(console: Console, number: int, section: Section) -> None:
    """One worked example as a heading, a sentence and a table."""
    console.rule(f"[bold]{number}. {section.title}")
    console.print(section.text)
    table = Table(show_header=True, header_style="bold")
    for column in section.columns:
        table.add_column(column, overflow="fold")
    for row in section.rows:
        table.add_row(*row)
    console.print(table)
    graph = section.facts.get("graph")
    if graph:
        console.print("The graph as the engine recorded it:")
        console.print(str(graph), markup=False, highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="descent")
def main() -> None:
    """descent: gradient descent you can watch, check and scale."""


@main.command()
def demo() -> None:
    """Walk through the seeds' worked examples, step by step."""
    console = Console()
    for number, section in enumerate(all_sections(), start=1):
        print_section(console, number, section)


if __name__ == "__main__":
    main()
