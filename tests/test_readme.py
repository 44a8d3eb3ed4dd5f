"""The README's Python examples run as written, in order, in one namespace."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples save pictures into the working folder
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["J"].item() == 33.0
    assert namespace["many"].status == "converged" and abs(float(namespace["many"].x) - 3) < 1e-3
    assert namespace["bad"].status == "diverged"
    for picture in ("loss.png", "boundary.png", "network.png", "graph.png", "descent.gif"):
        assert (tmp_path / picture).stat().st_size > 0
    assert type(namespace["again"]) is type(namespace["clf"])


def test_readme_gives_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
