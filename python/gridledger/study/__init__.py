"""Studies at scale: scenarios, study files, sweeps on Dask, a resumable results dataset (issue 15).

A :class:`Scenario` is one run's complete, validated parameters with a stable
id; a study file (TOML, :func:`load_study`) sweeps a base scenario over axes
and seeds; :func:`run` runs every cell not yet done on a Dask cluster (local
by default) and writes one row per cell to a Parquet dataset as cells finish;
:func:`status` and :func:`tables` / :func:`plot` read it back. See
``docs/study.md``.
"""

from gridledger.study.report import plot, tables
from gridledger.study.results import Status, read_results, status
from gridledger.study.runner import RunSummary, run
from gridledger.study.scenario import DESIGN, PARAMS, WORKLOADS, Param, Scenario
from gridledger.study.studyfile import Study, load_study
from gridledger.study.workloads import run_cell, run_scenario

__all__ = [
    "DESIGN",
    "PARAMS",
    "WORKLOADS",
    "Param",
    "RunSummary",
    "Scenario",
    "Status",
    "Study",
    "load_study",
    "plot",
    "read_results",
    "run",
    "run_cell",
    "run_scenario",
    "status",
    "tables",
]
