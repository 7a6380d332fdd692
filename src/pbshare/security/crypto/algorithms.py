"""National (SM2/SM3/SM4) and international (AES-GCM/Ed25519/HMAC-SHA-256) primitives.

SM3, SM4 and AES run in OpenSSL through ``cryptography``; only SM2 comes from gmssl, which is
pure Python (fine for signatures, far too slow for bulk data: see STACK-NOTES).
Every ciphertext and signature records its algorithm, so data stays readable after a change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from gmssl import func as gm_func
from gmssl import sm2

SM4_GCM = "SM4-GCM"
AES_GCM = "AES-256-GCM"
HMAC_SM3 = "HMAC-SM3"
HMAC_SHA256 = "HMAC-SHA-256"
SM2_SM3 = "SM2-SM3"
ED25519 = "Ed25519"


class CryptoError(Exception):
    """A signature did not verify or a ciphertext did not decrypt (wrong key or tampered)."""


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(data: str) -> bytes:
    return base64.b64decode(data.encode("ascii"), validate=True)


# hashes ---------------------------------------------------------------------------------------
def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def sm3_hex(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, "sm3").digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def hmac_sm3_many(key: bytes, items: Sequence[bytes]) -> list[bytes]:
    """HMAC-SM3 of many messages under one key: the keyed state is set up once and copied per message,
    which skips the key padding and the hash lookup by name that ``hmac_sm3`` pays every call."""
    keyed = hmac.new(key, digestmod="sm3")
    out = []
    for data in items:
        h = keyed.copy()
        h.update(data)
        out.append(h.digest())
    return out


def mac(alg: str, key: bytes, data: bytes) -> bytes:
    if alg == HMAC_SM3:
        return hmac_sm3(key, data)
    if alg == HMAC_SHA256:
        return hmac_sha256(key, data)
    raise CryptoError(f"unknown MAC algorithm {alg}")


def mac_verify(alg: str, key: bytes, data: bytes, tag: bytes) -> bool:
    return hmac.compare_digest(mac(alg, key, data), tag)


# symmetric ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sealed:
    alg: str
    iv: bytes
    ct: bytes  # ciphertext followed by the 16-byte tag

    def to_text(self) -> str:
        return f"{self.alg}:{b64e(self.iv)}:{b64e(self.ct)}"

    @classmethod
    def from_text(cls, value: str) -> Sealed:
        alg, iv, ct = value.split(":", 2)
        return cls(alg, b64d(iv), b64d(ct))


def encrypt(alg: str, key: bytes, plaintext: bytes, aad: bytes | None = None) -> Sealed:
    iv = os.urandom(12)
    if alg == SM4_GCM:
        enc = Cipher(algorithms.SM4(key[:16]), modes.GCM(iv)).encryptor()
        if aad:
            enc.authenticate_additional_data(aad)
        ct = enc.update(plaintext) + enc.finalize()
        return Sealed(alg, iv, ct + enc.tag)
    if alg == AES_GCM:
        return Sealed(alg, iv, AESGCM(key[:32]).encrypt(iv, plaintext, aad))
    raise CryptoError(f"unknown cipher {alg}")


def encrypt_many(alg: str, key: bytes, plaintexts: Sequence[bytes]) -> list[Sealed]:
    """``encrypt`` of many values (no AAD), each with its own random IV as before. The block cipher
    (key schedule) is built once and the IVs are drawn in one read of the OS random source; OpenSSL
    still needs one GCM context per IV, which is the remaining per-value cost."""
    ivs = os.urandom(12 * len(plaintexts))
    if alg == SM4_GCM:
        block = algorithms.SM4(key[:16])
        out = []
        for i, plaintext in enumerate(plaintexts):
            iv = ivs[12 * i:12 * i + 12]
            enc = Cipher(block, modes.GCM(iv)).encryptor()
            ct = enc.update(plaintext) + enc.finalize()
            out.append(Sealed(alg, iv, ct + enc.tag))
        return out
    if alg == AES_GCM:
        aead = AESGCM(key[:32])
        return [Sealed(alg, ivs[12 * i:12 * i + 12], aead.encrypt(ivs[12 * i:12 * i + 12], p, None))
                for i, p in enumerate(plaintexts)]
    raise CryptoError(f"unknown cipher {alg}")


def decrypt(key: bytes, sealed: Sealed, aad: bytes | None = None) -> bytes:
    try:
        if sealed.alg == SM4_GCM:
            body, tag = sealed.ct[:-16], sealed.ct[-16:]
            dec = Cipher(algorithms.SM4(key[:16]), modes.GCM(sealed.iv, tag)).decryptor()
            if aad:
                dec.authenticate_additional_data(aad)
            return dec.update(body) + dec.finalize()
        if sealed.alg == AES_GCM:
            return AESGCM(key[:32]).decrypt(sealed.iv, sealed.ct, aad)
    except Exception as exc:  # InvalidTag and friends: never say more than "did not decrypt"
        raise CryptoError("ciphertext did not decrypt: wrong key or tampered data") from exc
    raise CryptoError(f"unknown cipher {sealed.alg}")


# asymmetric -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyPair:
    alg: str
    private_hex: str
    public_hex: str


def sm2_public_raw(public_hex: str) -> str:
    """The 128-hex x||y of an SM2 public key given raw or with the uncompressed-point prefix 04."""
    key = public_hex.strip().lower()
    if len(key) == 130 and key.startswith("04"):
        key = key[2:]
    if len(key) != 128 or any(c not in "0123456789abcdef" for c in key):
        raise CryptoError("an SM2 public key is 64 bytes x||y (128 hex), optionally prefixed by 04")
    return key


def _sm2(*, public_hex: str = "", private_hex: str = "") -> sm2.CryptSM2:
    # gmssl's constructor strips a "04" prefix with str.lstrip("04"), which also eats a leading 0 or 4
    # of x itself (1 key in 8 would then never verify); set the raw key on the object instead.
    obj = sm2.CryptSM2(public_key="", private_key=private_hex)
    if public_hex:
        obj.public_key = sm2_public_raw(public_hex)
    return obj


def sm2_generate() -> KeyPair:
    n = int(sm2.default_ecc_table["n"], 16)
    d = secrets.randbelow(n - 2) + 1
    priv = f"{d:064x}"
    pub = _sm2(private_hex=priv)._kg(d, sm2.default_ecc_table["g"])
    return KeyPair(SM2_SM3, priv, pub)


def ed25519_generate() -> KeyPair:
    from cryptography.hazmat.primitives import serialization as ser

    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption()).hex()
    pub = key.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw).hex()
    return KeyPair(ED25519, priv, pub)


def sign(alg: str, private_hex: str, data: bytes) -> bytes:
    if alg == SM2_SM3:
        signer = _sm2(private_hex=private_hex)
        # sign_with_sm3 needs the public key for the Z value; derive it from the private key
        signer.public_key = signer._kg(int(private_hex, 16), sm2.default_ecc_table["g"])
        while True:
            # gmssl returns None for the rare nonce that gives r = 0 or s = 0; draw another
            signature = signer.sign_with_sm3(data, gm_func.random_hex(signer.para_len))
            if signature:
                return bytes.fromhex(signature)
    if alg == ED25519:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex)).sign(data)
    raise CryptoError(f"unknown signature algorithm {alg}")


def verify(alg: str, public_hex: str, data: bytes, signature: bytes) -> bool:
    try:
        if alg == SM2_SM3:
            if len(signature) != 64:
                return False
            return bool(_sm2(public_hex=public_hex).verify_with_sm3(signature.hex(), data))
        if alg == ED25519:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(signature, data)
            return True
    except Exception:
        return False
    return False


# key files ------------------------------------------------------------------------------------
def read_or_create_key_file(path: Path, size: int = 32) -> bytes:
    """A random secret in a file of mode 0600, created on first use."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
