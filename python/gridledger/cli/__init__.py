"""The ``gridledger`` command line.

Results go to stdout, logs and errors to stderr (an error may be followed by a
``hint:`` line); exit status 0 on success, 1 when a check fails, 2 on bad input.

One module per subcommand, each exporting a :class:`~gridledger.cli.common.Command`;
:data:`COMMANDS` is the table :func:`main` builds its parser and dispatches from.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gridledger import __version__
from gridledger.cli import data_inspect, demo, ev_sim, pos_sim, prove, simulate, verify
from gridledger.cli.common import Command, render_error
from gridledger.errors import GridLedgerError

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        demo.COMMAND,
        simulate.COMMAND,
        verify.COMMAND,
        prove.COMMAND,
        pos_sim.COMMAND,
        ev_sim.COMMAND,
        data_inspect.COMMAND,
    )
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridledger", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--version", action="version", version=f"gridledger {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.configure(sub.add_parser(command.name, help=command.help))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gridledger`` command.

    Parameters
    ----------
    argv
        The arguments after ``gridledger`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 a check failed, 2 bad input.
    """
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except GridLedgerError as e:
        render_error(str(e), f"run `gridledger {args.command} --help` for the accepted values")
        return 2
