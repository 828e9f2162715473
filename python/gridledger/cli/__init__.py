"""The ``gridledger`` command line.

Results go to stdout, logs to stderr. Exit status 0 on success, 1 when a check
fails (a chain that does not verify), 2 on bad input: then stderr holds two
lines, ``error: <what is wrong>`` and ``hint: <what to do about it>``, and no
work was done. Every argument is checked when the command line is read, and
everything that spans several arguments (sizes, output files) before the
command starts (:mod:`gridledger.cli.common`). Any other exception is a bug in
gridledger and is not hidden.

One module per subcommand, each exporting a :class:`~gridledger.cli.common.Command`;
:data:`COMMANDS` is the table :func:`main` builds its parser and dispatches from.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gridledger import __version__
from gridledger.cli import bench, data_inspect, demo, ev_sim, grid, pos_sim, prove, simulate, study, verify
from gridledger.cli.common import Command, Parser, UsageError, render_error
from gridledger.errors import GridLedgerError, MissingExtraError

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
        study.COMMAND,
        bench.COMMAND,
        grid.COMMAND,
    )
}


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="gridledger", description=__doc__.splitlines()[0] if __doc__ else None)
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
    try:
        args = _parser().parse_args(argv)
        command = COMMANDS[args.command]
        try:
            return command.run(args)
        except MissingExtraError as e:
            render_error(str(e), f"install it with: pip install 'gridledger[{e.value}]'")
            return 2
        except GridLedgerError as e:
            # The library refused a value the command line let through: still bad input.
            render_error(str(e), command.hint_for(e.field))
            return 2
    except UsageError as e:
        render_error(e.what, e.hint)
        return 2
