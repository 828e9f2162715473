"""``gridledger bench``: a named suite of the library's workloads on real data, with their peers.

* :func:`run_suite` runs the suite in this process and returns the JSON
  document (schema in ``docs/bench.md``); :func:`run_threads` runs it once per
  thread count, each in a fresh interpreter with ``RAYON_NUM_THREADS`` set,
  and :func:`add_scaling` gives each parallel workload its speed-up and
  parallel efficiency against its 1-thread run.
* :func:`add_instructions` adds the gate's callgrind counts to a document.
* :func:`compare` gives each workload's change between two documents.
* :mod:`gridledger.bench.gate` is the project's instruction-count gate.
"""

from __future__ import annotations

from gridledger.bench.compare import Change, compare, load
from gridledger.bench.runner import (
    SCHEMA_VERSION,
    add_instructions,
    add_scaling,
    machine,
    run_suite,
    run_threads,
)
from gridledger.bench.workloads import SIZES, WORKLOADS, Workload

__all__ = [
    "SCHEMA_VERSION",
    "SIZES",
    "WORKLOADS",
    "Change",
    "Workload",
    "add_instructions",
    "add_scaling",
    "compare",
    "load",
    "machine",
    "run_suite",
    "run_threads",
]
