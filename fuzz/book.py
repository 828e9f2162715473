"""Target ``book``: ``OrderBook.replay`` on raw operation rows. Layout::

    flags u8 | rows of op u8, side u8, kind u8, price, quantity, owner, order_id, period (i64 LE)

flags: bit 0 midpoint pricing, bits 1-2 the self-trade rule, bit 3 a polars frame (else a
structured array). A rejected replay leaves the book (orders, depth, best prices) as it was.
While KNOWN_OPEN lists the book's bugs, codes stay in range and quantities below 2^40."""

from _common import FuzzFailure, atheris, check, is_open, main, unchanged

with atheris.instrument_imports():
    import numpy as np
    import polars as pl
    from gridledger.errors import GridLedgerError
    from gridledger.market import OrderBook

ROW = np.dtype([("op", "u1"), ("side", "u1"), ("kind", "u1"), ("price", "<i8"), ("quantity", "<i8"),
                ("owner", "<i8"), ("order_id", "<i8"), ("period", "<i8")])  # fmt: skip
SMALL, NARROW = is_open("book-overflow"), is_open("book-narrowing")


def _state(b: OrderBook) -> tuple[object, ...]:
    return (len(b), b.best_bid, b.best_ask, b.orders(), b.depth(50).rows())


def test_one(data: bytes) -> None:
    if not data:
        return
    flags, body = data[0], data[1:]
    rows = np.frombuffer(body[: len(body) // ROW.itemsize * ROW.itemsize], ROW).copy()
    if NARROW:
        rows["op"] %= 4
        rows["side"] %= 2
        rows["kind"] %= 3
    if SMALL:
        rows["quantity"] %= 1 << 40
        rows["price"] %= 1 << 41
    rule = ("resting", "midpoint")[flags & 1]
    self_trade = ("allow", "cancel_resting", "reject", "allow")[(flags >> 1) & 3]
    book = OrderBook(rule, self_trade)
    for i, (side, price, qty) in enumerate([("buy", 10, 5), ("buy", 9, 7), ("sell", 12, 4), ("sell", 15, 9)]):
        book.submit(side, price, qty, owner=i % 3)
    before = _state(book)
    ops = pl.DataFrame({c: rows[c] for c in ROW.names}) if flags & 8 else rows
    out = check(book.replay, ops)
    if isinstance(out, GridLedgerError):
        unchanged(before, _state(book), "the book")
        return
    after = check(_state, book)
    if isinstance(after, GridLedgerError) or any(q <= 0 for *_, q in book.orders()):
        raise FuzzFailure(f"the book is broken after an accepted replay: {after}")


if __name__ == "__main__":
    main(test_one)
