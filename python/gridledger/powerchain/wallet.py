"""PowerChain accounts: an Ed25519 key and the address derived from it.

An address is the first 20 bytes of BLAKE3(public key), written ``0x`` and
40 hex digits (the shape of an Ethereum address, as in seed 004). Every
command carries the caller's public key and signature; the chain derives the
address from the key, so nobody can act for an address without its key.
"""

from __future__ import annotations

from gridledger import hashing
from gridledger.errors import InvalidArgumentError
from gridledger.keys import SigningKey

__all__ = ["ZERO_ADDRESS", "Address", "Wallet", "address_bytes", "address_of", "address_str"]

Address = str
ZERO_ADDRESS = "0x" + "00" * 20


def address_of(public_key: bytes) -> bytes:
    """Return the 20-byte address of a 32-byte Ed25519 public key."""
    return hashing.blake3(public_key)[:20]


def address_str(raw: bytes) -> Address:
    """``0x``-prefixed lowercase hex of a 20-byte address."""
    return "0x" + raw.hex()


def address_bytes(field: str, address: Address | Wallet | bytes) -> bytes:
    """Return the 20 raw bytes of an address given as ``0x…`` text, a :class:`Wallet` or bytes."""
    if isinstance(address, Wallet):
        return address.raw_address
    if isinstance(address, bytes):
        if len(address) != 20:
            raise InvalidArgumentError(f"{field}: an address is 20 bytes, got {len(address)}", field, address)
        return address
    if isinstance(address, str):
        text = address[2:] if address.startswith("0x") else address
        if len(text) == 40:
            try:
                return bytes.fromhex(text)
            except ValueError:
                pass
    raise InvalidArgumentError(
        f"{field} = {address!r}: not an address (0x and 40 hex digits)", field, address
    )


class Wallet:
    """A PowerChain account: signs the commands of one address.

    >>> a = Wallet.from_seed(b"A" * 32)
    >>> a.address
    '0x...'
    """

    __slots__ = ("_key", "public_key", "raw_address")

    def __init__(self, key: SigningKey) -> None:
        self._key = key
        self.public_key: bytes = key.public_key
        self.raw_address: bytes = address_of(self.public_key)

    @classmethod
    def generate(cls) -> Wallet:
        """Return a wallet with a fresh random key."""
        return cls(SigningKey.generate())

    @classmethod
    def from_seed(cls, seed32: bytes) -> Wallet:
        """Return the wallet of a 32-byte seed (deterministic)."""
        return cls(SigningKey.from_seed(seed32))

    @classmethod
    def named(cls, name: str) -> Wallet:
        """Return a deterministic wallet for examples and tests: the seed is BLAKE3(name)."""
        return cls(SigningKey.from_seed(hashing.blake3(b"gridledger.powerchain.wallet:" + name.encode())))

    @property
    def address(self) -> Address:
        """The wallet's address, ``0x`` and 40 hex digits."""
        return address_str(self.raw_address)

    def sign(self, msg: bytes) -> bytes:
        """Return a 64-byte Ed25519 signature of ``msg``."""
        return self._key.sign(msg)

    def __repr__(self) -> str:
        """Show the address only, never the key."""
        return f"Wallet({self.address})"
