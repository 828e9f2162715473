"""The fuzz targets' open-bug list is reported at the end of every run (see fuzzing.py)."""

from __future__ import annotations

from typing import Any

from fuzzing import EXAMPLES, KNOWN_OPEN


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not KNOWN_OPEN:
        return
    terminalreporter.write_sep("-", f"fuzz: {EXAMPLES} examples/target, inputs narrowed for open bugs")
    for key, k in KNOWN_OPEN.items():
        terminalreporter.write_line(f"{key}: issue 19 item {k.item} ({k.branch}): {k.what}")
