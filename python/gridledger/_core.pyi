"""Stub of the native module ``gridledger._core`` (Rust, PyO3).

Arguments are checked in the core; failures raise the classes of
``gridledger.errors`` naming the field and value.
"""

from typing import Any, final

import numpy as np
from numpy.typing import NDArray

from gridledger._shapes import BlockCheck, DecodedGenesis, DecodedHeader, DecodedTx, MemberStats

__all__ = [
    "ChainState",
    "KeyRing",
    "MerkleTree",
    "OrderBook",
    "PobParent",
    "SigningKey",
    "__version__",
    "bidding_trajectory",
    "decode_genesis",
    "decode_header",
    "decode_tx",
    "draw_winner",
    "encode_auction_tx",
    "encode_candidates",
    "encode_create",
    "encode_creates",
    "encode_genesis",
    "encode_header",
    "encode_losses",
    "encode_transfer",
    "encode_transfers",
    "ev_choose",
    "ev_simulate",
    "grid_powerflow",
    "gunzip",
    "hash_one",
    "hash_ragged",
    "hash_rows",
    "leaf_hash",
    "parse_table",
    "resample_series",
    "scan_txs",
    "series_runs",
    "simulate_bidding",
    "tx_proof",
    "tx_root",
    "verify",
    "verify_batch",
    "verify_consistency",
    "verify_inclusion",
    "verify_inclusion_batch",
    "wide_to_long",
    "win_probabilities",
]
__version__: str

def hash_one(data: bytes, algorithm: str = "blake3") -> bytes: ...
def hash_rows(records: NDArray[np.uint8], algorithm: str = "blake3") -> NDArray[np.uint8]: ...
def hash_ragged(data: bytes, offsets_: NDArray[np.int64], algorithm: str = "blake3") -> NDArray[np.uint8]: ...

@final
class MerkleTree:
    def __new__(cls, algorithm: str = "sha256") -> MerkleTree: ...
    @staticmethod
    def from_rows(records: NDArray[np.uint8], algorithm: str = "sha256") -> MerkleTree: ...
    @staticmethod
    def from_ragged(data: bytes, offsets_: NDArray[np.int64], algorithm: str = "sha256") -> MerkleTree: ...
    @staticmethod
    def from_leaf_hashes(leaf_hashes: NDArray[np.uint8], algorithm: str = "sha256") -> MerkleTree: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    def root(self) -> bytes: ...
    def root_at(self, size: int) -> bytes: ...
    def leaf_hash(self, index: int) -> bytes: ...
    def append(self, data: bytes) -> int: ...
    def append_leaf_hash(self, leaf_hash: bytes) -> int: ...
    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]: ...
    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]: ...
    def inclusion_proofs(
        self, indices: NDArray[np.uint64], size: int | None = None
    ) -> tuple[NDArray[np.uint8], NDArray[np.int64]]: ...
    def __len__(self) -> int: ...

def leaf_hash(data: bytes, algorithm: str = "sha256") -> bytes: ...
def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    size: int,
    proof: list[bytes],
    root: bytes,
    algorithm: str = "sha256",
) -> bool: ...
def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: list[bytes],
    algorithm: str = "sha256",
) -> bool: ...
def verify_inclusion_batch(
    leaf_hashes: NDArray[np.uint8],
    indices: NDArray[np.uint64],
    size: int,
    proof_hashes: NDArray[np.uint8],
    proof_offsets: NDArray[np.int64],
    root: bytes,
    algorithm: str = "sha256",
) -> NDArray[np.bool_]: ...

@final
class SigningKey:
    def __new__(cls, seed: bytes) -> SigningKey: ...
    @property
    def public_key(self) -> bytes: ...
    def seed(self) -> bytes: ...
    def sign(self, message: bytes) -> bytes: ...
    def sign_many(self, data: bytes, message_offsets: NDArray[np.int64]) -> NDArray[np.uint8]: ...

def verify(public_key: bytes, message: bytes, signature: bytes) -> bool: ...
def verify_batch(
    public_keys: NDArray[np.uint8],
    messages: bytes,
    message_offsets: NDArray[np.int64],
    signatures: NDArray[np.uint8],
) -> NDArray[np.bool_]: ...

