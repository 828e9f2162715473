"""Write the seed corpora of the atheris targets from real encodings (small, committed).

``fuzz/corpus/data`` holds the heads of real ENTSO-E files and is not generated. Run
again after an encoding changes: ``.venv/bin/python fuzz/make_corpus.py``.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "fuzz"), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from gridledger import keys, merkle  # noqa: E402
from powerchain_helpers import cast  # noqa: E402
from seeds import ledger_seeds  # noqa: E402

CORPUS = ROOT / "fuzz" / "corpus"


def write(target: str, items: list[bytes]) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for b in items:
        (folder / hashlib.sha1(b).hexdigest()[:16]).write_bytes(b)


def main() -> None:
    s = ledger_seeds()
    write("tx", s.txs)
    write("header", s.headers)
    write("genesis", s.geneses)
    blob, _ = s.block.tx_blob()
    write("block", [bytes([0]) + s.block.header.encode(), bytes([1]) + s.block.signature, bytes([2]) + blob])

    tree = merkle.MerkleTree([bytes([i]) * 5 for i in range(13)])
    u64 = lambda n: n.to_bytes(8, "little")  # noqa: E731
    head = [bytes([0, 0]) + u64(5), bytes([1, 0]) + u64(7), bytes([2, 0]) + u64(12)]
    write("merkle", [
        head[0] + u64(13) + tree.leaf_hash(5) + tree.root + b"".join(tree.inclusion_proof(5)),
        head[1] + u64(13) + tree.root_at(7) + tree.root + b"".join(tree.consistency_proof(7)),
        head[2] + u64(13) + tree.leaf_hash(12) + tree.root + b"".join(tree.inclusion_proof(12)),
    ])  # fmt: skip

    k = keys.SigningKey.from_seed(bytes([1]) * 32)
    msg = b"abc"
    item = k.public_key + k.sign(msg) + bytes([len(msg)]) + msg
    write(
        "keys", [bytes([0]) + k.seed(), bytes([1]) + k.public_key + k.sign(msg) + msg, bytes([2]) + item * 3]
    )

    row = np.dtype([("op", "u1"), ("side", "u1"), ("kind", "u1"), ("price", "<i8"), ("quantity", "<i8"),
                    ("owner", "<i8"), ("order_id", "<i8"), ("period", "<i8")])  # fmt: skip
    ops = np.zeros(6, row)
    ops["op"] = [0, 0, 0, 2, 3, 1]
    ops["side"] = [1, 0, 0, 0, 0, 0]
    ops["kind"] = [0, 0, 2, 0, 0, 0]
    ops["price"] = [11, 12, 20, 0, 8, 0]
    ops["quantity"] = [3, 2, 9, 1, 4, 0]
    ops["owner"] = [1, 2, 0, 0, 0, 0]
    ops["order_id"] = [0, 0, 0, 2, 2, 5]
    write("book", [bytes([0]) + ops.tobytes(), bytes([9]) + ops[:3].tobytes()])

    write("powerchain", [bytes(range(64)), bytes(range(255, 63, -1)), b"\x03" * 80])
    write("network", [bytes(48), bytes(range(48)), b"\xff" * 48])
    c = cast()
    assert c.pc.state_root()  # the cast still builds


if __name__ == "__main__":
    main()
