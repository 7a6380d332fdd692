"""Personal identifiers at rest and on read: SM4 encryption, HMAC-SM3 blind index, masking.

One value at a time is sealed with SM4-GCM (or AES-256-GCM); a whole column (``seal_many``: imports,
comparisons) with SM4-CTR-HMAC-SM3, encrypt-then-MAC, whose one reusable cipher context makes a value
a third cheaper (4.4 µs against 6.8 µs of CPU with SM4-GCM, which needs a new OpenSSL context per IV). Every sealed value names its format, and ``open`` reads all of them, so values sealed
before stay readable.

Keys live in files under ``<data_dir>/keys`` (mode 0600), wrapped by the master key (``security.crypto.keys``):
``pii.key`` encrypts, ``index.key`` keys the blind index, so an exact lookup by ID number works
without decrypting every row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import overload

from pbshare.config import Settings
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.keys import KeyRing


class PiiVault:
    def __init__(self, keys_dir: Path, alg: str = crypto.SM4_GCM) -> None:
        self.alg = alg
        # a column at once: SM4's bulk format when the vault seals with SM4; AES-GCM has no setup cost to save
        self.bulk_alg = crypto.SM4_CTR_HMAC if alg == crypto.SM4_GCM else alg
        ring = KeyRing(keys_dir)
        self._data_key = ring.data_key("pii")
        self._index_key = ring.data_key("index")

    @overload
    def seal(self, value: str) -> str: ...
    @overload
    def seal(self, value: None) -> None: ...
    def seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        return crypto.encrypt(self.alg, self._data_key, value.encode("utf-8")).to_text()

    @overload
    def open(self, sealed: str) -> str: ...
    @overload
    def open(self, sealed: None) -> None: ...
    def open(self, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        return crypto.decrypt(self._data_key, crypto.Sealed.from_text(sealed)).decode("utf-8")

    def blind_index(self, value: str, *, kind: str = "") -> str:
        normal = normalise(value, kind)
        return crypto.hmac_sm3(self._index_key, normal.encode("utf-8")).hex()

    def seal_many(self, values: Sequence[str | None], *, indexed: bool = False) -> list[str | None]:
        """``seal`` of a whole column, each value opening with ``open``; far cheaper per value on imports.

        ``indexed=True`` is for columns stored beside their blind index: equal values in the batch then
        share one ciphertext, sealed once. That reveals nothing the index does not already: the index is
        deterministic, so equal values already show as equal rows (and values equal only after
        normalising, e.g. ``x``/``X``, still get different ciphertexts). Without an index every value
        gets its own IV, as with ``seal``. Sealed with ``bulk_alg`` (see the module's docstring)."""
        present = [v for v in values if v is not None]
        if indexed:
            present = list(dict.fromkeys(present))
        sealed = crypto.encrypt_many_text(self.bulk_alg, self._data_key, [v.encode("utf-8") for v in present])
        if indexed:
            by_value = dict(zip(present, sealed, strict=True))
            return [None if v is None else by_value[v] for v in values]
        texts = iter(sealed)
        return [None if v is None else next(texts) for v in values]

    def blind_index_many(self, values: Sequence[str | None], *, kind: str = "") -> list[str | None]:
        """``blind_index`` of a whole column (``None`` stays ``None``), one HMAC per distinct value."""
        normals = [None if v is None else normalise(v, kind) for v in values]
        distinct = list(dict.fromkeys(v for v in normals if v is not None))
        macs = crypto.hmac_sm3_many(self._index_key, [v.encode("utf-8") for v in distinct])
        by_normal = {v: m.hex() for v, m in zip(distinct, macs, strict=True)}
        return [None if v is None else by_normal[v] for v in normals]


CIPHERS = (crypto.SM4_GCM, crypto.AES_GCM)


def checked_cipher(alg: str) -> str:
    """A cipher for new values must be one the vault knows; a typo must not fall back silently."""
    if alg not in CIPHERS:
        raise ValueError(f"PBSHARE_PII_CIPHER must be one of {', '.join(CIPHERS)}, not {alg!r}")
    return alg


@lru_cache(maxsize=8)
def vault_for(data_dir: Path, cipher: str | None = None) -> PiiVault:
    """The vault of a data dir, kept once made. ``cipher`` seals new values; without it the settings'
    ``pii_cipher`` (``PBSHARE_PII_CIPHER``, SM4-GCM by default) as they are when the vault is first made.
    Every sealed value records its own cipher, so values sealed before a change stay readable."""
    return PiiVault(data_dir / "keys", alg=checked_cipher(cipher or Settings().pii_cipher))


def normalise(value: str, kind: str = "") -> str:
    value = value.strip()
    if kind in ("cn_ric", "id_no"):
        return value.upper()
    if kind == "phone":
        return re.sub(r"[^0-9]", "", value)
    return value


def mask(value: str | None, kind: str = "") -> str | None:
    """ID ``440301********1234``, phone ``138****5678``, address cut to the district, other text halved."""
    if value is None:
        return None
    v = value.strip()
    if kind in ("cn_ric", "id_no") or re.fullmatch(r"[0-9]{17}[0-9Xx]|[0-9]{15}", v):
        return v[:6] + "*" * (len(v) - 10) + v[-4:] if len(v) > 10 else "*" * len(v)
    if kind == "phone" or re.fullmatch(r"1[3-9][0-9]{9}", v):
        return v[:3] + "****" + v[-4:] if len(v) >= 11 else "*" * len(v)
    if kind == "uscc":
        return v[:8] + "*" * (len(v) - 12) + v[-4:] if len(v) > 12 else "*" * len(v)
    if kind == "address":
        # keep up to the district (区/县/旗; an autonomous region's 自治区 is a province, not a district)
        m = re.match(r"^(.*?(?<!自治)(?:区|县|旗))", v) or re.match(r"^(.*?市)", v)
        return (m.group(1) if m else v[:3]) + "****"
    keep = max(1, len(v) // 2)
    return v[:keep] + "*" * (len(v) - keep)
