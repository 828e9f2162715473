"""Real ENTSO-E load and generation data as polars frames.

Readers (:func:`read` detects the format) return one **long layout**:
``utc_timestamp`` (Datetime µs UTC, interval start), ``area``, ``quantity``
(``load_actual``, ``load_forecast``, ``solar_generation_actual``, ...) and
``value_mw`` (mean power over the interval, MW; null = missing in the
source). :func:`wide` pivots it to one column per series.

Supported formats: the ENTSO-E Transparency Platform "Total Load - Day Ahead /
Actual" CSV export (:func:`read_transparency`), the OPSD time-series CSV
(:func:`read_opsd`), entsoe-py's ``query_load`` output as a pandas object
(:func:`from_pandas`) or as its CSV dump (:func:`read_entsoepy_csv`).

:func:`resample` moves every series to the market period preserving energy;
:func:`gap_report` and :func:`fill_gaps` find and fill missing periods;
:func:`scale_to_community` and :func:`scale_solar_to_kwp` turn national series
into a community's.

The bundled samples (:func:`sample_load`, :func:`sample_solar`) are Austria's
2019 hourly load and solar generation. Attribution: "Data: ENTSO-E
Transparency Platform (Actual Total Load), via Open Power System Data. 2020.
Data Package Time series. Version 2020-10-06.
https://doi.org/10.25832/time_series/2020-10-06." (``ATTRIBUTION.md`` in
``data/_bundled``).
"""

from __future__ import annotations

from importlib import resources

import polars as pl

from gridledger.data._formats import (
    LONG_SCHEMA,
    detect_format,
    from_pandas,
    read,
    read_entsoepy_csv,
    read_opsd,
    read_transparency,
)
from gridledger.data._inspect import Inspection, inspect, plot_week
from gridledger.data._series import (
    fill_gaps,
    gap_report,
    parse_every,
    resample,
    resolution_minutes,
    scale_solar_to_kwp,
    scale_to_community,
    wide,
)

__all__ = [
    "ATTRIBUTION",
    "LONG_SCHEMA",
    "Inspection",
    "detect_format",
    "fill_gaps",
    "from_pandas",
    "gap_report",
    "inspect",
    "parse_every",
    "plot_week",
    "read",
    "read_entsoepy_csv",
    "read_opsd",
    "read_transparency",
    "resample",
    "resolution_minutes",
    "sample_load",
    "sample_solar",
    "scale_solar_to_kwp",
    "scale_to_community",
    "wide",
]

ATTRIBUTION = (
    "Data: ENTSO-E Transparency Platform (Actual Total Load), via Open Power System Data. "
    "2020. Data Package Time series. Version 2020-10-06. "
    "https://doi.org/10.25832/time_series/2020-10-06."
)


def _bundled(name: str) -> pl.DataFrame:
    path = resources.files(__name__).joinpath(f"_bundled/{name}")
    with resources.as_file(path) as p:
        return read_opsd(p)


def sample_load() -> pl.DataFrame:
    """Austria's actual total load, 2019, hourly (bundled, offline).

    Returns the long layout: 8 760 rows, ``area="AT"``,
    ``quantity="load_actual"``, ``value_mw`` in MW (mean over each hour, so
    also the hour's energy in MWh), no missing values.
    """
    return _bundled("at_load_2019_60min.csv")


def sample_solar() -> pl.DataFrame:
    """Austria's actual solar generation, 2019, hourly (bundled, offline).

    Returns the long layout: 8 760 rows, ``area="AT"``,
    ``quantity="solar_generation_actual"``, ``value_mw`` in MW.
    """
    return _bundled("at_solar_2019_60min.csv")
