"""The bridge's integration service (seed 004 §4.2.6).

It watches two PowerChain instances. For every lock on one side not yet
marked transferred it (1) asks the other side whether that lock was already
paid (``is_imported``), (2) if not, calls ``unlock_tokens`` there, and (3)
marks the lock with ``tokens_transferred`` on the source side. The service
keeps no state of its own: everything it needs is on the two chains, so a
service that crashes between any two steps and starts again (a new instance
is fine) finishes the job exactly once — the check in (1) skips a payment
already made, and the destination chain refuses a second payment of the same
lock anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gridledger.powerchain.chain import PowerChain
from gridledger.powerchain.wallet import Wallet

__all__ = ["IntegrationService", "Transferred"]


@dataclass(frozen=True, slots=True)
class Transferred:
    """One lock moved across: source chain, lock id, whether this run paid it (False when a
    previous run already had and only the marking was left)."""

    source_chain: int
    lock_id: int
    paid_now: bool


class IntegrationService:
    """Moves locked tokens between ``a`` and ``b``.

    Parameters
    ----------
    a, b
        The two chains.
    wallet_a, wallet_b
        The service's wallet on each (each chain's voters must have made it
        the bridge service with ``change_bridge_service``).
    step_hook
        Called with a step name before each step (``"check"``, ``"unlock"``,
        ``"mark"``); tests raise from it to simulate a crash at that point.
    """

    def __init__(
        self,
        a: PowerChain,
        wallet_a: Wallet,
        b: PowerChain,
        wallet_b: Wallet,
        *,
        step_hook: Callable[[str], None] | None = None,
    ) -> None:
        self.sides = ((a, wallet_a, b, wallet_b), (b, wallet_b, a, wallet_a))
        self._hook = step_hook or (lambda _step: None)

    def run_once(self) -> list[Transferred]:
        """One polling round over both directions; returns the locks completed."""
        done = []
        for src, src_wallet, dst, dst_wallet in self.sides:
            for lock in src.get_locked_tokens(pending_only=True):
                self._hook("check")
                paid = not dst.is_imported(src.chain_id, lock.id)
                if paid:
                    self._hook("unlock")
                    dst.unlock_tokens(dst_wallet, src.chain_id, lock.id, lock.remote, lock.amount)
                self._hook("mark")
                src.tokens_transferred(src_wallet, lock.id)
                done.append(Transferred(src.chain_id, lock.id, paid))
        return done
