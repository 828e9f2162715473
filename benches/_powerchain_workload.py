"""A seeded random PowerChain workload: N accepted commands in signed blocks.

A community of ``users`` members and ``units`` storage units (one voter, a
banker). Commands are drawn with fixed weights — production 18 %, sessions
10 %, consumption 14 %, ENT transfers 14 %, eEuro transfers 10 %, orders 16 %,
cancels 6 %, banker mint / lock / burn 6 %, reports 2 %, expiry sweeps 2 %,
votes 2 % — with random amounts; refused ones are dropped (they never reach
the chain), so the chain holds exactly N commands that replay cleanly.
"""

from __future__ import annotations

import random
from decimal import Decimal

from gridledger.errors import GridLedgerError
from gridledger.powerchain import Block, ManualClock, PowerChain, Wallet

WEIGHTS = {
    "produce": 18, "session": 10, "consume": 14, "transfer_ent": 14, "transfer_eeuro": 10,
    "order": 16, "cancel": 6, "banker": 6, "report": 2, "clear": 2, "vote": 2,
}  # fmt: skip


def build(
    n: int, *, users: int = 200, units: int = 10, seed: int = 7, block_size: int = 100
) -> tuple[bytes, list[Block]]:
    """Genesis and blocks holding exactly ``n`` accepted commands."""
    rng = random.Random(seed)
    clock = ManualClock(1_700_000_000)
    voter, banker = Wallet.named("voter"), Wallet.named("banker")
    people = [Wallet.named(f"user{i}") for i in range(users)]
    meters = [Wallet.named(f"unit{i}") for i in range(units)]
    pc = PowerChain(voter, clock=clock, block_size=block_size)
    pc.change_banker(voter, banker)
    for i, m in enumerate(meters):
        pc.register_storage_unit(voter, m, people[i])
    kinds = list(WEIGHTS)
    weights = list(WEIGHTS.values())
    orders: list[tuple[Wallet, int]] = []

    def amount(hi: int) -> Decimal:
        return Decimal(rng.randrange(1, hi * 1000)) / 1000

    done = pc.pending + len(pc.blocks) * block_size
    while done < n:
        kind = rng.choices(kinds, weights)[0]
        who, other, unit = rng.choice(people), rng.choice(people), rng.choice(meters)
        clock.advance(rng.randrange(0, 3))
        try:
            if kind == "produce":
                pc.energy_produced(unit, who, Decimal(rng.randrange(1, 5_000_000)) / 1000)
            elif kind == "session":
                pc.start_consumption_session(who, unit, amount(3))
            elif kind == "consume":
                pc.energy_consumed(unit, who, Decimal(rng.randrange(1, 3_000_000)) / 1000)
            elif kind == "transfer_ent":
                pc.transfer_ent(who, other, amount(2))
            elif kind == "transfer_eeuro":
                pc.transfer_eeuro(who, other, amount(2))
            elif kind == "order":
                side = rng.choice(("buy", "sell"))
                r = pc.add_order(who, side, Decimal(rng.randrange(50, 150)) / 1000, amount(2))
                if r.remaining:
                    orders.append((who, r.order_id))
            elif kind == "cancel" and orders:
                w, oid = orders.pop(rng.randrange(len(orders)))
                pc.remove_order(w, oid)
            elif kind == "banker":
                step = rng.randrange(3)
                if step == 0:
                    pc.mint_eeuro(banker, who, amount(20))
                elif step == 1:
                    pc.lock_eeuro(who, amount(1))
                else:
                    pc.burn_eeuro(banker, who, amount(1))
            elif kind == "report":
                info = pc.get_storage_unit_info(unit)
                pc.report_actual_energy(unit, info.energy_kwh * 1000 * Decimal("0.999"))
            elif kind == "clear":
                pc.clear_old_sessions(who)
            elif kind == "vote":
                pc.set_parameter(voter, "C", Decimal(rng.randrange(1, 100)) / 1000)
            else:
                continue
        except GridLedgerError:
            continue
        done += 1
    pc.seal()
    return pc.genesis, pc.blocks
