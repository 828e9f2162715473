"""Shared harness of the fuzz targets: the hypothesis ones here and the atheris ones in
``fuzz/`` (docs/fuzzing.md). (Not ``conftest.py``: test modules import it, and every
``conftest`` shares one module name.)

The invariant every target checks: a public call on any input either
succeeds or raises a :class:`~gridledger.errors.GridLedgerError` subclass —
never another exception, and never a pyo3 ``PanicException`` (a
``BaseException``: ``except Exception`` misses it) — and a stateful target's
state is unchanged when it rejects.

Budget. Every target's ``max_examples`` is ``EXAMPLES × weight`` (weight 1
for a fast decoder, less for a target that runs a simulation). ``EXAMPLES``
is 200, or ``GRIDLEDGER_FUZZ_EXAMPLES`` from the environment::

    GRIDLEDGER_FUZZ_EXAMPLES=5000 pytest tests/fuzz   # a longer run

The default keeps the whole folder under a minute on a 2-core machine.
``GRIDLEDGER_FUZZ_ALL=1`` ignores KNOWN_OPEN (to see what the open bugs still break).

KNOWN_OPEN. Bugs of issue 19 that are being fixed on other branches. A
target that would hit one either narrows its inputs while the entry is here
(:func:`is_open`) or tolerates exactly that exception raised exactly there
(:func:`check`). The lead empties this dict as the fixes merge: each removed
entry widens the fuzzing back to the whole input space, so the fix is then
fuzzed too. Keep it explicit and short.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from gridledger.errors import GridLedgerError
from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("GRIDLEDGER_FUZZ_EXAMPLES", "200"))


def fuzz_settings(weight: float = 1.0) -> settings:
    """Hypothesis settings of one target: ``EXAMPLES × weight`` examples, no deadline."""
    return settings(
        max_examples=max(1, round(EXAMPLES * weight)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


@dataclass(frozen=True)
class Known:
    """An open bug: ``exc`` raised from a frame in ``where`` (a path suffix), or ``None``
    for a bug the targets avoid by narrowing their inputs."""

    item: int
    branch: str
    what: str
    exc: type[BaseException] | None = None
    where: str = ""


#: Empty: every bug the fuzzing found in issue 19 is fixed. Add an entry only while a fix is
#: in flight on another branch, and remove it when the fix lands.
KNOWN_OPEN: dict[str, Known] = {}
if os.environ.get("GRIDLEDGER_FUZZ_ALL"):  # fuzz the whole input space now, known bugs and all
    KNOWN_OPEN.clear()


def is_open(key: str) -> bool:
    """Whether the known bug ``key`` is still open (a target narrows its inputs if so)."""
    return key in KNOWN_OPEN


def _tolerated(e: BaseException, keys: tuple[str, ...]) -> bool:
    frames = traceback.extract_tb(e.__traceback__)
    for k in keys:
        known = KNOWN_OPEN.get(k)
        if known is None or known.exc is None or not isinstance(e, known.exc):
            continue
        if any(f.filename.replace(os.sep, "/").endswith(known.where) or known.where in f.filename
               for f in frames):  # fmt: skip
            return True
    return False


T = TypeVar("T")


class FuzzFailure(AssertionError):
    """A broken invariant: an untyped exception, a panic, or state changed by a rejected call."""


def check(
    fn: Callable[..., T], *args: Any, known: tuple[str, ...] = (), **kwargs: Any
) -> T | GridLedgerError:
    """Call ``fn``; return its result or the GridLedgerError it raised.

    Any other exception — a ``PanicException``, ``IndexError``, ``TypeError``,
    ``OverflowError`` … — raises :class:`FuzzFailure` with its traceback, unless it is one of the
    ``known`` open bugs raised where KNOWN_OPEN says.
    """
    try:
        return fn(*args, **kwargs)
    except GridLedgerError as e:
        if not (e.args and isinstance(e.args[0], str) and e.args[0]):
            raise FuzzFailure(f"{type(e).__name__} without a message from {fn!r}") from e
        return e
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # PanicException is a BaseException
        if _tolerated(e, known):
            return GridLedgerError(f"known open bug: {e!r}")
        tb = "".join(traceback.format_exception(e))
        raise FuzzFailure(
            f"{fn!r} raised {type(e).__module__}.{type(e).__name__}, not a GridLedgerError:\n{tb}"
        ) from None


def unchanged(before: object, after: object, what: str) -> None:
    """Fail unless a rejected call left the state ``what`` as it was."""
    if before != after:
        raise FuzzFailure(f"rejected call changed {what}: {before!r} -> {after!r}")


# --- input strategies ---------------------------------------------------------------

INTERESTING_INTS = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 2**31 - 1, 2**31, 2**32 - 1, 2**32,
                    2**53, 2**62, 2**63 - 1, 2**63, 2**64 - 1)  # fmt: skip


def apply_mutations(data: bytes, edits: list[tuple[int, int, int, bytes]]) -> bytes:
    """Apply byte-level edits ``(kind, position, amount, payload)`` to ``data``.

    Kinds: 0 flip bits, 1 set a byte, 2 insert ``payload``, 3 delete ``amount``
    bytes, 4 truncate, 5 write an interesting little-endian integer (``amount``
    picks it, ``payload[0] % 4`` its width 1/2/4/8), 6 duplicate a slice.
    """
    b = bytearray(data)
    for kind, pos, amount, payload in edits:
        n = len(b)
        p = pos % (n + 1)
        if kind == 0 and n:
            b[p % n] ^= (amount % 255) + 1
        elif kind == 1 and n:
            b[p % n] = amount % 256
        elif kind == 2:
            b[p:p] = payload
        elif kind == 3:
            del b[p : p + amount % 64 + 1]
        elif kind == 4:
            del b[p:]
        elif kind == 5:
            width = (1, 2, 4, 8)[payload[0] % 4] if payload else 8
            v = INTERESTING_INTS[amount % len(INTERESTING_INTS)] % (1 << (8 * width))
            b[p : p + width] = v.to_bytes(width, "little")
        elif kind == 6 and n:
            q = (p + amount) % n
            b[p:p] = b[min(p, q) : max(p, q)][:256]
    return bytes(b)


def mutated(seeds: list[bytes], max_edits: int = 4) -> Any:
    """Strategy: one of ``seeds`` after up to ``max_edits`` byte-level edits."""
    from hypothesis import strategies as st

    edit = st.tuples(
        st.integers(0, 6), st.integers(0, 1 << 20), st.integers(0, 1 << 16), st.binary(min_size=1, max_size=9)
    )
    return st.builds(apply_mutations, st.sampled_from(seeds), st.lists(edit, max_size=max_edits))
