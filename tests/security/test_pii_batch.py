"""Sealing a whole column at once (imports): SM4-CTR-HMAC-SM3 for SM4 vaults, opened by ``open`` like every value
sealed before (SM4-GCM one at a time or in batches), the blind index unchanged."""

from __future__ import annotations

import base64
import hmac
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.keys import KeyRing
from pbshare.security.crypto.pii import PiiVault

IDS = ["440305198001011234", None, "44030519900202123x", "440305198001011234", " 44030519900202123X ", ""]


@pytest.mark.parametrize("alg", [crypto.SM4_GCM, crypto.AES_GCM])
def test_batch_sealed_values_open_with_open_and_indexes_match_one_by_one(tmp_path, alg):
    vault = PiiVault(tmp_path / "keys", alg=alg)
    sealed = vault.seal_many(IDS)
    assert [vault.open(s) for s in sealed] == IDS
    bulk = crypto.SM4_CTR_HMAC if alg == crypto.SM4_GCM else alg
    assert all(s is None or s.startswith(bulk + ":") for s in sealed)
    # without a blind index beside them, equal values still get their own IV and ciphertext
    assert sealed[0] != sealed[3]
    assert vault.blind_index_many(IDS, kind="cn_ric") == [
        None if v is None else vault.blind_index(v, kind="cn_ric") for v in IDS]
    # a vault opened afresh on the same keys (the next process) reads them too
    assert [PiiVault(tmp_path / "keys", alg=alg).open(s) for s in sealed] == IDS


@pytest.mark.parametrize("alg", [crypto.SM4_GCM, crypto.AES_GCM])
def test_indexed_batch_shares_ciphertext_only_where_the_value_is_identical(tmp_path, alg):
    vault = PiiVault(tmp_path / "keys", alg=alg)
    sealed = vault.seal_many(IDS, indexed=True)
    index = vault.blind_index_many(IDS, kind="cn_ric")
    assert [vault.open(s) for s in sealed] == IDS
    assert sealed[0] == sealed[3] and index[0] == index[3]
    # equal only after normalising: one index, but different ciphertexts (nothing beyond the index shows)
    assert index[2] == index[4] and sealed[2] != sealed[4]
    assert len({s for s in sealed if s is not None}) == 4


def test_empty_and_all_missing_columns(tmp_path):
    vault = PiiVault(tmp_path / "keys")
    assert vault.seal_many([]) == [] and vault.blind_index_many([]) == []
    assert vault.seal_many([None, None], indexed=True) == [None, None]
    assert vault.blind_index_many([None], kind="phone") == [None]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_values_sealed_before_with_sm4_gcm_still_open(tmp_path):
    """A value sealed with SM4-GCM by the code before the bulk format (built here with OpenSSL directly, one by
    one and in a batch) opens, beside new ones, in the same vault."""
    vault = PiiVault(tmp_path / "keys")
    data_key = KeyRing(tmp_path / "keys").data_key("pii")
    iv = os.urandom(12)
    enc = Cipher(algorithms.SM4(data_key[:16]), modes.GCM(iv)).encryptor()
    body = enc.update(b"44030519800101123X") + enc.finalize()
    old = f"SM4-GCM:{_b64(iv)}:{_b64(body + enc.tag)}"
    assert vault.open(old) == "44030519800101123X"
    assert vault.open(vault.seal("440305198001011234")) == "440305198001011234"  # one value: still SM4-GCM
    assert vault.seal("440305198001011234").startswith("SM4-GCM:")
    new = vault.seal_many(["440305198001011234"])[0]
    assert new is not None and new.startswith("SM4-CTR-HMAC-SM3:") and vault.open(new) == "440305198001011234"


def test_bulk_format_is_sm4_ctr_then_hmac_sm3_over_name_iv_and_ciphertext():
    """The format, checked against OpenSSL's SM4-CTR and Python's HMAC-SM3 directly: the key's first half
    encrypts (counter block = IV || 0^32), its second half keys a 16-byte tag over name || IV || ciphertext."""
    key = bytes(range(32))
    plain = b"44030519800101123X"
    alg, iv_text, ct_text = crypto.encrypt(crypto.SM4_CTR_HMAC, key, plain).to_text().split(":")
    iv, ct = base64.b64decode(iv_text), base64.b64decode(ct_text)
    assert alg == "SM4-CTR-HMAC-SM3" and len(iv) == 12 and len(ct) == len(plain) + 16
    body, tag = ct[:-16], ct[-16:]
    dec = Cipher(algorithms.SM4(key[:16]), modes.CTR(iv + bytes(4))).decryptor()
    assert dec.update(body) + dec.finalize() == plain
    assert tag == hmac.new(key[16:], b"SM4-CTR-HMAC-SM3" + iv + body, "sm3").digest()[:16]


def test_bulk_values_of_every_length_open_and_tampering_is_refused(tmp_path):
    vault = PiiVault(tmp_path / "keys")
    values = ["", "x", "4403051980010112", "44030519800101123X", "深圳市南山区演示路1号" * 7]
    sealed = vault.seal_many(values)
    assert [vault.open(s) for s in sealed] == values
    alg, iv, ct = str(sealed[3]).split(":")
    raw = bytearray(base64.b64decode(ct))
    for where in (0, len(raw) - 1):  # a flipped bit in the ciphertext or in the tag
        bad = bytearray(raw)
        bad[where] ^= 1
        with pytest.raises(crypto.CryptoError):
            vault.open(f"{alg}:{iv}:{_b64(bytes(bad))}")
    with pytest.raises(crypto.CryptoError):  # the same bytes passed off as another format
        vault.open(f"SM4-GCM:{iv}:{ct}")
    with pytest.raises(crypto.CryptoError):  # another vault's keys
        PiiVault(tmp_path / "other").open(sealed[3])
