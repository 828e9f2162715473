"""Study files: a base scenario, the axes swept, the seeds and the output folder (issue 15, item 3).

A study is a TOML file::

    name = "draw rules"            # names the study; an output folder holds one study
    workload = "community"         # community | ev | bidding | network | market
    seeds = 2                      # replicates of every combination (default 1)
    out = "results/draw-rules"     # relative to the study file (default: <file stem>-results)

    [base]                         # parameters every cell shares
    members = 50
    days = 7

    [sweep]                        # axes: the cartesian product of these lists
    draw = ["argmax_w_over_u", "proportional"]
    members = [50, 200]

    [[zip]]                        # axes that vary together (same length), crossed with [sweep]
    load = ["a.csv.gz", "b.csv.gz"]
    area = ["AT", "NL"]

Data paths (``load``, ``solar``) are relative to the study file. The whole
study is validated when it is loaded (every cell's scenario, every data file,
area and span), before any task runs.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridledger.errors import BadConfigurationError
from gridledger.study import sources
from gridledger.study.scenario import PARAMS, WORKLOADS, Scenario

__all__ = ["Study", "load_study"]

_TOP = ("name", "workload", "seeds", "out", "base", "sweep", "zip")
_MAX_CELLS = 1_000_000


@dataclass(frozen=True)
class Study:
    """A validated study: its name, workload, cells and output folder.

    Build one with :func:`load_study` (a TOML file) or :meth:`Study.build`.
    """

    name: str
    workload: str
    cells: tuple[Scenario, ...]
    out: Path
    source: str = "<dict>"

    @classmethod
    def build(
        cls,
        workload: str,
        *,
        name: str = "study",
        base: Mapping[str, Any] | None = None,
        sweep: Mapping[str, list[Any]] | None = None,
        zip: list[Mapping[str, list[Any]]] | None = None,
        seeds: int = 1,
        out: str | Path = "study-results",
        root: Path | None = None,
        source: str = "<dict>",
        check_data: bool = True,
    ) -> Study:
        """Expand and validate a study given as values (what :func:`load_study` reads).

        Raises
        ------
        BadConfigurationError
            An unknown workload or parameter, an axis that is not a non-empty
            list, zipped axes of different lengths, an axis given twice, a
            value out of range (naming the cell), too many cells.
        BadDataError
            A data file missing, an area absent from it, or a span it does not cover.
        """
        where = f"{source}: "
        if workload not in PARAMS:
            raise BadConfigurationError(
                f"{where}unknown workload {workload!r}: use one of {', '.join(WORKLOADS)}",
                "workload",
                workload,
            )
        if not isinstance(name, str) or not name:
            raise BadConfigurationError(f"{where}name must be a non-empty string", "name", name)
        if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= 100_000:
            raise BadConfigurationError(
                f"{where}seeds must be an int from 1 to 100000, got {seeds!r}", "seeds", seeds
            )
        spec = PARAMS[workload]
        base = dict(base or {})
        groups: list[list[dict[str, Any]]] = []
        seen: set[str] = set()

        def axis_values(key: str, values: Any, table: str) -> list[Any]:
            if key not in spec:
                raise BadConfigurationError(
                    f"{where}[{table}] unknown {workload} parameter {key!r}: allowed are {', '.join(spec)}",
                    key,
                    values,
                )
            if key in seen:
                raise BadConfigurationError(f"{where}axis {key!r} is swept twice", key, values)
            if not isinstance(values, list) or not values:
                raise BadConfigurationError(
                    f"{where}[{table}] {key} must be a non-empty list of values, got {values!r}", key, values
                )
            seen.add(key)
            return values

        for key, values in (sweep or {}).items():
            groups.append([{key: v} for v in axis_values(key, values, "sweep")])
        for i, table in enumerate(zip or []):
            if not isinstance(table, Mapping) or not table:
                raise BadConfigurationError(f"{where}[[zip]] #{i + 1} must be a table of lists", "zip", table)
            cols = {k: axis_values(k, v, f"[zip] #{i + 1}") for k, v in table.items()}
            lengths = {k: len(v) for k, v in cols.items()}
            if len(set(lengths.values())) != 1:
                raise BadConfigurationError(
                    f"{where}[[zip]] #{i + 1}: zipped axes must have the same length, got {lengths}",
                    "zip",
                    lengths,
                )
            n = next(iter(lengths.values()))
            groups.append([{k: cols[k][j] for k in cols} for j in range(n)])
        for key in base:
            if key not in spec:
                raise BadConfigurationError(
                    f"{where}[base] unknown {workload} parameter {key!r}: allowed are {', '.join(spec)}",
                    key,
                    base[key],
                )
        total = seeds
        for g in groups:
            total *= len(g)
        if total > _MAX_CELLS:
            raise BadConfigurationError(f"{where}{total} cells: at most {_MAX_CELLS}", "sweep", total)
        root = root or Path.cwd()
        cells = []
        for combo in itertools.product(*groups) if groups else [()]:
            params = dict(base)
            for part in combo:
                params.update(part)
            for key in ("load", "solar"):
                if key in params and params[key] != sources.BUNDLED:
                    params[key] = str((root / str(params[key])).resolve())
            if params.get("grid") not in (None, "none", "radial"):  # a feeder file, relative to the study
                params["grid"] = str((root / str(params["grid"])).resolve())
            label = ", ".join(f"{k}={v}" for part in combo for k, v in part.items()) or "base"
            for r in range(seeds):
                cells.append(Scenario(workload, params, r, where=f"{where}cell ({label}): "))
        out_path = Path(out)
        out_path = out_path if out_path.is_absolute() else root / out_path
        study = cls(name, workload, tuple(dict.fromkeys(cells)), out_path, source)
        if check_data:
            study.check_data()
        return study

    def check_data(self) -> None:
        """Read every data file once and check each cell's area and span (before any task runs)."""
        checked: set[tuple[str, str, str, float]] = set()
        for sc in self.cells:
            p = sc.params
            if "load" not in p:
                continue
            span_days = float(p["days"])
            key = (p["load"], p["area"], p["start"], span_days)
            if key not in checked:
                load = sources.load_series(p["load"], p["area"])
                sources.check_covers(load, p["load"], p["area"], p["start"], span_days)
            checked.add(key)
            if "solar" in p:
                solar = sources.solar_series(p["solar"], p["solar_area"], p["start"], span_days)
                sources.check_covers(solar, p["solar"], p["solar_area"], p["start"], span_days)

    def __iter__(self) -> Iterator[Scenario]:
        """Iterate over the study's cells in order."""
        return iter(self.cells)

    def __len__(self) -> int:
        """Return the number of cells."""
        return len(self.cells)


