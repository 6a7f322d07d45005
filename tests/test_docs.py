"""docs/bptt.md quotes numrnn's code: every line of its ```python blocks (comments and `...` aside) stands in the
source, so the page cannot drift from the code it explains."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalized(line):
    return re.sub(r"\s+", " ", line.split("#")[0]).strip()


def test_every_quoted_line_is_in_the_source():
    source = {normalized(line) for path in (ROOT / "src" / "numrnn").rglob("*.py")
              for line in path.read_text().splitlines()}
    page = (ROOT / "docs" / "bptt.md").read_text()
    quoted = [line for block in re.findall(r"```python\n(.*?)```", page, re.S) for line in block.splitlines()
              if normalized(line) and "..." not in line]
    assert len(quoted) > 20
    assert [line for line in quoted if normalized(line) not in source] == []
