"""Runs one command against the state: the only way the state changes.

Before the command's handler, sessions expired at the command's time are
closed (their ENT returned); if the handler then refuses the command, that
is undone too, so a refused command leaves the state exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable

from gridledger.errors import InvalidTransactionError
from gridledger.powerchain import bridge, energy, exchange, governance, tokens
from gridledger.powerchain.codec import OPS, Op
from gridledger.powerchain.state import State

__all__ = ["HANDLERS", "execute"]

HANDLERS: dict[int, Callable[..., object]] = {
    OPS[name].code: getattr(module, name)
    for module, names in (
        (governance, ("add_voter", "remove_voter", "register_storage_unit", "remove_storage_unit",
                      "change_banker", "set_parameter", "change_bridge_service")),
        (energy, ("energy_produced", "energy_consumed", "report_actual_energy",
                  "start_consumption_session", "clear_old_sessions")),
        (tokens, ("mint_eeuro", "burn_eeuro", "unlock_eeuro",
                  "transfer_ent", "transfer_eeuro", "lock_eeuro")),
        (exchange, ("add_order", "remove_order")),
        (bridge, ("lock_tokens", "unlock_tokens", "tokens_transferred")),
    )
    for name in names
}  # fmt: skip
assert set(HANDLERS) == {o.code for o in OPS.values()}
CLEAR = OPS["clear_old_sessions"].code


def execute(s: State, op: Op, caller: bytes, now: int, args: tuple[object, ...]) -> object:
    """Run ``op`` by ``caller`` at ``now`` (seconds); returns the handler's result.

    Raises the handler's typed error, or :class:`InvalidTransactionError` for
    a time earlier than the last command's; the state is then unchanged.
    """
    if now < s.now:
        raise InvalidTransactionError(
            f"timestamp {now} is earlier than the last command's ({s.now})", "timestamp", now
        )
    closed = s.expire(now) if op.code != CLEAR else []
    try:
        result = HANDLERS[op.code](s, caller, now, *args)
    except BaseException:
        s.unexpire(closed)
        raise
    s.now = now
    s.account(caller).nonce += 1
    return result
