"""What every subcommand shares: the command record and the error rendering."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, one-line help, its arguments and what runs it.

    Attributes
    ----------
    name
        The word after ``gridledger`` (``"pos-sim"``).
    help
        One line for ``gridledger --help``.
    configure
        Adds the command's arguments to its parser.
    run
        Runs the parsed command; returns the exit status (0 success, 1 a check failed).
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def render_error(what: str, hint: str) -> None:
    """Print ``error: <what>`` and ``hint: <hint>`` on stderr."""
    print(f"error: {what}", file=sys.stderr)
    print(f"hint: {hint}", file=sys.stderr)