def load_study(path: str | Path, *, out: str | Path | None = None, check_data: bool = True) -> Study:
    """Read and validate a study file (TOML); ``out`` overrides the file's output folder.

    Raises
    ------
    BadConfigurationError
        The file is missing or not TOML, has an unknown key (naming the
        allowed ones), or any cell is invalid (see :meth:`Study.build`).
    """
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadConfigurationError(f"{p}: no such study file", "study", str(p)) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise BadConfigurationError(f"{p}: not a readable TOML study file ({e})", "study", str(p)) from None
    unknown = sorted(set(doc) - set(_TOP))
    if unknown:
        raise BadConfigurationError(
            f"{p}: unknown key {unknown[0]!r}: a study file has {', '.join(_TOP)}",
            unknown[0],
            doc[unknown[0]],
        )
    if "workload" not in doc:
        raise BadConfigurationError(
            f"{p}: missing 'workload' (one of {', '.join(WORKLOADS)})", "workload", None
        )
    for table in ("base", "sweep"):
        if table in doc and not isinstance(doc[table], dict):
            raise BadConfigurationError(f"{p}: [{table}] must be a table", table, doc[table])
    z = doc.get("zip", [])
    if isinstance(z, dict):
        z = [z]
    if not isinstance(z, list):
        raise BadConfigurationError(f"{p}: [[zip]] must be tables of lists", "zip", z)
    return Study.build(
        doc["workload"],
        name=doc.get("name", p.stem),
        base=doc.get("base"),
        sweep=doc.get("sweep"),
        zip=z,
        seeds=doc.get("seeds", 1),
        out=Path(out).resolve() if out is not None else doc.get("out", f"{p.stem}-results"),
        root=p.resolve().parent,
        source=str(p),
        check_data=check_data,
    )
