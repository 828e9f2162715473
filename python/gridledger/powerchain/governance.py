"""Voter commands and the voting rule (SPEC §5).

A voter command opens a vote with the caller's positive vote; the same
command with the same arguments from another voter adds a positive vote;
from the same voter again it flips that voter's vote (a vote left with no
positive vote is dropped). The vote passes, and its action runs at once,
when positive / voters > 0.5. Choices the spec leaves open:

- a command's arguments are checked when each vote is cast (adding someone
  who is already a voter is refused, not counted);
- removing a voter drops that voter's votes from every open vote; an open
  vote that reaches a majority only because the electorate shrank passes on
  its next vote, not by itself;
- the last voter cannot be removed (nobody could govern again);
- a removed storage unit keeps its energy in the totals (it is still in the
  battery) but can no longer report or host sessions; registering it again
  reactivates it, possibly with a new owner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gridledger.errors import BadConfigurationError, InvalidArgumentError
from gridledger.powerchain.amounts import UNIT
from gridledger.powerchain.codec import OPS
from gridledger.powerchain.state import State, Unit
from gridledger.powerchain.wallet import address_str

__all__ = ["VoteResult"]

PARAM_NAMES = ("M", "B", "C", "H", "F")


@dataclass(frozen=True, slots=True)
class VoteResult:
    """The state of a vote after a voter's command: passed (and run) or still open."""

    command: str
    passed: bool
    positive: int
    voters: int


def _vote(
    s: State,
    caller: bytes,
    name: str,
    args: tuple[object, ...],
    check: Callable[[], None],
    act: Callable[[], None],
) -> VoteResult:
    s.require_voter(caller)
    check()
    op = OPS[name]
    key = bytes([op.code]) + op.args.pack(*args)
    votes = s.votes.get(key)
    if votes is None:
        votes = s.votes[key] = {}
    if caller in votes:
        del votes[caller]
    else:
        votes[caller] = None
    positive, voters = len(votes), len(s.voters)
    if 2 * positive > voters:
        del s.votes[key]
        act()
        return VoteResult(name, True, positive, voters)
    if not votes:
        del s.votes[key]
    return VoteResult(name, False, positive, voters)


def _a(addr: bytes) -> str:
    return address_str(addr)


def add_voter(s: State, caller: bytes, now: int, who: bytes) -> VoteResult:
    def check() -> None:
        if who in s.voters:
            raise InvalidArgumentError(f"{_a(who)} is already a voter", "address", _a(who))

    return _vote(s, caller, "add_voter", (who,), check, lambda: s.voters.add(who))


def remove_voter(s: State, caller: bytes, now: int, who: bytes) -> VoteResult:
    def check() -> None:
        if who not in s.voters:
            raise InvalidArgumentError(f"{_a(who)} is not a voter", "address", _a(who))
        if len(s.voters) == 1:
            raise InvalidArgumentError("the last voter cannot be removed", "address", _a(who))

    def act() -> None:
        s.voters.discard(who)
        for key in list(s.votes):
            s.votes[key].pop(who, None)
            if not s.votes[key]:
                del s.votes[key]

    return _vote(s, caller, "remove_voter", (who,), check, act)


def register_storage_unit(s: State, caller: bytes, now: int, unit: bytes, owner: bytes) -> VoteResult:
    def check() -> None:
        u = s.units.get(unit)
        if u is not None and u.active:
            raise InvalidArgumentError(f"{_a(unit)} is already a storage unit", "unit", _a(unit))

    def act() -> None:
        u = s.units.get(unit)
        if u is None:
            s.units[unit] = Unit(owner, True)
        else:
            u.owner, u.active = owner, True

    return _vote(s, caller, "register_storage_unit", (unit, owner), check, act)


def remove_storage_unit(s: State, caller: bytes, now: int, unit: bytes) -> VoteResult:
    def check() -> None:
        s.active_unit("unit", unit)

    def act() -> None:
        s.units[unit].active = False

    return _vote(s, caller, "remove_storage_unit", (unit,), check, act)


def change_banker(s: State, caller: bytes, now: int, who: bytes) -> VoteResult:
    def check() -> None:
        if who == s.banker:
            raise InvalidArgumentError(f"{_a(who)} is already the banker", "address", _a(who))

    def act() -> None:
        s.banker = who

    return _vote(s, caller, "change_banker", (who,), check, act)


def change_bridge_service(s: State, caller: bytes, now: int, who: bytes) -> VoteResult:
    def check() -> None:
        if who == s.bridge_service:
            raise InvalidArgumentError(f"{_a(who)} is already the bridge service", "address", _a(who))

    def act() -> None:
        s.bridge_service = who

    return _vote(s, caller, "change_bridge_service", (who,), check, act)


def check_internal(code: int, value: int) -> None:
    """Range-check a parameter's internal integer (H in seconds, the rest in millionths)."""
    if not 0 <= code < len(PARAM_NAMES):
        raise BadConfigurationError(f"unknown parameter code {code}", "name", code)
    name = PARAM_NAMES[code]
    ok = {
        "M": value >= 0,
        "B": value >= 0,
        "C": 0 < value < UNIT,
        "H": value > 0,
        "F": 0 <= value <= UNIT,
    }[name]
    if not ok:
        shown = value if name == "H" else value / UNIT
        raise InvalidArgumentError(f"parameter {name} = {shown}: out of range", f"parameter {name}", shown)


def set_parameter(s: State, caller: bytes, now: int, code: int, value: int) -> VoteResult:
    def act() -> None:
        s.params[code] = value

    return _vote(s, caller, "set_parameter", (code, value), lambda: check_internal(code, value), act)
