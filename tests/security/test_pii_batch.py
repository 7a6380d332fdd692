"""Sealing a whole column at once (imports): same format as one value at a time, opened by ``open``."""

from __future__ import annotations

import pytest

from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.pii import PiiVault

IDS = ["440305198001011234", None, "44030519900202123x", "440305198001011234", " 44030519900202123X ", ""]


@pytest.mark.parametrize("alg", [crypto.SM4_GCM, crypto.AES_GCM])
def test_batch_sealed_values_open_with_open_and_indexes_match_one_by_one(tmp_path, alg):
    vault = PiiVault(tmp_path / "keys", alg=alg)
    sealed = vault.seal_many(IDS)
    assert [vault.open(s) for s in sealed] == IDS
    assert all(s is None or s.startswith(alg + ":") for s in sealed)
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
