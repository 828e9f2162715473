"""What every subcommand shares: the command record, typed argument parsers and error rendering.

Every argument is converted by a typed parser when the command line is read, so
a command starts only with values it can use: finite numbers inside their
documented range, integers inside ``0 … 2^63 − 1`` (or narrower), real dates,
input files that exist, outputs whose folder exists and that replace nothing
unless ``--overwrite`` says so. A bad value raises :class:`UsageError`, which
:func:`gridledger.cli.main` prints as ``error:`` and ``hint:`` on stderr with
exit status 2, before any work is done.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

#: The largest integer any count, seed or index on the command line may take (int64).
INT_MAX = 2**63 - 1


class UsageError(Exception):
    """A command line that cannot run: what is wrong, and what to do about it.

    Deliberately not a :class:`ValueError`: argparse would swallow it into a
    generic "invalid value" message and lose the hint.

    Parameters
    ----------
    what
        The problem, naming the option and the value given.
    hint
        What to do about this particular problem.
    """

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint


def render_error(what: str, hint: str) -> None:
    """Print ``error: <what>`` and ``hint: <hint>`` on stderr, one line each."""
    print(f"error: {_one_line(what)}", file=sys.stderr)
    print(f"hint: {_one_line(hint)}", file=sys.stderr)


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
        It checks everything that spans several arguments (sizes, outputs)
        before it starts any work.
    hints
        What to do when the library rejects a value, keyed by the error's
        ``field`` (``"evs"``, ``"member"``); see :meth:`hint_for`.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    hints: Mapping[str, str] = field(default_factory=dict)

    def hint_for(self, error_field: str | None) -> str:
        """Return the hint for a library error about ``error_field`` (``"rivals[2]"`` looks up ``"rivals"``).

        Falls back to the ``"*"`` entry, then to a pointer at the command's help.
        """
        base = re.sub(r"\[\d+\]$", "", error_field or "")
        if base in self.hints:
            return self.hints[base]
        if "*" in self.hints:
            return self.hints["*"]
        what = f"the value of {error_field!r}" if error_field else "a value"
        return f"{what} does not fit this run: `gridledger {self.name} --help` gives each option's range"


# -- the parser ------------------------------------------------------------------------------------
class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are :class:`UsageError` with a hint, never ``SystemExit(2)``.

    Typed parsers (:class:`Kind`) given as ``type=`` learn the option's name,
    so their messages say which option is wrong.
    """

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """Add an argument as argparse does, telling a :class:`Kind` ``type=`` the option's name."""
        action = super().add_argument(*args, **kwargs)
        if isinstance(action.type, Kind):
            name = max(action.option_strings, key=len) if action.option_strings else action.dest.upper()
            action.type = replace(action.type, option=name)
        return action

    def error(self, message: str) -> NoReturn:
        """Raise :class:`UsageError` with a hint for argparse's ``message`` instead of exiting."""
        raise UsageError(f"{self.prog}: {message}", _argparse_hint(self.prog, message))


def _argparse_hint(prog: str, message: str) -> str:
    """Return a hint for argparse's own messages (choices, required and unknown arguments)."""
    choices = re.search(r"invalid choice: (.*) \(choose from (.*)\)", message)
    if choices:
        return f"use one of {choices.group(2)} instead of {choices.group(1)}"
    if "required" in message:
        what = message.split(":", 1)[1].strip()
        return f"add {what}; `{prog} --help` shows what each takes"
    if "unrecognized arguments" in message:
        return f"remove them, or check their spelling against `{prog} --help`"
    if "expected one argument" in message:
        return f"give the option a value; `{prog} --help` shows what it takes"
    return f"`{prog} --help` shows the accepted arguments"


# -- typed parsers ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind(ABC):
    """A typed argument parser: turns the text into a value or raises :class:`UsageError`.

    Attributes
    ----------
    hint
        What to do when the value is refused; names the range and gives an example.
    option
        The option's name, filled in by :meth:`Parser.add_argument`.
    """

    hint: str
    option: str = "value"

    @abstractmethod
    def __call__(self, text: str) -> Any:
        """Parse ``text`` into the value (each kind of argument defines it)."""

    def refuse(self, text: str, need: str) -> NoReturn:
        """Raise :class:`UsageError`: the option must be ``need``, and got ``text``."""
        raise UsageError(f"{self.option} must be {need}, got {text!r}", self.hint)


