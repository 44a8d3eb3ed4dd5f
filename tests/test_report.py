"""The HTML report: self-contained, complete, escaped, and written without half-states."""

import html
import re
from pathlib import Path

import pytest
from PIL import Image

from descent import demo
from descent.report import Report, ReportError, write_report


def links(page: str) -> list[str]:
    """Every src and href target of the page, in-page anchors left out."""
    return [link for link in re.findall(r'(?:src|href)="([^"]*)"', page)
            if not link.startswith("#")]


def check_folder(folder: Path) -> str:
    """The page in ``folder``; every picture it names is there and is a real image."""
    page = (folder / "index.html").read_text(encoding="utf-8")
    for link in links(page):
        target = folder / link
        assert target.is_file() and target.stat().st_size > 0, link
        with Image.open(target) as image:
            if link.endswith(".png"):
                assert image.format == "PNG" and image.size >= (200, 150), link
            else:
                assert link.endswith(".gif") and image.format == "GIF", link
                assert image.n_frames > 1, link
    return page


@pytest.fixture(scope="module")
def written(demo_run):
    """The session's one ``descent demo`` run (see conftest): folder, sections, report."""
    assert demo_run.result.exit_code == 0, demo_run.result.output
    return demo_run.folder, demo_run.sections, demo_run.report


def test_report_points_at_its_index_and_summarises_every_section(written):
    folder, sections, report = written
    assert isinstance(report, Report)
    assert report.index == folder / "index.html" and report.index.is_file()
    assert [title for title, _ in report.summary] == [s.title for s in sections]
    assert all(numbers for _, numbers in report.summary)
    assert 0 < report.seconds < 120


def test_every_picture_linked_is_there_and_is_an_image(written):
    folder, sections, _ = written
    page = check_folder(folder)
    found = links(page)
    assert len(found) == sum(len(s.figures) for s in sections)
    assert any(link.endswith(".gif") for link in found)
    # Only what the page names is left in the folder: no staging files, no temporaries.
    assert sorted(p.name for p in folder.iterdir()) == sorted([*found, "index.html"])
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_page_is_self_contained(written):
    page = check_folder(written[0])
    assert "http" not in page and "://" not in page
    assert "<script" not in page and "<link" not in page and "<style>" in page


def test_every_title_and_number_appears_in_order(written):
    _, sections, _ = written
    page = (written[0] / "index.html").read_text(encoding="utf-8")
    positions = [page.index(f"{i}. {html.escape(s.title)}</h2>")
                 for i, s in enumerate(sections, start=1)]
    assert positions == sorted(positions)
    for section in sections:
        for row in section.rows:
            for cell in row:
                assert html.escape(cell) in page, (section.title, cell)
        assert html.escape(section.summary) in page
    assert "dJ/dc = 9" in page and "least squares" in page


def test_figures_are_closed_after_saving(written):
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []


def test_a_second_write_into_the_same_folder_replaces_the_page(tmp_path):
    folder = tmp_path / "again"
    write_report(folder, sections=[demo.section_graph(), demo.section_learning_rates()])
    report = write_report(folder, sections=[demo.section_learning_rates()])
    page = check_folder(folder)
    assert "Too small" in page and "computation graph" not in page
    assert report.summary == [("Too small, right, too large", demo.section_learning_rates()
                               .summary)]


def test_text_is_escaped(tmp_path):
    nasty = demo.Section(title="a <b> & 'c'", text="x < y\n\nand <script>", columns=["<th>"],
                         rows=[["<td>"]], summary="1 < 2")
    page = write_report(tmp_path / "esc", sections=[nasty]).index.read_text(encoding="utf-8")
    assert "a &lt;b&gt; &amp; &#x27;c&#x27;" in page and "&lt;script&gt;" in page
    assert "<b>" not in page and "<td><td>" not in page


def test_a_crash_while_drawing_keeps_the_previous_page_whole(tmp_path):
    folder = tmp_path / "keep"
    write_report(folder, sections=[demo.section_learning_rates()])
    before = (folder / "index.html").read_text(encoding="utf-8")

    def broken():
        raise RuntimeError("drawing failed")

    bad = demo.Section(title="broken", text="", columns=[], rows=[],
                       figures=[demo.Picture("fine", demo.section_graph().figures[0].draw, "ok"),
                                demo.Picture("bad", broken, "never drawn")])
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_report(folder, sections=[bad])
    assert (folder / "index.html").read_text(encoding="utf-8") == before
    check_folder(folder)
    assert not (folder / "01-fine.png").exists()  # nothing moved in before all were drawn
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("where", ["under a file", "is a file"])
def test_an_unwritable_folder_is_a_clear_report_error(tmp_path, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    out = blocker / "report" if where == "under a file" else blocker
    with pytest.raises(ReportError, match="report folder") as caught:
        write_report(out, sections=[demo.section_graph()])
    assert str(out) in str(caught.value) and isinstance(caught.value, OSError)
    assert blocker.read_text() == "not a folder"
