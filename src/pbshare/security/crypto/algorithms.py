"""National (SM2/SM3/SM4) and international (AES-GCM/Ed25519/HMAC-SHA-256) primitives.

SM3, SM4 and AES run in OpenSSL through ``cryptography``; SM2 signatures run in C through gmssl-pyx
(GmSSL 3), about 0.3 ms to sign and 0.6 ms to verify where the pure-Python gmssl took 5 and 8 ms.
Keys and signatures keep gmssl's formats, so nothing stored or registered changes: a private key is
64 hex, a public key 128 hex x||y (04 prefix optional), a signature the 64 bytes r||s over
SM3(Z || message) with Z for the default user ID ``1234567812345678`` (GB/T 32918.2, GM/T 0009).
Every ciphertext and signature records its algorithm, so data stays readable after a change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import gmssl_pyx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SM4_GCM = "SM4-GCM"
SM4_CTR_HMAC = "SM4-CTR-HMAC-SM3"  # encrypt-then-MAC: SM4-CTR, then a 16-byte HMAC-SM3 tag (bulk sealing)
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
    if alg == SM4_CTR_HMAC:
        if aad:
            raise CryptoError(f"{SM4_CTR_HMAC} takes no additional data")
        return _ctr_hmac_encrypt(key, plaintext)
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
    (key schedule) is built once and the IVs are drawn in one read of the OS random source."""
    return [Sealed.from_text(t) for t in encrypt_many_text(alg, key, plaintexts)]


def encrypt_many_text(alg: str, key: bytes, plaintexts: Sequence[bytes]) -> list[str]:
    """``encrypt(...).to_text()`` of many values, each with its own random IV. SM4-GCM needs one OpenSSL
    context per IV (its setup is half the cost of a value); SM4-CTR-HMAC-SM3 reuses one CTR context
    (``reset_nonce``) and one keyed HMAC state, a third cheaper a value, which is why bulk sealing uses it."""
    ivs = os.urandom(12 * len(plaintexts))
    out = []
    if alg == SM4_CTR_HMAC:
        enc_key, mac_key = _ctr_hmac_keys(key)
        ctr = Cipher(algorithms.SM4(enc_key), modes.CTR(_COUNTER0)).encryptor()
        keyed = hmac.new(mac_key, _CTR_HMAC_TAG_PREFIX, "sm3")
        prefix = alg + ":"
        for i, plaintext in enumerate(plaintexts):
            iv = ivs[12 * i:12 * i + 12]
            ctr.reset_nonce(iv + _COUNTER0[:4])
            ct = ctr.update(plaintext)
            mac = keyed.copy()
            mac.update(iv)
            mac.update(ct)
            out.append(f"{prefix}{b64e(iv)}:{b64e(ct + mac.digest()[:16])}")
        return out
    if alg == SM4_GCM:
        block = algorithms.SM4(key[:16])
        for i, plaintext in enumerate(plaintexts):
            iv = ivs[12 * i:12 * i + 12]
            enc = Cipher(block, modes.GCM(iv)).encryptor()
            ct = enc.update(plaintext) + enc.finalize()
            out.append(Sealed(alg, iv, ct + enc.tag).to_text())
        return out
    if alg == AES_GCM:
        aead = AESGCM(key[:32])
        return [Sealed(alg, ivs[12 * i:12 * i + 12], aead.encrypt(ivs[12 * i:12 * i + 12], p, None)).to_text()
                for i, p in enumerate(plaintexts)]
    raise CryptoError(f"unknown cipher {alg}")


# SM4-CTR-HMAC-SM3: the 32-byte key's first half encrypts (SM4-CTR, counter block = 12-byte IV || 0^32), its
# second half keys HMAC-SM3 over the algorithm's name, the IV and the ciphertext; the tag is the MAC's first 16
# bytes (as long as GCM's). The MAC is checked before anything is decrypted.
_COUNTER0 = bytes(16)
_CTR_HMAC_TAG_PREFIX = SM4_CTR_HMAC.encode("ascii")


def _ctr_hmac_keys(key: bytes) -> tuple[bytes, bytes]:
    if len(key) < 32:
        raise CryptoError(f"{SM4_CTR_HMAC} needs a 32-byte key: 16 to encrypt, 16 for the MAC")
    return key[:16], key[16:32]


def _ctr_hmac_encrypt(key: bytes, plaintext: bytes) -> Sealed:
    text = encrypt_many_text(SM4_CTR_HMAC, key, [plaintext])[0]
    return Sealed.from_text(text)


def _ctr_hmac_decrypt(key: bytes, sealed: Sealed) -> bytes:
    enc_key, mac_key = _ctr_hmac_keys(key)
    if len(sealed.iv) != 12 or len(sealed.ct) < 16:
        raise CryptoError("ciphertext did not decrypt: wrong key or tampered data")
    body, tag = sealed.ct[:-16], sealed.ct[-16:]
    expected = hmac.new(mac_key, _CTR_HMAC_TAG_PREFIX + sealed.iv + body, "sm3").digest()[:16]
    if not hmac.compare_digest(expected, tag):
        raise CryptoError("ciphertext did not decrypt: wrong key or tampered data")
    dec = Cipher(algorithms.SM4(enc_key), modes.CTR(sealed.iv + _COUNTER0[:4])).decryptor()
    return dec.update(body) + dec.finalize()


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
        if sealed.alg == SM4_CTR_HMAC:
            if aad:
                raise CryptoError(f"{SM4_CTR_HMAC} takes no additional data")
            return _ctr_hmac_decrypt(key, sealed)
    except Exception as exc:  # InvalidTag and friends: never say more than "did not decrypt"
        raise CryptoError("ciphertext did not decrypt: wrong key or tampered data") from exc
    raise CryptoError(f"unknown cipher {sealed.alg}")


