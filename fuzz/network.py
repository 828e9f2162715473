"""Target ``network``: a NetworkConfig and Adversary drawn by FuzzedDataProvider run to a
report or are refused with a GridLedgerError when they are made or run. While KNOWN_OPEN
lists "network-config", only valid values are drawn (node indices in range, loss and
probabilities in [0, 1])."""

import math

from _common import FuzzFailure, atheris, check, is_open, main

with atheris.instrument_imports():
    from gridledger.errors import GridLedgerError
    from gridledger.network import Adversary, NetworkConfig, NetworkSim

VALID = is_open("network-config")


def _float(f: atheris.FuzzedDataProvider, lo: float, hi: float) -> float:
    if VALID:
        return f.ConsumeFloatInRange(lo, hi)
    return (f.ConsumeFloatInRange(lo, hi), f.ConsumeFloat(), math.nan)[f.ConsumeIntInRange(0, 2)]


def test_one(data: bytes) -> None:
    f = atheris.FuzzedDataProvider(data)
    nodes = f.ConsumeIntInRange(3, 5) if VALID else f.ConsumeIntInRange(-1, 5)
    periods = f.ConsumeIntInRange(1, 3) if VALID else f.ConsumeIntInRange(-2, 3)

    def node() -> int:
        return f.ConsumeIntInRange(0, max(nodes, 3) - 1) if VALID else f.ConsumeIntInRange(-2, 7)

    def span() -> int:
        return f.ConsumeIntInRange(0, periods + 1) if VALID else f.ConsumeIntInRange(-2, 6)

    lo = _float(f, 0, 500)
    config: dict[str, object] = dict(
        nodes=nodes, units=f.ConsumeIntInRange(1, 2), periods=periods,
        latency_ms=(lo, lo + _float(f, 0, 500) if VALID else _float(f, -100, 1000)),
        loss=_float(f, 0, 0.5), bid_probability=_float(f, 0, 1), seed=f.ConsumeIntInRange(0, 2**32),
        share_validation=f.ConsumeBool(),
    )  # fmt: skip
    adversary: dict[str, object] = dict(
        withhold=frozenset(node() for _ in range(f.ConsumeIntInRange(0, 2))),
        equivocate=frozenset(node() for _ in range(f.ConsumeIntInRange(0, 2))),
        private_fork=node() if f.ConsumeBool() else None, private_from=span(), private_release=span(),
        vpp_double_spend=frozenset(span() for _ in range(f.ConsumeIntInRange(0, 2))),
        partition=(frozenset(node() for _ in range(f.ConsumeIntInRange(0, 2))), span(), span())
        if f.ConsumeBool() else None,
    )  # fmt: skip
    bad = adversary["withhold"] | adversary["equivocate"] | {adversary["private_fork"]}  # type: ignore[operator]
    if VALID and len(bad) >= nodes:
        adversary.update(private_fork=None, withhold=frozenset())  # one honest
    # Built inside the check: a configuration is validated (and refused) when it is made.
    out = check(lambda: NetworkSim(NetworkConfig(**config), Adversary(**adversary)).run())  # type: ignore[arg-type]
    if not isinstance(out, GridLedgerError) and out.summary()["height"] > max(periods, 0):
        raise FuzzFailure(f"height {out.summary()['height']} after {periods} periods")


if __name__ == "__main__":
    main(test_one)
