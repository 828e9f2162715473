"""The example script of docs/powerchain.md runs as written and prints what the docs show."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "powerchain.md"


def test_the_walkthrough_script_in_the_docs_runs_and_prints_the_documented_output() -> None:
    text = DOC.read_text()
    section = text.split("## Example", 1)[1].split("\n## ", 1)[0]
    script = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert script and shown
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(script.group(1), str(DOC), "exec"), {"__name__": "__docs__"})
    assert out.getvalue() == shown.group(1)
