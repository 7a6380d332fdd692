"""gmssl 3.2.2 (pure Python), what the platform signed with before SM2 moved to C: the reference in tests.

What a unit's system built on gmssl (or any SM2 library with the default user ID) does.
"""

from __future__ import annotations

from gmssl import func as gm_func
from gmssl import sm2 as gm_sm2

from pbshare.security.crypto import algorithms as crypto

G = gm_sm2.default_ecc_table["g"]


def gm_public(private_hex: str) -> str:
    return gm_sm2.CryptSM2(public_key="", private_key=private_hex)._kg(int(private_hex, 16), G)


def gm_sign(private_hex: str, data: bytes) -> bytes:
    signer = gm_sm2.CryptSM2(public_key="", private_key=private_hex)
    signer.public_key = gm_public(private_hex)  # set on the object: the constructor's lstrip("04") eats x
    while True:
        signature = signer.sign_with_sm3(data, gm_func.random_hex(signer.para_len))
        if signature:
            return bytes.fromhex(signature)


def gm_verify(public_hex: str, data: bytes, signature: bytes) -> bool:
    checker = gm_sm2.CryptSM2(public_key="", private_key="")
    checker.public_key = crypto.sm2_public_raw(public_hex)
    return bool(checker.verify_with_sm3(signature.hex(), data))


def gm_keypair() -> crypto.KeyPair:
    """A key pair made the way the platform made them before (gmssl), including x starting with 0 or 4."""
    private_hex = gm_func.random_hex(64)
    return crypto.KeyPair(crypto.SM2_SM3, private_hex, gm_public(private_hex))
