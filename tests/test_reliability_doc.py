"""docs/reliability.md stays true: every test its tables name exists in the suite."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"


def test_every_test_the_reliability_tables_name_exists():
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)", text))
    assert len(named) > 50  # the tables are there
    missing = [f"{file}::{name}" for file, name in sorted(named)
               if not re.search(rf"^def {name}\(", (ROOT / file).read_text(encoding="utf-8"),
                                flags=re.MULTILINE)]
    assert not missing, missing


def test_every_row_names_a_test():
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith("| input")
            and not line.startswith("| ---")]
    assert rows and all("`tests/" in row.rsplit("|", 2)[-2] for row in rows), [
        row for row in rows if "`tests/" not in row.rsplit("|", 2)[-2]]