# Data: gunzip, the CSV body parser and the resampler (rust/src/data/, py/data/).
def gunzip(data: bytes, *, source: str) -> bytes:
    """Return a whole gzip file (every member) inflated by libdeflate.

    Memory follows the content: a size stated by the trailer is believed only up to 1032
    bytes per compressed byte. Raises BadDataError naming ``source`` for data that is not
    gzip, is corrupt or truncated, or inflates to more than 2 GiB.
    """

def parse_table(
    body: bytes,
    *,
    source: str,
    first_line: int,
    columns: list[str],
    time_column: int,
    time_format: str,
    value_columns: list[int],
    skip: int = 0,
) -> tuple[NDArray[np.int64], NDArray[np.float64], bool, bool]:
    """Parse a CSV body into its time column and value columns.

    Returns (time µs, values (len(value_columns), rows) with NaN missing, some
    value negative, time strictly increasing); raises BadDataError.
    """

def wide_to_long(
    time_us: NDArray[np.int64],
    values: NDArray[np.float64],
    order: list[int],
    *,
    trim: bool,
    keep: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Columns ``order`` of a (columns, rows) table as concatenated series: (time µs, values, lengths)."""

def series_runs(
    area: list[NDArray[np.uint32]], quantity: list[NDArray[np.uint32]], time_us: NDArray[np.int64]
) -> tuple[NDArray[np.int64], bool]:
    """Find the runs of equal (area, quantity) codes of a long frame.

    Returns (row where each run starts, time strictly increasing in every run);
    the codes as the chunks of their columns.
    """

def resample_series(
    time_us: NDArray[np.int64],
    values: NDArray[np.float64],
    offsets_: NDArray[np.int64],
    labels: list[str],
    *,
    target_min: int | None = None,
    method: str = "step",
    fill_limit_min: int | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], bool]:
    """(time µs, values, offsets, native minutes per series, changed)."""

# Ledger (rust/src/ledger/, py/ledger/): canonical encodings, key ring, chain state.
def encode_create(
    chain_tag: bytes, period: int, device: bytes, seq: int, v_wh: int, votes: int, vote_expires: int
) -> bytes:
    """Return the canonical body of a Create."""

def encode_creates(
    chain_tag: bytes,
    period: int,
    devices: NDArray[np.uint8],
    seqs: NDArray[np.uint64],
    v_wh: NDArray[np.int64],
    votes: NDArray[np.int64],
    vote_expires: int,
) -> tuple[bytes, NDArray[np.int64]]:
    """Many Create bodies: (concatenated bodies, offsets)."""

def encode_transfer(
    chain_tag: bytes,
    period: int,
    signers: NDArray[np.uint8],
    input_txids: NDArray[np.uint8],
    input_index: NDArray[np.int64],
    owners: NDArray[np.uint8],
    assets: NDArray[np.uint8],
    amounts: NDArray[np.int64],
    expires: NDArray[np.uint64],
) -> bytes:
    """Return the canonical body of a Transfer."""

def encode_auction_tx(
    kind: str,
    chain_tag: bytes,
    period: int,
    signer: bytes,
    input_txids: NDArray[np.uint8],
    input_index: NDArray[np.int64],
    owners: NDArray[np.uint8],
    assets: NDArray[np.uint8],
    amounts: NDArray[np.int64],
    expires: NDArray[np.uint64],
    sent_ms: int = 0,
    winner: bytes | None = None,
    evidence: tuple[bytes, bytes, bytes, bytes] | None = None,
) -> bytes:
    """Return the canonical body of a Candidate, Winner or Evidence."""

def encode_transfers(
    chain_tag: bytes,
    period: int,
    signer_offsets: NDArray[np.int64],
    signers: NDArray[np.uint8],
    input_offsets: NDArray[np.int64],
    input_txids: NDArray[np.uint8],
    input_index: NDArray[np.int64],
    output_offsets: NDArray[np.int64],
    owners: NDArray[np.uint8],
    assets: NDArray[np.uint8],
    amounts: NDArray[np.int64],
    expires: NDArray[np.uint64],
) -> tuple[bytes, NDArray[np.int64]]:
    """Many Transfer bodies, rows as CSR columns: (concatenated bodies, offsets)."""

def encode_candidates(
    chain_tag: bytes,
    period: int,
    candidates: NDArray[np.uint8],
    sent_ms: NDArray[np.int64],
    input_offsets: NDArray[np.int64],
    input_txids: NDArray[np.uint8],
    input_index: NDArray[np.int64],
    output_offsets: NDArray[np.int64],
    owners: NDArray[np.uint8],
    assets: NDArray[np.uint8],
    amounts: NDArray[np.int64],
    expires: NDArray[np.uint64],
) -> tuple[bytes, NDArray[np.int64]]:
    """Many Candidate bodies, rows as CSR columns: (concatenated bodies, offsets)."""

def scan_txs(
    data: bytes, offsets_: NDArray[np.int64], algorithm: str = "blake3"
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], bytes | None]:
    """Whole transactions in one pass: (ids (n, 32), kind codes, last non-zero Winner's winner)."""

def encode_losses(
    chain_tag: bytes,
    period: int,
    vpp: bytes,
    total_wh: int,
    members: NDArray[np.uint8],
    loss_wh: NDArray[np.int64],
) -> bytes:
    """Return the body of a Losses record: ``(n, 32)`` member keys and their ``(n,)`` Wh."""

def decode_tx(data: bytes) -> DecodedTx:
    """Return the fields of a whole transaction; raises InvalidTransactionError."""

def encode_header(
    chain_id: bytes,
    height: int,
    period: int,
    prev_hash: bytes,
    tx_root: bytes,
    n_tx: int,
    miner: bytes,
    next_winner: bytes,
    timestamp_ms: int,
) -> bytes:
    """Return the canonical 193-byte header."""

def decode_header(data: bytes) -> DecodedHeader:
    """Return the fields of a header; raises InvalidBlockError."""

def tx_root(ids: NDArray[np.uint8], algorithm: str = "blake3") -> bytes:
    """RFC 6962 root over (n, 32) transaction ids."""

def tx_proof(ids: NDArray[np.uint8], index: int, algorithm: str = "blake3") -> list[bytes]:
    """Inclusion proof of id ``index`` among (n, 32) ids."""

def encode_genesis(
    algorithm: str,
    period_s: int,
    first_period: int,
    vote_validity: int,
    vpp: bytes,
    members: list[tuple[bytes, str]],
    devices: list[tuple[bytes, int, int, str]],
    name: str,
    consensus: tuple[int, int, int, int, int, int, int, int, int, int],
) -> bytes:
    """Return the canonical genesis record; raises BadConfigurationError."""

def decode_genesis(data: bytes) -> DecodedGenesis:
    """Return the fields of a genesis record and its chain id."""

@final
class KeyRing:
    def __new__(cls, seeds: bytes) -> KeyRing: ...
    def __len__(self) -> int: ...
    def public_keys(self) -> NDArray[np.uint8]: ...
    def sign_bodies(
        self,
        key_index: NDArray[np.int64],
        data: bytes,
        offsets_: NDArray[np.int64],
        algorithm: str = "blake3",
    ) -> tuple[NDArray[np.uint8], bytes, NDArray[np.int64]]: ...
    def sign_ids(self, key_index: NDArray[np.int64], messages: NDArray[np.uint8]) -> NDArray[np.uint8]: ...

@final
class ChainState:
    def __new__(cls, genesis: bytes, bounded: bool = True) -> ChainState: ...
    @property
    def genesis(self) -> bytes: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def chain_id(self) -> bytes: ...
    @property
    def chain_tag(self) -> bytes: ...
    @property
    def height(self) -> int: ...
    @property
    def period(self) -> int: ...
    @property
    def tip_hash(self) -> bytes: ...
    @property
    def tip_header(self) -> bytes: ...
    @property
    def next_miner(self) -> bytes: ...
    @property
    def n_tx(self) -> int: ...
    @property
    def n_utxo(self) -> int: ...
    @property
    def n_ids(self) -> int: ...
    @property
    def log_size(self) -> int: ...
    def keys(self, start: int = 0) -> NDArray[np.uint8]: ...
    def device_seq(self) -> NDArray[np.uint64]: ...
    def balance(self, key_: bytes, period: int) -> tuple[int, int]: ...
    def output(self, txid: bytes, index: int) -> tuple[bytes, int, int, int] | None: ...
    def check(
        self, header: bytes, signature: bytes, txs: bytes, offsets_: NDArray[np.int64]
    ) -> BlockCheck: ...
    def commit(self, block_hash: bytes) -> None: ...
    def append(
        self, header: bytes, signature: bytes, txs: bytes, offsets_: NDArray[np.int64]
    ) -> BlockCheck: ...
    def log_root(self, size: int | None = None) -> bytes: ...
    def unspent(self, key_: bytes) -> list[tuple[bytes, int, int, int, int]]: ...
    def copy(self) -> ChainState: ...
    def producers(self) -> NDArray[np.uint8]: ...
    def member_stats(self) -> MemberStats: ...
    def auction(
        self, candidates: NDArray[np.uint8], tokens: NDArray[np.uint64]
    ) -> tuple[bytes | None, NDArray[np.float64]]: ...
    def no_candidate_winner(self) -> bytes | None: ...
    def block_proof(self, height: int, size: int | None = None) -> list[bytes]: ...
    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]: ...

# Consensus (rust/src/consensus/draw.rs, bidding.rs): the auction draw and the bidding game.
def draw_winner(
    weights_: NDArray[np.float64],
    seed_hash: bytes,
    period: int,
    public_keys: NDArray[np.uint8],
    rule: str = "argmax_w_over_u",
    algorithm: str = "blake3",
) -> int:
    """Index of the auction's winner; U from H(seed_hash ‖ period ‖ key)."""

def win_probabilities(weights_: NDArray[np.float64], rule: str = "argmax_w_over_u") -> NDArray[np.float64]:
    """Each candidate's exact probability of winning."""

def simulate_bidding(
    scenario_: str,
    turns: int,
    seeds: NDArray[np.uint64],
    rule: str = "argmax_w_over_u",
    alpha: float = 0.3,
    beta: float = 0.6,
    gamma: float = 0.1,
    candidates: int = 4,
    start: int = 100,
    miner_rule: str = "previous_winner",
) -> dict[str, NDArray[Any]]:
    """wins, zero_turn, tokens (seeds, candidates) and gini (seeds,)."""

def bidding_trajectory(
    scenario_: str,
    turns: int,
    seed: int,
    rule: str = "argmax_w_over_u",
    alpha: float = 0.3,
    beta: float = 0.6,
    gamma: float = 0.1,
    candidates: int = 4,
    start: int = 100,
    miner_rule: str = "previous_winner",
) -> NDArray[np.int64]:
    """Tokens after each turn: (turns + 1, candidates)."""

# Markets (rust/src/market/book.rs): the continuous double auction order book.
@final
class OrderBook:
    def __new__(
        cls,
        price_rule: str = "resting",
        self_trade: str = "allow",
        min_price: int = 1,
        max_price: int = 1 << 40,
        check_owner: bool = True,
    ) -> OrderBook: ...
    def submit(
        self, side_: str, price: int, quantity: int, owner: int, kind_: str = "limit", period: int = 0
    ) -> tuple[int, list[tuple[int, int, int, int, int, int, int]], int]: ...
    def cancel(self, order_id: int, owner: int | None = None) -> int: ...
    def reduce(self, order_id: int, new_quantity: int) -> None: ...
    def replace(
        self, order_id: int, price: int, quantity: int
    ) -> tuple[int, list[tuple[int, int, int, int, int, int, int]], int]: ...
    def expire(self, before_period: int) -> list[tuple[int, int]]: ...
    def depth(self, levels: int = 10) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]: ...
    def orders(self) -> list[tuple[int, int, str, int, int]]: ...
    def __len__(self) -> int: ...
    @property
    def best_bid(self) -> int | None: ...
    @property
    def best_ask(self) -> int | None: ...
    @property
    def nbytes(self) -> int: ...
    def replay(
        self,
        op: NDArray[np.uint8],
        side_: NDArray[np.uint8],
        kind_: NDArray[np.uint8],
        price: NDArray[np.int64],
        quantity: NDArray[np.int64],
        owner: NDArray[np.int64],
        order_id: NDArray[np.int64],
        period: NDArray[np.int64],
    ) -> dict[str, NDArray[Any]]: ...
    def replay_records(
        self, data: NDArray[np.uint8], n: int, itemsize: int, offsets: NDArray[np.int64]
    ) -> dict[str, NDArray[Any]]: ...

