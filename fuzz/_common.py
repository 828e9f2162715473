"""What every atheris harness shares: the import path of the test helpers, the invariant
(tests/fuzz/fuzzing.py: success or a GridLedgerError, state unchanged on rejection) and
the libFuzzer entry. Run a harness through ``scripts/fuzz.sh`` (docs/fuzzing.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "fuzz"), str(ROOT / "tests")]

import atheris  # noqa: E402

# Instrument every gridledger module (and the test helpers that build the inputs) before
# anything imports them: instrument_imports only sees modules imported inside its block, and
# the harness itself (fuzzing.py) imports gridledger. numpy and polars stay uninstrumented.
INSTRUMENTED = ["gridledger", "fuzzing", "seeds", "powerchain_helpers", "ledger_world"]
with atheris.instrument_imports(include=INSTRUMENTED):
    import gridledger
    import gridledger.market
    import gridledger.network
    import gridledger.powerchain
    from fuzzing import KNOWN_OPEN, FuzzFailure, check, is_open, unchanged

assert gridledger.__file__

__all__ = ["KNOWN_OPEN", "FuzzFailure", "atheris", "check", "is_open", "main", "unchanged"]


def main(test_one: Callable[[bytes], None]) -> None:
    """Hand ``test_one`` to libFuzzer with the command line's options and corpus folders."""
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
