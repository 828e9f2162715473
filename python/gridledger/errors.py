"""The exception hierarchy of gridledger (SPEC §8).

Every error the library raises on bad input is a :class:`GridLedgerError`.
Each carries the offending ``field`` and ``value``; the subclasses that are
about a wrong value also inherit :class:`ValueError`, so generic handlers keep
working. The Rust core raises these same classes (it imports this module), so
nothing from the native side escapes as an untyped error.
"""

from __future__ import annotations

__all__ = [
    "BadConfigurationError",
    "BadDataError",
    "BadElementError",
    "ClusterError",
    "DisconnectedBusError",
    "DoubleSpendError",
    "GridError",
    "GridLedgerError",
    "InsufficientFundsError",
    "InvalidArgumentError",
    "InvalidBlockError",
    "InvalidSignatureError",
    "InvalidTransactionError",
    "MeshedNetworkError",
    "MissingExtraError",
    "NonConvergenceError",
    "NotAuthorisedError",
    "PowerFlowWarning",
    "UnknownBusError",
]


class GridLedgerError(Exception):
    """Base class of every gridledger error.

    Parameters
    ----------
    message
        Human-readable description, naming the field and value.
    field
        Name of the offending argument or record field (``"proof[3]"``).
    value
        The offending value, or a short description of it (``"31 bytes"``).
    """

    def __init__(self, message: str, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class InvalidArgumentError(GridLedgerError, ValueError):
    """A malformed argument: wrong length or shape, out of range, inconsistent sizes."""


class BadConfigurationError(GridLedgerError, ValueError):
    """An unknown or inconsistent option (algorithm, rule, parameter)."""


class BadDataError(GridLedgerError, ValueError):
    """Input data that cannot be used: unreadable file, bad rows, missing values."""


class InvalidSignatureError(GridLedgerError, ValueError):
    """A signature that does not verify where a valid one is required."""


class DoubleSpendError(GridLedgerError):
    """Two transactions spend the same output."""


class InsufficientFundsError(GridLedgerError):
    """Outputs exceed inputs, or a balance is too small for the command."""


class NotAuthorisedError(GridLedgerError, PermissionError):
    """The caller lacks the role or key the command requires."""


class InvalidBlockError(GridLedgerError):
    """A block that breaks a validity rule (header, link, Merkle root, miner)."""


class InvalidTransactionError(GridLedgerError, ValueError):
    """A transaction that breaks a ledger rule not covered by a more specific class.

    Unknown inputs, a transaction for a closed or future period, an expired
    voting token, a malformed encoding, a zero amount, a VPP distribution that
    does not distribute exactly its inputs.
    """


class ClusterError(GridLedgerError, ConnectionError):
    """A Dask cluster that cannot be reached or used (studies)."""


class MissingExtraError(GridLedgerError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it.

    ``field`` is ``"extra"`` and ``value`` the extra's name (``"plot"``);
    ``name`` (from :class:`ImportError`) is the module that could not be imported.
    """

    def __init__(self, message: str, extra: str, module: str) -> None:
        super().__init__(message, "extra", extra)
        self.name = module


# --- The grid (SPEC §11, docs/grid.md): gridledger.grid raises these. ---------------------------


class GridError(GridLedgerError):
    """Base class of the grid's errors: a feeder that cannot be used, a power flow that failed."""


class MeshedNetworkError(GridError, ValueError):
    """A loop (or a parallel line) where a radial feeder is required; names the line that closes it."""


class DisconnectedBusError(GridError, ValueError):
    """A bus without a path to the transformer's LV bus; names the bus."""


class BadElementError(GridError, ValueError):
    """An element with a bad field: non-positive impedance or ampacity, a duplicate name, a bad type.

    ``field`` names the element and the field (``"lines['l3'].r_ohm"``).
    """


class UnknownBusError(GridError, ValueError):
    """A line, transformer, member, PV unit or charger on a bus the feeder does not have."""


class NonConvergenceError(GridError):
    """A power flow that did not converge; ``value`` lists the periods (their indices)."""


class PowerFlowWarning(UserWarning):
    """Some periods of a power flow did not converge (their rows are NaN; see ``converged``)."""