def ev_choose(
    scheduler: str,
    weights: NDArray[np.int64],
    k: int,
    b: int,
    lo: int,
    hi: int,
) -> tuple[NDArray[np.bool_], int, bool]:
    """One round's choice: execute flags minimising |k·Σ − b| with Σ in [lo, hi], Σ, proven."""

def ev_simulate(
    scheduler: str,
    published: NDArray[np.int64],
    grid_wh: NDArray[np.int64],
    base_wh: NDArray[np.int64],
    theta_prev: int,
    slopes: NDArray[np.int64],
    cap_wh: int,
    max_defer: int,
    window: int,
    round_minutes: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.uint64], NDArray[np.uint32], int]:
    """Competing miners ("a,b,…") round by round, highest λ wins.

    Returns (executed round or −1, Θ Wh, λ, winning miner, rounds not proven optimal).
    """

# Grid (rust/src/grid/sweep.rs, py/grid/): the batched radial power flow.

def grid_powerflow(
    parent: NDArray[np.int64],
    line_bus: NDArray[np.int64],
    r_pu: NDArray[np.float64],
    x_pu: NDArray[np.float64],
    b_pu: NDArray[np.float64],
    trafo: tuple[float, float, float, float, float, float],
    v_src: float,
    shift_deg: float,
    s_base_va: float,
    i_base_a: float,
    p_w: NDArray[np.float64],
    q_var: NDArray[np.float64],
    tol_pu: float,
    max_iter: int,
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.bool_],
    NDArray[np.int64],
]:
    """Solve every period's power flow (rust/src/grid/sweep.rs); unconverged rows are NaN.

    Returns (vm_pu, va_deg, i_line_a, line_loss_w, p_hv_w, q_hv_var, s_hv_va, trafo_loss_w,
    converged, iterations).
    """

