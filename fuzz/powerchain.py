"""Target ``powerchain``: a stream of PowerChain commands drawn by FuzzedDataProvider (any
caller, any command, amounts as strings, ints or floats, addresses as wallets, bytes or
strings). A refused command leaves state root, pending commands, blocks and time as they
were; the chain the stream leaves replays to the same state root."""

from _common import FuzzFailure, atheris, check, is_open, main, unchanged

with atheris.instrument_imports():
    from gridledger.errors import GridLedgerError
    from gridledger.powerchain import PowerChain
    from powerchain_helpers import cast

NAMES = ("A", "K", "S", "U1", "U2", "O", "P", "Q")
# command: kinds of its arguments after the caller (w wallet/address, a amount, i int, s text)
COMMANDS = {
    "add_voter": "w", "remove_voter": "w", "register_storage_unit": "ww", "remove_storage_unit": "w",
    "change_banker": "w", "change_bridge_service": "w", "set_parameter": "sa", "energy_produced": "wa",
    "energy_consumed": "wa", "report_actual_energy": "a", "mint_eeuro": "wa", "burn_eeuro": "wa",
    "unlock_eeuro": "wa", "start_consumption_session": "wa", "clear_old_sessions": "",
    "transfer_ent": "wa", "transfer_eeuro": "wa", "lock_eeuro": "a", "add_order": "saa",
    "remove_order": "i", "lock_tokens": "wa", "unlock_tokens": "iiwa", "tokens_transferred": "i",
}  # fmt: skip
ORDER = sorted(COMMANDS)


def _value(f: atheris.FuzzedDataProvider, kind: str, c: object) -> object:
    pick = f.ConsumeIntInRange(0, 3)
    if kind == "w":
        return (
            getattr(c, NAMES[f.ConsumeIntInRange(0, 7)])
            if pick < 2
            else (f.ConsumeBytes(f.ConsumeIntInRange(0, 24)) if pick == 2 else f.ConsumeUnicode(44))
        )
    if kind == "a":
        return (f.ConsumeUnicode(12), str(f.ConsumeIntInRange(0, 10**5)), f.ConsumeInt(10), f.ConsumeFloat())[
            pick
        ]
    if kind == "i":
        return f.ConsumeInt(9) if pick else f.ConsumeIntInRange(0, 10)
    return ("buy", "sell", "M", f.ConsumeUnicode(3))[pick]  # fmt: skip


def test_one(data: bytes) -> None:
    f = atheris.FuzzedDataProvider(data)
    c = cast(block_size=f.ConsumeIntInRange(1, 8))
    pc = c.pc
    for _ in range(f.ConsumeIntInRange(0, 16)):
        if f.remaining_bytes() == 0:
            break
        name = ORDER[f.ConsumeIntInRange(0, len(ORDER) - 1)]
        caller = getattr(c, NAMES[f.ConsumeIntInRange(0, 7)])
        args = [_value(f, k, c) for k in COMMANDS[name]]
        if name == "remove_voter" and args[0] is c.A and is_open("sealer-removed"):
            continue
        c.clock.advance(f.ConsumeIntInRange(0, 4000))
        before = (pc.state_root(), pc.pending, len(pc.blocks), pc.now)
        out = check(getattr(pc, name), caller, *args, known=("decimal-overflow", "int-overflow"))
        if isinstance(out, GridLedgerError):
            unchanged(before, (pc.state_root(), pc.pending, len(pc.blocks), pc.now), f"the chain ({name})")
    pc.seal()
    again = check(PowerChain.replay, pc.genesis, pc.blocks)
    if isinstance(again, GridLedgerError) or again.state_root() != pc.state_root():
        raise FuzzFailure(f"the chain does not replay to its own state root: {again}")


if __name__ == "__main__":
    main(test_one)