@dataclass(frozen=True)
class Int(Kind):
    """An integer in ``lo … hi`` (inclusive); decimal digits only, no sign games."""

    lo: int = 0
    hi: int = INT_MAX

    def __call__(self, text: str) -> int:
        """Return ``text`` as an integer in ``lo … hi``, or raise :class:`UsageError`."""
        need = f"an integer in {self.lo} … {self.hi}"
        s = text.strip()
        if not re.fullmatch(r"[+-]?\d{1,25}", s):
            self.refuse(text, need)
        v = int(s)
        if not self.lo <= v <= self.hi:
            self.refuse(text, need)
        return v


@dataclass(frozen=True)
class Float(Kind):
    """A finite number with ``lo < v ≤ hi`` (``lo ≤ v`` when ``closed``)."""

    lo: float = 0.0
    hi: float = 1e9
    closed: bool = False

    def __call__(self, text: str) -> float:
        """Return ``text`` as a finite number in the range, or raise :class:`UsageError`."""
        need = f"a finite number {'≥' if self.closed else '>'} {self.lo:g} and ≤ {self.hi:g}"
        try:
            v = float(text)
        except ValueError:
            self.refuse(text, need)
        if not math.isfinite(v) or not (v >= self.lo if self.closed else v > self.lo) or v > self.hi:
            self.refuse(text, need)
        return v


@dataclass(frozen=True)
class Day(Kind):
    """A calendar day ``YYYY-MM-DD`` in ``lo … hi``."""

    lo: date = date(1, 1, 1)
    hi: date = date(9999, 12, 31)

    def __call__(self, text: str) -> date:
        """Return ``text`` (YYYY-MM-DD) as a day in ``lo … hi``, or raise :class:`UsageError`."""
        need = f"a day YYYY-MM-DD from {self.lo} to {self.hi}"
        try:
            d = date.fromisoformat(text.strip())
        except ValueError:
            self.refuse(text, need)
        if not self.lo <= d <= self.hi:
            self.refuse(text, need)
        return d


@dataclass(frozen=True)
class InFile(Kind):
    """An existing file to read."""

    def __call__(self, text: str) -> Path:
        """Return ``text`` as the path of an existing readable file, or raise :class:`UsageError`."""
        p = Path(text)
        if not p.exists():
            raise UsageError(f"{self.option}: {text} does not exist", self.hint)
        if not p.is_file():
            raise UsageError(f"{self.option}: {text} is not a file", self.hint)
        if not os.access(p, os.R_OK):
            raise UsageError(f"{self.option}: {text} is not readable", self.hint)
        return p


def _writable_parent(option: str, p: Path) -> None:
    parent = p.parent
    if not parent.is_dir():
        raise UsageError(
            f"{option}: the folder {parent} of {p} does not exist",
            f"create it first (mkdir -p {parent}) or give {option} a path in an existing folder",
        )
    if not os.access(parent, os.W_OK):
        raise UsageError(
            f"{option}: the folder {parent} is not writable",
            f"give {option} a path in a folder you can write to",
        )


@dataclass(frozen=True)
class OutFile(Kind):
    """A file to write: its folder exists and it is not a folder itself.

    Whether an existing file may be replaced depends on ``--overwrite``:
    :func:`check_outputs` decides once all arguments are read.
    """

    def __call__(self, text: str) -> Path:
        """Return ``text`` as a file path whose folder is writable, or raise :class:`UsageError`."""
        p = Path(text)
        if text.strip() == "" or p.is_dir():
            raise UsageError(
                f"{self.option}: {text!r} is a folder, not a file", f"give {self.option} a file name"
            )
        _writable_parent(self.option, p)
        return p