@final
class PobParent:
    """The parent state of PoB blocks, checked once: pool, executed flags, Θ window, parameters."""

    def __new__(
        cls,
        published: NDArray[np.int64],
        grid_wh: NDArray[np.int64],
        *,
        cap_wh: int,
        max_defer: int,
        window: int,
        round_minutes: int,
        executed: NDArray[np.bool_] | None = None,
        theta_prev: int = 0,
        slopes: NDArray[np.int64] | None = None,
    ) -> PobParent: ...
    @property
    def theta_prev(self) -> int: ...
    @property
    def executed(self) -> NDArray[np.bool_]: ...
    def __len__(self) -> int: ...
    def validate_chain(
        self,
        rounds: NDArray[np.int64],
        base_wh: NDArray[np.int64],
        offsets: NDArray[np.int64],
        indices: NDArray[np.int64],
        lambdas: NDArray[np.uint64],
    ) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
        """Validate consecutive PoB blocks, all or nothing: (λ, Θ) per block."""

    def evaluate(
        self,
        rounds: NDArray[np.int64],
        base_wh: NDArray[np.int64],
        offsets: NDArray[np.int64],
        indices: NDArray[np.int64],
    ) -> tuple[NDArray[np.uint64], NDArray[np.int64], NDArray[np.bool_]]:
        """Evaluate competing PoB blocks on this state: (λ, Θ, valid) per block."""

    def extend(
        self, round: int, base_wh: int, indices: NDArray[np.int64], lambda_: int
    ) -> tuple[int, int, PobParent]:
        """Validate one block: (λ, Θ, the state after it)."""
