"""``PowerChain``: the token economy of SPEC §5 as one object with a method per command.

Every state-changing method takes the caller's :class:`Wallet` first: the
command is checked and run, then encoded, signed by the caller and queued
for the next block; a refused command raises a typed error and changes
nothing (not even the nonce). Reads (``get_*``, ``balance_*``) take no caller
and change nothing. Amounts are Decimals (ENT, eEuro, kWh; energy reports
in Wh); time comes from the injected clock.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

from gridledger.errors import InvalidArgumentError, NotAuthorisedError
from gridledger.powerchain import energy as _energy
from gridledger.powerchain.amounts import Amount, from_micro, to_micro, wh_to_micro_kwh
from gridledger.powerchain.blocks import Block, BlockLog, CommandProof, StateProof, replay_blocks, state_root
from gridledger.powerchain.clock import system_clock
from gridledger.powerchain.codec import OPS, Genesis, Header, encode_tx_body
from gridledger.powerchain.exchange import Placed
from gridledger.powerchain.executor import execute
from gridledger.powerchain.governance import VoteResult
from gridledger.powerchain.params import PARAMETER_CODES, Parameters, check_parameter
from gridledger.powerchain.state import Session, State, Unit
from gridledger.powerchain.views import (
    Balance,
    Consumption,
    EnergyRates,
    LockInfo,
    Mint,
    OrderInfo,
    OrderResult,
    SessionInfo,
    StorageUnitInfo,
    TradeInfo,
)
from gridledger.powerchain.wallet import Address, Wallet, address_bytes, address_str

__all__ = ["PowerChain"]

Target = Address | Wallet | bytes


def _kwh(n: int) -> Decimal:
    return from_micro(n)


class PowerChain:
    """A PowerChain instance.

    Parameters
    ----------
    deployer
        The first voter; also seals blocks unless :attr:`sealer` is changed.
    chain_id
        Distinguishes instances (commands are signed for one chain; the bridge
        keys imports by source chain).
    clock
        A callable returning whole seconds (default: the system clock). Use
        :class:`~gridledger.powerchain.clock.ManualClock` to control time.
    parameters
        The network parameters (SPEC §5 defaults).
    block_size
        Commands per block: a block is sealed when this many are pending
        (and by :meth:`seal`).
    """

    def __init__(
        self,
        deployer: Wallet,
        *,
        chain_id: int = 1,
        clock: Callable[[], int] | None = None,
        parameters: Parameters | None = None,
        block_size: int = 64,
    ) -> None:
        if not isinstance(deployer, Wallet):
            raise InvalidArgumentError("deployer must be a Wallet", "deployer", type(deployer).__name__)
        if not 0 <= chain_id < 1 << 32:
            raise InvalidArgumentError(f"chain_id = {chain_id}: must fit in 32 bits", "chain_id", chain_id)
        self._clock = clock or system_clock
        genesis = Genesis(chain_id, deployer.raw_address, self._now(), (parameters or Parameters()).micro())
        self._state = State.from_genesis(genesis)
        self._log = BlockLog(genesis)
        self._sealer: Wallet | None = deployer
        self._path: Path | None = None
        self.block_size = _block_size(block_size)

    # --- plumbing -------------------------------------------------------------

    def _now(self) -> int:
        t = self._clock()
        if isinstance(t, bool) or not isinstance(t, int) or t < 0:
            raise InvalidArgumentError(f"the clock gave {t!r}: whole seconds ≥ 0 expected", "clock", t)
        return t

    def _run(self, caller: Wallet, name: str, args: tuple[object, ...]) -> object:
        if not isinstance(caller, Wallet):
            raise InvalidArgumentError(
                "caller must be a Wallet: it signs the command", "caller", type(caller).__name__
            )
        op = OPS[name]
        now = self._now()
        s = self._state
        nonce = s.peek(caller.raw_address).nonce
        try:
            body = encode_tx_body(s.chain_id, op, now, nonce, caller.public_key, args)
        except struct.error as e:
            raise InvalidArgumentError(
                f"{name}: an argument does not fit its field ({e})", name, args
            ) from None
        # Everything that can refuse the command runs before execute() changes the state:
        # the encoding above, the handler's own checks, and whether the automatic seal
        # below can succeed (its sealer was a voter when the block began, which no
        # command of the block can change; its time is this command's).
        w = self._sealer
        seal = len(self._log.pending) + 1 >= self.block_size and w is not None and self._log.may_seal(w)
        result = execute(s, op, caller.raw_address, now, args)
        self._log.pending.append(body + caller.sign(body))
        if seal and w is not None:
            self._seal(w, now)
        return result

    def _seal(self, w: Wallet, now: int) -> Header:
        h = self._log.seal(self._state, w, now)
        if self._sealer is not None and self._sealer.raw_address not in self._state.voters:
            # The sealer was voted out in this block: it sealed this one (it was a voter when
            # the block began) and can seal no other. Sealing pauses until a voter is named.
            self._sealer = None
        return h

    @property
    def sealer(self) -> Wallet | None:
        """The voter whose wallet seals blocks (the deployer at first), or None.

        A block is sealed automatically every :attr:`block_size` commands
        while the sealer may seal it (it was a voter when the block began);
        otherwise commands wait in :attr:`pending` until :meth:`seal` is
        called with a voter's wallet. When a vote removes the sealer, it seals
        the block holding that vote, then the sealer becomes None.

        Raises
        ------
        NotAuthorisedError
            On setting a wallet that is not a voter now.
        """
        return self._sealer

    @sealer.setter
    def sealer(self, w: Wallet | None) -> None:
        if w is not None:
            if not isinstance(w, Wallet):
                raise InvalidArgumentError("sealer must be a Wallet or None", "sealer", type(w).__name__)
            if w.raw_address not in self._state.voters:
                raise NotAuthorisedError(f"{w.address} is not a voter and cannot seal", "sealer", w.address)
        self._sealer = w

    # --- voter commands ---------------------------------------------------------

    def add_voter(self, caller: Wallet, address: Target) -> VoteResult:
        """Vote to make ``address`` a voter."""
        return self._run(caller, "add_voter", (address_bytes("address", address),))  # type: ignore[return-value]

    def remove_voter(self, caller: Wallet, address: Target) -> VoteResult:
        """Vote to remove voter ``address`` (never the last one)."""
        return self._run(caller, "remove_voter", (address_bytes("address", address),))  # type: ignore[return-value]

    def register_storage_unit(self, caller: Wallet, unit: Target, owner: Target) -> VoteResult:
        """Vote to register storage unit ``unit`` (the meter's address) owned by ``owner``."""
        args = (address_bytes("unit", unit), address_bytes("owner", owner))
        return self._run(caller, "register_storage_unit", args)  # type: ignore[return-value]

    def remove_storage_unit(self, caller: Wallet, unit: Target) -> VoteResult:
        """Vote to remove an active storage unit."""
        return self._run(caller, "remove_storage_unit", (address_bytes("unit", unit),))  # type: ignore[return-value]

    def change_banker(self, caller: Wallet, address: Target) -> VoteResult:
        """Vote to make ``address`` the banker (initially nobody is)."""
        return self._run(caller, "change_banker", (address_bytes("address", address),))  # type: ignore[return-value]

    def change_bridge_service(self, caller: Wallet, address: Target) -> VoteResult:
        """Vote to make ``address`` the bridge's integration service."""
        return self._run(caller, "change_bridge_service", (address_bytes("address", address),))  # type: ignore[return-value]

    def set_parameter(self, caller: Wallet, name: str, value: Amount) -> VoteResult:
        """Vote to set parameter ``name`` (M, B, C, H, F; H in seconds) to ``value``."""
        internal = check_parameter(name, value)
        return self._run(caller, "set_parameter", (PARAMETER_CODES[name], internal))  # type: ignore[return-value]

    # --- storage unit commands ------------------------------------------------

    def energy_produced(self, caller: Wallet, producer: Target, wh: Amount) -> Mint:
        """Record that the unit ``caller`` stored ``wh`` Wh from ``producer``.

        Mints ENT to the producer and the fee F to the unit's owner.
        """
        m: _energy.Minted = self._run(  # type: ignore[assignment]
            caller, "energy_produced", (address_bytes("producer", producer), wh_to_micro_kwh("wh", wh))
        )
        return Mint(from_micro(m.producer), from_micro(m.owner_fee))

    def energy_consumed(self, caller: Wallet, consumer: Target, wh: Amount) -> Consumption:
        """Record that the unit ``caller`` delivered ``wh`` Wh to ``consumer``: burn from its sessions."""
        c: _energy.Consumed = self._run(  # type: ignore[assignment]
            caller, "energy_consumed", (address_bytes("consumer", consumer), wh_to_micro_kwh("wh", wh))
        )
        return Consumption(
            from_micro(c.burned), from_micro(c.returned), _kwh(c.from_sessions), _kwh(c.beyond_sessions)
        )

    def report_actual_energy(self, caller: Wallet, wh: Amount) -> Decimal:
        """Record that the unit ``caller`` measured ``wh`` Wh stored; returns the change in kWh."""
        delta: int = self._run(caller, "report_actual_energy", (wh_to_micro_kwh("wh", wh, allow_zero=True),))  # type: ignore[assignment]
        return _kwh(delta)

    # --- banker commands --------------------------------------------------------

    def mint_eeuro(self, caller: Wallet, to: Target, amount: Amount) -> None:
        """Create (as the banker) ``amount`` eEuro for ``to`` (real euro received off chain)."""
        self._run(caller, "mint_eeuro", (address_bytes("to", to), to_micro("amount", amount)))

    def burn_eeuro(self, caller: Wallet, owner: Target, amount: Amount) -> None:
        """Destroy (as the banker) the eEuro ``owner`` locked for withdrawal (paying real euro off chain)."""
        self._run(caller, "burn_eeuro", (address_bytes("owner", owner), to_micro("amount", amount)))

    def unlock_eeuro(self, caller: Wallet, owner: Target, amount: Amount) -> None:
        """Hand back (as the banker) the eEuro ``owner`` locked for withdrawal."""
        self._run(caller, "unlock_eeuro", (address_bytes("owner", owner), to_micro("amount", amount)))

    # --- user commands ----------------------------------------------------------

    def start_consumption_session(self, caller: Wallet, unit: Target, ent: Amount) -> SessionInfo:
        """Lock ``ent`` ENT with ``unit``; the session holds ent / (burn rate) kWh for H seconds."""
        q = self._run(
            caller, "start_consumption_session", (address_bytes("unit", unit), to_micro("ent", ent))
        )
        return _session(q)

    def clear_old_sessions(self, caller: Wallet) -> int:
        """Close every expired session (returning its ENT); returns how many."""
        return self._run(caller, "clear_old_sessions", ())  # type: ignore[return-value]

    def transfer_ent(self, caller: Wallet, to: Target, amount: Amount) -> None:
        """Send ``amount`` available ENT to ``to``."""
        self._run(caller, "transfer_ent", (address_bytes("to", to), to_micro("amount", amount)))

    def transfer_eeuro(self, caller: Wallet, to: Target, amount: Amount) -> None:
        """Send ``amount`` available eEuro to ``to``."""
        self._run(caller, "transfer_eeuro", (address_bytes("to", to), to_micro("amount", amount)))

    def lock_eeuro(self, caller: Wallet, amount: Amount) -> None:
        """Lock ``amount`` eEuro for withdrawal: the banker may then burn (pay out) or unlock it."""
        self._run(caller, "lock_eeuro", (to_micro("amount", amount),))

    def add_order(self, caller: Wallet, side: str, price: Amount, quantity: Amount) -> OrderResult:
        """Place a limit order to ``side`` ("buy"/"sell") ``quantity`` ENT at ``price`` eEuro per ENT."""
        if side not in ("buy", "sell"):
            raise InvalidArgumentError(f"side = {side!r}: 'buy' or 'sell'", "side", side)
        p: Placed = self._run(  # type: ignore[assignment]
            caller,
            "add_order",
            (0 if side == "buy" else 1, to_micro("price", price), to_micro("quantity", quantity)),
        )
        trades = tuple(
            TradeInfo(f.maker, f.taker, from_micro(f.price), from_micro(f.quantity), from_micro(f.paid))
            for f in p.fills
        )
        return OrderResult(p.order_id, trades, from_micro(p.remaining))

    def remove_order(self, caller: Wallet, order_id: int) -> Decimal:
        """Cancel one of your resting orders; its locked funds come back. Returns the ENT cancelled."""
        if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id < 0:
            raise InvalidArgumentError(f"order_id = {order_id!r}: not an order id", "order_id", order_id)
        return from_micro(self._run(caller, "remove_order", (order_id,)))  # type: ignore[arg-type]

    # --- bridge ---------------------------------------------------------------------

    def lock_tokens(self, caller: Wallet, remote_address: Target, amount: Amount) -> int:
        """Lock ``amount`` ENT for ``remote_address`` on another chain; returns the lock id."""
        args = (address_bytes("remote_address", remote_address), to_micro("amount", amount))
        return self._run(caller, "lock_tokens", args)  # type: ignore[return-value]

    def unlock_tokens(
        self, caller: Wallet, source_chain: int, lock_id: int, to: Target, amount: Amount
    ) -> Decimal:
        """Pay (as the bridge service) ``amount`` ENT to ``to`` for lock ``lock_id`` of ``source_chain``.

        Pays from escrow first, generating the rest; returns the ENT generated.
        """
        for f, v in (("source_chain", source_chain), ("lock_id", lock_id)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise InvalidArgumentError(f"{f} = {v!r}: a non-negative integer", f, v)
        args = (source_chain, lock_id, address_bytes("to", to), to_micro("amount", amount))
        return from_micro(self._run(caller, "unlock_tokens", args))  # type: ignore[arg-type]

    def tokens_transferred(self, caller: Wallet, lock_id: int) -> None:
        """(Bridge service) mark lock ``lock_id`` as delivered on the other chain."""
        if isinstance(lock_id, bool) or not isinstance(lock_id, int) or lock_id < 0:
            raise InvalidArgumentError(f"lock_id = {lock_id!r}: a non-negative integer", "lock_id", lock_id)
        self._run(caller, "tokens_transferred", (lock_id,))

    def get_locked_tokens(self, *, pending_only: bool = False) -> list[LockInfo]:
        """Every bridge lock of this chain (or only those not yet delivered)."""
        return [
            LockInfo(k.id, address_str(k.sender), address_str(k.remote), from_micro(k.amount), k.transferred)
            for k in self._state.locks.values()
            if not (pending_only and k.transferred)
        ]

    def is_imported(self, source_chain: int, lock_id: int) -> bool:
        """Whether lock ``lock_id`` of ``source_chain`` was already paid out here."""
        return (source_chain, lock_id) in self._state.imported

    @property
    def chain_id(self) -> int:
        """The chain id of the genesis record."""
        return self._state.chain_id

    # --- reads -------------------------------------------------------------------

    def get_total_energy(self) -> Decimal:
        """Return the energy stored in every storage unit (kWh)."""
        return _kwh(self._state.total_kwh)

    def get_storage_units(self) -> list[Address]:
        """Return the active storage units."""
        return [address_str(a) for a, u in self._state.units.items() if u.active]

    def get_storage_unit_energy(self, unit: Target) -> Decimal:
        """Return the energy stored in ``unit`` (kWh)."""
        return _kwh(self._unit(unit).energy)

    def get_storage_unit_info(self, unit: Target) -> StorageUnitInfo:
        """Owner, state, stored and unreserved kWh of ``unit``."""
        raw = address_bytes("unit", unit)
        u = self._unit(raw)
        return StorageUnitInfo(
            address_str(raw),
            address_str(u.owner),
            u.active,
            _kwh(u.energy),
            _kwh(max(0, u.energy - u.reserved)),
        )

    def _unit(self, unit: Target) -> Unit:
        raw = address_bytes("unit", unit)
        u = self._state.units.get(raw)
        if u is None:
            raise InvalidArgumentError(
                f"unit = {address_str(raw)}: unknown storage unit", "unit", address_str(raw)
            )
        return u

    def get_energy_rates(self) -> EnergyRates:
        """ENT minted and burned per kWh now, the imbalance D and the cost r."""
        s = self._state
        return EnergyRates(
            from_micro(_energy.mint_rate(s)),
            from_micro(_energy.burn_rate(s)),
            from_micro(s.imbalance),
            from_micro(s.r),
        )

    def get_consumption_sessions(self, address: Target) -> list[SessionInfo]:
        """Return the open sessions of ``address`` (an expired one closes at the next command)."""
        raw = address_bytes("address", address)
        return [_session(q) for q in self._state.sessions.values() if q.user == raw]

    def get_consumption_session_energy(self, address: Target, unit: Target) -> Decimal:
        """Return the energy the sessions of ``address`` with ``unit`` still hold (kWh)."""
        raw, u = address_bytes("address", address), address_bytes("unit", unit)
        return _kwh(sum(q.remaining for q in self._state.sessions.values() if q.user == raw and q.unit == u))

    def get_parameters(self) -> Parameters:
        """Return the network parameters now."""
        return Parameters.from_micro(*self._state.params)

    def get_total_ent(self) -> Decimal:
        """ENT in circulation (available and locked; not what the bridge holds)."""
        return from_micro(self._state.total_ent)

    def get_total_eeuro(self) -> Decimal:
        """Return the eEuro in existence."""
        return from_micro(self._state.total_eur)

    def balance_ent(self, address: Target) -> Balance:
        """ENT of ``address``: available, and locked (sessions, sell orders)."""
        a = self._state.peek(address_bytes("address", address))
        return Balance(from_micro(a.ent), from_micro(a.ent_locked))

    def balance_eeuro(self, address: Target) -> Balance:
        """Return the eEuro of ``address``: available, and locked (buy orders, withdrawal)."""
        a = self._state.peek(address_bytes("address", address))
        return Balance(from_micro(a.eur), from_micro(a.eur_orders + a.eur_withdraw))

    def get_orders(self) -> list[OrderInfo]:
        """Resting orders, best price then time first on each side."""
        out = []
        for oid, _owner, _side, _price, _qty in self._state.book.orders():
            o = self._state.orders[oid]
            out.append(
                OrderInfo(o.id, address_str(o.owner), ("buy", "sell")[o.side], from_micro(o.price),
                          from_micro(o.remaining), from_micro(o.locked))
            )  # fmt: skip
        return out

    @property
    def voters(self) -> list[Address]:
        """The voters' addresses, sorted."""
        return sorted(address_str(v) for v in self._state.voters)

    @property
    def banker(self) -> Address | None:
        """The banker's address, or None when there is no banker."""
        b = self._state.banker
        return address_str(b) if any(b) else None

    @property
    def now(self) -> int:
        """The time of the last command (seconds)."""
        return self._state.now

    # --- blocks -------------------------------------------------------------------

    def seal(self, sealer: Wallet | None = None) -> Header | None:
        """Seal the pending commands into a block signed by ``sealer`` (default :attr:`sealer`).

        Returns the header, or None when nothing is pending.
        """
        if not self._log.pending:
            return None
        w = sealer or self._sealer
        if w is None:
            raise NotAuthorisedError("no sealer: pass a voter's Wallet", "sealer", None)
        if not isinstance(w, Wallet):
            raise InvalidArgumentError("sealer must be a Wallet", "sealer", type(w).__name__)
        return self._seal(w, self._now())

    @property
    def blocks(self) -> list[Block]:
        """The sealed blocks."""
        return list(self._log.blocks)

    @property
    def genesis(self) -> bytes:
        """The genesis record's bytes."""
        return self._log.genesis_bytes

    @property
    def pending(self) -> int:
        """Commands waiting for the next block."""
        return len(self._log.pending)

    def state_root(self) -> bytes:
        """Return the Merkle root of the current state's records."""
        return state_root(self._state.records())

    def prove_command(self, height: int, index: int) -> CommandProof:
        """Return an inclusion proof of command ``index`` of block ``height`` under its header's root."""
        return self._log.command_proof(height, index)

    def prove_account(self, address: Target) -> StateProof | None:
        """Return a proof of ``address``'s balances in the state of the last block.

        Pending commands are sealed first; None if the address holds nothing and
        never acted.
        """
        self.seal()
        return self._log.state_proof(b"A" + address_bytes("address", address))

    def save(self, path: str | Path | None = None) -> None:
        """Seal pending commands and write the whole chain to a SQLite file.

        ``path`` defaults to the file this chain was last saved to or loaded
        from (see :attr:`path`). The file is replaced atomically (written
        under a temporary name, then renamed), so a crash leaves the old or
        the new chain, and what :meth:`save` wrote is what :meth:`load` reads.

        Raises
        ------
        InvalidArgumentError
            No ``path`` and none remembered.
        NotAuthorisedError
            Commands are pending and there is no sealer (nothing is written).
        """
        target = self._path if path is None else Path(path)
        if target is None:
            raise InvalidArgumentError("no path: this chain was never saved or loaded", "path", None)
        self.seal()
        self._log.save(target)
        self._path = target

    @property
    def path(self) -> Path | None:
        """The file this chain was last saved to or loaded from (None for an in-memory chain).

        What is in that file is durable: a process that dies loses only what
        came after the last :meth:`save`.
        """
        return self._path

    @classmethod
    def replay(
        cls,
        genesis: bytes,
        blocks: Sequence[Block],
        *,
        clock: Callable[[], int] | None = None,
        sealer: Wallet | None = None,
        block_size: int = 64,
    ) -> PowerChain:
        """Rebuild a PowerChain from its genesis and blocks, checking every signature, rule and root."""
        state, log = replay_blocks(genesis, blocks)
        pc = cls.__new__(cls)
        pc._clock = clock or system_clock
        pc._state = state
        pc._log = log
        pc._sealer = None
        pc._path = None
        pc.sealer = sealer
        pc.block_size = _block_size(block_size)
        return pc

    @classmethod
    def load(cls, path: str | Path, **kwargs: object) -> PowerChain:
        """Read a chain written by :meth:`save` and rebuild it by replay (see :meth:`replay`)."""
        genesis, blocks = BlockLog.read(path)
        pc = cls.replay(genesis, blocks, **kwargs)  # type: ignore[arg-type]
        pc._path = Path(path)
        return pc


def _block_size(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgumentError(f"block_size = {n!r}: must be ≥ 1", "block_size", n)
    return n


def _session(q: object) -> SessionInfo:
    assert isinstance(q, Session)
    return SessionInfo(
        q.id,
        address_str(q.user),
        address_str(q.unit),
        Decimal(q.remaining).scaleb(-3),
        from_micro(q.locked),
        q.expires_at,
    )