# asymmetric -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyPair:
    alg: str
    private_hex: str
    public_hex: str


# SM2 curve (GB/T 32918.5): y^2 = x^3 + ax + b over p, base point G of order n.
_SM2_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
_SM2_A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
_SM2_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
_SM2_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
_SM2_GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
_SM2_GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
SM2_USER_ID = b"1234567812345678"
# Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA): everything but the signer's key, computed once.
_SM2_Z_PREFIX = (len(SM2_USER_ID) * 8).to_bytes(2, "big") + SM2_USER_ID + b"".join(
    v.to_bytes(32, "big") for v in (_SM2_A, _SM2_B, _SM2_GX, _SM2_GY))


def sm2_public_raw(public_hex: str) -> str:
    """The 128-hex x||y of an SM2 public key given raw or with the uncompressed-point prefix 04; the point
    must lie on the SM2 curve (a mistyped key is refused when it is registered, not at the first call)."""
    key = public_hex.strip().lower()
    if len(key) == 130 and key.startswith("04"):
        key = key[2:]
    if len(key) != 128 or any(c not in "0123456789abcdef" for c in key):
        raise CryptoError("an SM2 public key is 64 bytes x||y (128 hex), optionally prefixed by 04")
    x, y = int(key[:64], 16), int(key[64:], 16)
    if x >= _SM2_P or y >= _SM2_P or (y * y - (x * x * x + _SM2_A * x + _SM2_B)) % _SM2_P:
        raise CryptoError("the SM2 public key is not a point on the SM2 curve: check that it was copied whole")
    return key


def _sm2_private(private_hex: str) -> int:
    try:
        d = int(private_hex, 16)
    except (TypeError, ValueError):
        d = 0
    if not 1 <= d < _SM2_N - 1:
        raise CryptoError("an SM2 private key is 32 bytes (64 hex) between 1 and n-2")
    return d


@lru_cache(maxsize=256)
def _sm2_public_of(private_hex: str) -> bytes:
    """x||y of d·G. gmssl-pyx has no call for it, so it is done here in Python (Jacobian coordinates,
    about 2 ms) once per key and process; signing with a key already seen costs nothing extra."""
    d, p = _sm2_private(private_hex), _SM2_P
    x, y, z = _SM2_GX, _SM2_GY, 1  # accumulator starts at G (the top bit of d)
    for bit in bin(d)[3:]:
        # doubling, a = -3: alpha = 3 (X - Z^2)(X + Z^2)
        delta, gamma = z * z % p, y * y % p
        beta, alpha = x * gamma % p, 3 * (x - delta) * (x + delta) % p
        x3 = (alpha * alpha - 8 * beta) % p
        z = ((y + z) ** 2 - gamma - delta) % p
        y = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % p
        x = x3
        if bit == "1":  # mixed addition of G (affine); d < n, so neither operand is G's negative or double
            zz = z * z % p
            h = (_SM2_GX * zz - x) % p
            r = (_SM2_GY * z * zz - y) % p
            hh = h * h % p
            hhh, v = h * hh % p, x * hh % p
            x3 = (r * r - hhh - 2 * v) % p
            y = (r * (v - x3) - y * hhh) % p
            z = z * h % p
            x = x3
    zinv = pow(z, -1, p)
    return ((x * zinv * zinv % p).to_bytes(32, "big") + (y * zinv * zinv * zinv % p).to_bytes(32, "big"))


def _sm2_digest(public_raw: bytes, data: bytes) -> bytes:
    """e = SM3(Z || M), the value SM2 signs (hashed in OpenSSL)."""
    return sm3(sm3(_SM2_Z_PREFIX + public_raw) + data)


def sm2_generate() -> KeyPair:
    public, private = gmssl_pyx.sm2_key_generate()
    return KeyPair(SM2_SM3, private.hex(), public.hex())


def ed25519_generate() -> KeyPair:
    from cryptography.hazmat.primitives import serialization as ser

    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption()).hex()
    pub = key.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw).hex()
    return KeyPair(ED25519, priv, pub)


def sign(alg: str, private_hex: str, data: bytes) -> bytes:
    if alg == SM2_SM3:
        public = _sm2_public_of(private_hex)
        der = gmssl_pyx.sm2_sign_sm3_digest(_sm2_private(private_hex).to_bytes(32, "big"),
                                            _sm2_digest(public, data))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == ED25519:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex)).sign(data)
    raise CryptoError(f"unknown signature algorithm {alg}")


def verify(alg: str, public_hex: str, data: bytes, signature: bytes) -> bool:
    try:
        if alg == SM2_SM3:
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            if len(signature) != 64 or not (0 < r < _SM2_N and 0 < s < _SM2_N):
                return False  # GmSSL would refuse it too, after a line on stderr
            public = bytes.fromhex(sm2_public_raw(public_hex))
            return bool(gmssl_pyx.sm2_verify_sm3_digest(public, _sm2_digest(public, data),
                                                        encode_dss_signature(r, s)))
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
