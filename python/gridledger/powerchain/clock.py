"""Clocks for the PowerChain: time is given to it, never read inside its logic."""

from __future__ import annotations

import time

from gridledger.errors import InvalidArgumentError

__all__ = ["ManualClock", "system_clock"]


def system_clock() -> int:
    """Whole seconds since the Unix epoch, from the machine's clock."""
    return int(time.time())


class ManualClock:
    """A clock that moves only when told (tests, simulations, the worked example)."""

    def __init__(self, t: int = 0) -> None:
        self.t = t

    def __call__(self) -> int:
        """Return the time the clock was set to (whole seconds since the Unix epoch)."""
        return self.t

    def advance(self, seconds: int) -> int:
        """Move forward ``seconds`` (≥ 0); returns the new time."""
        if seconds < 0:
            raise InvalidArgumentError(f"seconds = {seconds}: a clock does not go back", "seconds", seconds)
        self.t += seconds
        return self.t
