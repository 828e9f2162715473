"""The community ledger (SPEC §2): transactions, blocks, the chain and its store.

- :mod:`~gridledger.ledger.tx` — ``Create``, ``Transfer``, the auction's and ``Losses``, canonically encoded.
- :mod:`~gridledger.ledger.block` — headers and blocks, one per market period.
- :class:`Chain` — validation in one batch call per block, the Merkle log of blocks.
- :class:`ChainStore` — the chain in SQLite (WAL), verification, proofs, Parquet export.
"""

from __future__ import annotations

from gridledger.ledger.block import Block, Header, tx_ids, tx_root
from gridledger.ledger.chain import BlockReceipt, Chain
from gridledger.ledger.genesis import Consensus, DeviceEntry, Genesis, MemberEntry
from gridledger.ledger.proofs import AllocationProof, LossProof, prove_allocation, prove_loss_share
from gridledger.ledger.store import ChainStore
from gridledger.ledger.tx import (
    NEVER,
    Asset,
    Candidate,
    Create,
    Evidence,
    Losses,
    LossShare,
    Outpoint,
    Output,
    SignedTransaction,
    Transfer,
    Winner,
    decode,
)
from gridledger.ledger.verify import VerifyReport

__all__ = [
    "NEVER",
    "AllocationProof",
    "Asset",
    "Block",
    "BlockReceipt",
    "Candidate",
    "Chain",
    "ChainStore",
    "Consensus",
    "Create",
    "DeviceEntry",
    "Evidence",
    "Genesis",
    "Header",
    "LossProof",
    "LossShare",
    "Losses",
    "MemberEntry",
    "Outpoint",
    "Output",
    "SignedTransaction",
    "Transfer",
    "VerifyReport",
    "Winner",
    "decode",
    "prove_allocation",
    "prove_loss_share",
    "tx_ids",
    "tx_root",
]
