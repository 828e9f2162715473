"""Real ENTSO-E load data: the bundled offline sample.

``sample_load()`` returns one year (2019) of Austrian actual total load, hourly,
shipped inside the package so that everything runs offline. Attribution:
"Data: ENTSO-E Transparency Platform (Actual Total Load), via Open Power System
Data. 2020. Data Package Time series. Version 2020-10-06.
https://doi.org/10.25832/time_series/2020-10-06." (see ``ATTRIBUTION.md`` in
the package's ``data/_bundled`` folder).
"""

from __future__ import annotations

from importlib import resources

import polars as pl

__all__ = ["ATTRIBUTION", "sample_load"]

ATTRIBUTION = (
    "Data: ENTSO-E Transparency Platform (Actual Total Load), via Open Power System Data. "
    "2020. Data Package Time series. Version 2020-10-06. "
    "https://doi.org/10.25832/time_series/2020-10-06."
)


def sample_load() -> pl.DataFrame:
    """Austria's actual total load for 2019, hourly (bundled, offline).

    Returns
    -------
    polars.DataFrame
        8 760 rows: ``utc_timestamp`` (``Datetime("us", "UTC")``, start of the
        hour) and ``load_mw`` (Float64, MW averaged over the hour, so one row
        is also the hour's energy in MWh).
    """
    path = resources.files(__name__).joinpath("_bundled/at_load_2019_60min.csv")
    with resources.as_file(path) as p:
        frame = pl.read_csv(p, schema={"utc_timestamp": pl.String, "load_mw": pl.Float64})
    return frame.with_columns(
        pl.col("utc_timestamp").str.to_datetime(
            "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC"
        )
    )
