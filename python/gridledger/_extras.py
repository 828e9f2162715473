"""Optional dependencies, imported when first needed.

The core install (numpy, polars, rich) runs the community ledger, the data
layer, consensus and the markets' engines. Plots, the EV optimisation's QPs,
the multi-period market MILP and studies need more; each lives in an extra of
``pyproject.toml``, and :func:`require` is the one place that imports them, so
a missing one is reported the same way everywhere.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from gridledger.errors import BadConfigurationError, MissingExtraError

__all__ = ["EXTRAS", "require"]

#: What each extra is for, as the error message says it.
EXTRAS: dict[str, str] = {
    "plot": "plots",
    "ev": "the EV optimisation (receding-horizon schedule, offline QP bound)",
    "milp": "multi-period market clearing (MILP)",
    "study": "studies (the Dask runner)",
}


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` from the optional ``extra``, or say how to install it.

    Parameters
    ----------
    module
        Dotted module name (``"matplotlib.pyplot"``, ``"scipy.sparse"``).
    extra
        The extra of gridledger that installs it, a key of :data:`EXTRAS`.

    Returns
    -------
    ModuleType
        The imported module.

    Raises
    ------
    MissingExtraError
        ``module`` cannot be imported; the message names the package and the
        ``pip install 'gridledger[extra]'`` command. The import's own error is
        its ``__cause__``.
    """
    if extra not in EXTRAS:
        raise BadConfigurationError(f"unknown extra {extra!r}: one of {', '.join(EXTRAS)}", "extra", extra)
    try:
        return importlib.import_module(module)
    except ImportError as e:
        package = module.partition(".")[0]
        raise MissingExtraError(
            f"{package} is needed for {EXTRAS[extra]}: pip install 'gridledger[{extra}]'", extra, module
        ) from e
