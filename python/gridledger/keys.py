"""Ed25519 keys, signatures and batch verification (RFC 8032).

Verification rule
-----------------
gridledger verifies with RFC 8032 §5.1.7's *cofactored* equation
``[8][S]B = [8]R + [8][k]A`` and strict encodings: ``S < L``, ``A`` and ``R``
canonical (y < p), neither of small order. Under this rule single and batch
verification agree on every input: the batch equation is only a fast path,
and when a batch fails each of its items is re-checked singly. See
``docs/ed25519.md`` for why this rule and not ZIP-215 or cofactorless.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from gridledger import _core
from gridledger._buffers import BytesLike, as_bytes, ragged, rows
from gridledger.errors import InvalidArgumentError

__all__ = ["SigningKey", "verify", "verify_batch"]


class SigningKey:
    """An Ed25519 signing key.

    Build one with :meth:`generate` or :meth:`from_seed`; the secret stays in
    the Rust core (zeroised when dropped) and is never shown by ``repr``.
    """

    __slots__ = ("_key",)

    def __init__(self, seed: BytesLike) -> None:
        self._key = _core.SigningKey(as_bytes("seed", seed))

    @classmethod
    def generate(cls) -> SigningKey:
        """Return a new key from 32 bytes of the operating system's randomness."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_seed(cls, seed32: BytesLike) -> SigningKey:
        """Return the key of an RFC 8032 32-byte seed (deterministic)."""
        return cls(seed32)

    @property
    def public_key(self) -> bytes:
        """The 32-byte public key."""
        return self._key.public_key

    def seed(self) -> bytes:
        """Return the 32-byte secret seed. Handle with care."""
        return self._key.seed()

    def sign(self, msg: BytesLike) -> bytes:
        """Sign one message; returns a 64-byte signature."""
        return self._key.sign(as_bytes("msg", msg))

    def sign_many(self, msgs: Sequence[BytesLike]) -> NDArray[np.uint8]:
        """Sign many messages in one call; returns an ``(n, 64)`` uint8 array."""
        flat, offsets = ragged("msgs", msgs)
        return self._key.sign_many(flat, offsets)

    def __repr__(self) -> str:
        """Show the public key only, never the secret seed."""
        return f"SigningKey(public_key={self.public_key.hex()})"


def verify(public_key: BytesLike, msg: BytesLike, signature: BytesLike) -> bool:
    """Verify one signature; ``False`` for any invalid signature or key.

    Raises :class:`~gridledger.errors.InvalidArgumentError` only when the key
    is not 32 bytes or the signature not 64 bytes.
    """
    return _core.verify(
        as_bytes("public_key", public_key), as_bytes("msg", msg), as_bytes("signature", signature)
    )


def verify_batch(
    public_keys: Sequence[BytesLike] | NDArray[np.uint8],
    msgs: Sequence[BytesLike] | NDArray[np.uint8],
    signatures: Sequence[BytesLike] | NDArray[np.uint8],
) -> NDArray[np.bool_]:
    """Verify many signatures in one call.

    Parameters
    ----------
    public_keys
        ``n`` 32-byte keys, as a sequence of bytes or an ``(n, 32)`` uint8 array.
    msgs
        ``n`` messages, as a sequence of bytes or an ``(n, k)`` uint8 array.
    signatures
        ``n`` 64-byte signatures, as a sequence of bytes or an ``(n, 64)`` array.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool; entry ``i`` equals ``verify(public_keys[i], msgs[i],
        signatures[i])``. Large batches run on every core.
    """
    keys = rows("public_keys", public_keys, 32)
    sigs = rows("signatures", signatures, 64)
    if isinstance(msgs, np.ndarray):
        m = rows("msgs", msgs)
        flat = m.tobytes()
        offsets = np.arange(m.shape[0] + 1, dtype=np.int64) * m.shape[1]
    else:
        flat, offsets = ragged("msgs", msgs)
    n = len(offsets) - 1
    if not (len(keys) == n == len(sigs)):
        raise InvalidArgumentError(
            f"public_keys, msgs and signatures must have one length; got {len(keys)}, {n}, {len(sigs)}",
            "msgs",
            n,
        )
    return _core.verify_batch(keys, flat, offsets, sigs)
