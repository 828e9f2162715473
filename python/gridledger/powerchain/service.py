"""The bridge's integration service (seed 004 §4.2.6).

It watches two PowerChain instances. For every lock on one side not yet
marked transferred it

1. makes the pending locks durable on the source (saves the source chain,
   when it has a file), so a payment is never made for a lock the source
   could lose;
2. asks the destination whether each lock was already paid (``is_imported``);
3. if not, calls ``unlock_tokens`` there (keyed by source chain and lock id:
   the destination refuses a second payment);
4. makes those payments durable (saves the destination once, when it has a
   file);
5. marks each lock with ``tokens_transferred`` on the source.

The mark comes only after the destination's payment is durable, and a
payment only after the lock is: whichever side loses its unsaved state (a
process killed after step 3, a mark never saved), the chains left on disk
either still show the lock pending — and the next run pays it, or finds it
paid and only marks it — or show it done on both. The service keeps no
state of its own, so a new instance started after any crash finishes the
job exactly once. A chain with no file (:attr:`PowerChain.path` is None)
lives only in memory: for it steps 1 and 4 are nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gridledger.powerchain.chain import PowerChain
from gridledger.powerchain.wallet import Wallet

__all__ = ["IntegrationService", "Transferred"]


@dataclass(frozen=True, slots=True)
class Transferred:
    """One lock moved across.

    Source chain, lock id, whether this run paid it (False when a previous run
    already had and only the marking was left).
    """

    source_chain: int
    lock_id: int
    paid_now: bool


class IntegrationService:
    """Moves locked tokens between ``a`` and ``b``.

    Parameters
    ----------
    a, b
        The two chains. A chain with a file (saved or loaded) is saved by
        the service where the protocol needs it durable (see the module).
    wallet_a, wallet_b
        The service's wallet on each (each chain's voters must have made it
        the bridge service with ``change_bridge_service``).
    step_hook
        Called with a step name before each step (``"check"``, ``"unlock"``,
        ``"mark"``, and for chains with a file ``"save source"`` and
        ``"save destination"``); tests raise from it to simulate a crash at
        that point.
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
            locks = src.get_locked_tokens(pending_only=True)
            if locks and src.path is not None:
                self._hook("save source")
                src.save()  # every lock paid below is on the source's disk
            paid = []
            for lock in locks:
                self._hook("check")
                pay = not dst.is_imported(src.chain_id, lock.id)
                if pay:
                    self._hook("unlock")
                    dst.unlock_tokens(dst_wallet, src.chain_id, lock.id, lock.remote, lock.amount)
                paid.append(pay)
            if locks and dst.path is not None:
                self._hook("save destination")
                dst.save()  # every payment is on the destination's disk before any mark
            for lock, pay in zip(locks, paid, strict=True):
                self._hook("mark")
                src.tokens_transferred(src_wallet, lock.id)
                done.append(Transferred(src.chain_id, lock.id, pay))
        return done
