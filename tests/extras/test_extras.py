"""Optional dependencies: the core runs without them, and each use names its extra when one is missing.

Each case runs in a fresh interpreter whose ``sitecustomize`` puts ``None`` in
``sys.modules`` for the blocked packages, which is what Python does when a
package is not installed: ``import matplotlib`` raises ``ModuleNotFoundError``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from gridledger._extras import EXTRAS, require
from gridledger.errors import BadConfigurationError, GridLedgerError, MissingExtraError

OPTIONAL = ["matplotlib", "clarabel", "scipy", "highspy", "dask", "distributed"]

SITECUSTOMIZE = """\
import os, sys
for name in os.environ["GRIDLEDGER_TEST_BLOCK"].split(","):
    sys.modules[name] = None
"""

# Runs ``body`` (which defines ``call()``) and prints the error it raises as JSON.
HARNESS = """\
import json, sys
{body}
try:
    call()
except Exception as e:
    print(json.dumps({{
        "type": type(e).__name__,
        "import_error": isinstance(e, ImportError),
        "message": str(e),
        "field": getattr(e, "field", None),
        "value": getattr(e, "value", None),
        "name": getattr(e, "name", None),
        "cause": type(e.__cause__).__name__,
    }}))
else:
    print(json.dumps(None))
"""


def run_blocked(
    tmp_path: Path, blocked: list[str], code: str, *, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    env["GRIDLEDGER_TEST_BLOCK"] = ",".join(blocked)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def error_of(tmp_path: Path, blocked: list[str], body: str) -> dict[str, object] | None:
    proc = run_blocked(tmp_path, blocked, HARNESS.format(body=textwrap.dedent(body)))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out is None or isinstance(out, dict)
    return out


def test_the_block_is_real(tmp_path: Path) -> None:
    """The harness itself: a blocked package cannot be imported, an unblocked one can."""
    proc = run_blocked(tmp_path, ["matplotlib"], "import numpy\nimport matplotlib")
    assert proc.returncode != 0
    assert "ModuleNotFoundError" in proc.stderr and "matplotlib" in proc.stderr


CASES = {
    "data.plot_week": (
        ["matplotlib"],
        "plot",
        "matplotlib",
        """
        from datetime import datetime, UTC
        from gridledger import data
        def call():
            data.plot_week(data.sample_load(), datetime(2019, 6, 3, tzinfo=UTC), "week.png")
        """,
    ),
    "consensus.plot_trajectories": (
        ["matplotlib"],
        "plot",
        "matplotlib",
        """
        from gridledger import consensus
        def call():
            consensus.plot_trajectories("t.png", turns=5)
        """,
    ),
    "ev.plot_result": (
        ["matplotlib"],
        "plot",
        "matplotlib",
        """
        from gridledger import ev
        result = ev.simulate(households=20, capacity_kw=80.0, evs=5, scheduler="greedy", bound=False)
        def call():
            ev.plot_result(result, "plots")
        """,
    ),
    "ev.simulate(bound=True)": (
        ["clarabel"],
        "ev",
        "clarabel",
        """
        from gridledger import ev
        def call():
            ev.simulate(households=20, capacity_kw=80.0, evs=5, scheduler="greedy", bound=True)
        """,
    ),
    "ev.simulate(receding_horizon)": (
        ["scipy"],
        "ev",
        "scipy.sparse",
        """
        from gridledger import ev
        def call():
            ev.simulate(households=20, capacity_kw=80.0, evs=5, scheduler="receding_horizon", bound=False)
        """,
    ),
    "ev.qp.day_bound": (
        ["scipy"],
        "ev",
        "scipy.sparse",
        """
        import numpy as np
        from gridledger.ev.qp import day_bound
        def call():
            day_bound(np.zeros(1, np.int64), np.ones(1), np.ones(3), 2)
        """,
    ),
    "market.clear_multi_period": (
        ["highspy"],
        "milp",
        "highspy",
        """
        import polars as pl
        from gridledger import market
        bids = pl.DataFrame({"bid": [0, 1], "owner": ["a", "b"], "side": ["buy", "sell"], "period": [0, 0],
                             "quantity": [1.0, 1.0], "price": [10.0, 5.0], "all_or_nothing": [False, False]})
        def call():
            market.clear_multi_period(bids)
        """,
    ),
    "study runner (dask.distributed)": (
        ["distributed"],
        "study",
        "dask.distributed",
        """
        from gridledger._extras import require
        def call():
            require("dask.distributed", "study")
        """,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_missing_extra_names_it(tmp_path: Path, case: str) -> None:
    blocked, extra, module, body = CASES[case]
    err = error_of(tmp_path, blocked, body)
    assert err is not None, f"no error with {blocked} missing"
    package = module.partition(".")[0]
    assert err["type"] == "MissingExtraError", err
    assert err["import_error"] is True
    assert err["field"] == "extra" and err["value"] == extra and err["name"] == module
    assert err["cause"] == "ModuleNotFoundError"
    assert err["message"] == f"{package} is needed for {EXTRAS[extra]}: pip install 'gridledger[{extra}]'"


@pytest.mark.parametrize("case", list(CASES))
def test_each_case_runs_with_its_extra(tmp_path: Path, case: str) -> None:
    """The same calls with nothing blocked succeed: the error above comes from the missing package alone."""
    assert error_of(tmp_path, [], CASES[case][3]) is None


def test_the_core_runs_without_any_extra(tmp_path: Path) -> None:
    """Every package imports, and ``gridledger simulate`` (the README's first command) runs."""
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import gridledger
        for m in pkgutil.walk_packages(gridledger.__path__, "gridledger."):
            importlib.import_module(m.name)
        from gridledger.cli import main
        sys.exit(main(["simulate", "--members", "6", "--pv-units", "2", "--days", "1", "--quiet",
                       "--out", "chain.sqlite"]))
        """
    )
    proc = run_blocked(tmp_path, OPTIONAL, code)
    assert proc.returncode == 0, proc.stderr
    assert "blocks (one per period)" in proc.stdout
    assert (tmp_path / "chain.sqlite").exists()


def test_cli_reports_the_extra(tmp_path: Path) -> None:
    code = "import sys\nfrom gridledger.cli import main\nsys.exit(main(['ev-sim', '--evs', '5']))"
    proc = run_blocked(tmp_path, ["clarabel"], code)
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'gridledger[ev]'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_require_in_process() -> None:
    assert require("numpy", "plot").__name__ == "numpy"
    with pytest.raises(BadConfigurationError, match="unknown extra 'plots'"):
        require("numpy", "plots")
    err = MissingExtraError("x is needed: pip install 'gridledger[plot]'", "plot", "x")
    assert isinstance(err, GridLedgerError) and isinstance(err, ImportError)
    assert (err.field, err.value, err.name) == ("extra", "plot", "x")