@dataclass(frozen=True)
class OutDir(Kind):
    """A folder to write into: it exists, or its parent does (it is then created)."""

    def __call__(self, text: str) -> Path:
        """Return ``text`` as a folder path (new or existing, writable), or raise :class:`UsageError`."""
        p = Path(text)
        if p.exists() and not p.is_dir():
            raise UsageError(
                f"{self.option}: {text} exists and is not a folder",
                f"give {self.option} a folder (new or existing), not a file",
            )
        if not p.exists():
            _writable_parent(self.option, p)
        return p


def check_outputs(option: str, paths: Iterable[Path], overwrite: bool) -> None:
    """Refuse outputs that exist, unless ``--overwrite``; run before any work starts."""
    if overwrite:
        return
    for p in paths:
        if p.exists():
            raise UsageError(
                f"{option}: {p} exists",
                f"pass --overwrite to replace it, or choose another {option}",
            )


def check_distinct(outputs: Mapping[str, Path | None]) -> None:
    """Refuse two options that name the same output file."""
    seen: dict[Path, str] = {}
    for option, p in outputs.items():
        if p is None:
            continue
        key = p.resolve()
        if key in seen:
            raise UsageError(
                f"{seen[key]} and {option} both name {p}",
                f"give {option} another file name, or one would overwrite the other",
            )
        seen[key] = option


def add_overwrite(p: argparse.ArgumentParser) -> None:
    """Add the ``--overwrite`` flag of commands that write files to ``p``."""
    p.add_argument(
        "--overwrite", action="store_true", help="replace output files that exist (default: refuse)"
    )


# -- real data for a run ---------------------------------------------------------------------------
#: Days ``--start`` may take; the data given must cover the run (checked before it starts).
ANY_FIRST_DAY, ANY_LAST_DAY = date(1990, 1, 1), date(2100, 12, 31)


def add_data_options(p: argparse.ArgumentParser, solar: bool) -> None:
    """``--load FILE --area XX`` (and ``--solar FILE --solar-area XX``).

    Any file :func:`gridledger.data.read` reads.
    """
    p.add_argument(
        "--load",
        type=InFile("give a load file that `gridledger data inspect FILE` reads (ENTSO-E, OPSD, entsoe-py)"),
        metavar="FILE",
        help="load series: any ENTSO-E/OPSD/entsoe-py file (default: the bundled Austria 2019 load)",
    )
    p.add_argument("--area", default="AT", help="area of the load series in --load (default AT)")
    if solar:
        p.add_argument(
            "--solar",
            type=InFile("give a file with a solar_generation_actual series, e.g. an OPSD time-series CSV"),
            metavar="FILE",
            help="solar series (default: the bundled Austria 2019 shape, moved to the run's year)",
        )
        p.add_argument("--solar-area", default="AT", help="area of the solar series in --solar (default AT)")


def run_data(args: argparse.Namespace, start: date, days: float, solar: bool) -> tuple[Any, Any]:
    """Return the (load, solar) frames of a run, checked to cover it.

    Raises :class:`UsageError` naming the file, the area and the span the data
    covers otherwise. ``solar`` is None when not asked for.
    """
    from gridledger.errors import BadDataError
    from gridledger.study import sources

    load_path = str(args.load) if args.load is not None else sources.BUNDLED
    when = start.isoformat()
    try:
        load = sources.load_series(load_path, args.area)
        sources.check_covers(load, load_path, args.area, when, days)
        sun = None
        if solar:
            solar_path = str(args.solar) if args.solar is not None else sources.BUNDLED
            sun = sources.solar_series(solar_path, args.solar_area, when, days)
            sources.check_covers(sun, solar_path, args.solar_area, when, days)
    except BadDataError as e:
        if e.field in ("area", "solar_area"):
            hint = "use an area the file has: `gridledger data inspect FILE` lists its series"
        elif e.field == "start":
            hint = "move --start (or shorten --days) into the span the data covers"
        else:
            hint = "give a file that `gridledger data inspect FILE` reads"
        raise UsageError(str(e), hint) from None
    return load, sun
