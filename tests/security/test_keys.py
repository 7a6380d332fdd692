"""Master key wrapping the data keys; old raw key files migrate; rotation re-wraps without losing data."""

from __future__ import annotations

import os
import stat

import pytest

from pbshare.security import crypto
from pbshare.security.keys import MAGIC, KeyFileError, KeyRing
from pbshare.security.pii import PiiVault


def test_legacy_raw_key_files_are_wrapped_and_still_open_old_data(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    raw = os.urandom(32)
    (keys / "pii.key").write_bytes(raw)
    (keys / "index.key").write_bytes(os.urandom(32))
    old = crypto.encrypt(crypto.SM4_GCM, raw, b"440301199001011234").to_text()
    vault = PiiVault(keys)
    assert vault.open(old) == "440301199001011234"
    assert (keys / "pii.key").read_bytes().startswith(MAGIC.encode())
    assert raw not in (keys / "pii.key").read_bytes()
    assert stat.S_IMODE((keys / "master.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((keys / "pii.key").stat().st_mode) == 0o600


def test_rotation_rewraps_and_data_stays_readable(tmp_path):
    keys = tmp_path / "keys"
    vault = PiiVault(keys)
    sealed = vault.seal("13800001111")
    index = vault.blind_index("13800001111", kind="phone")
    ring = KeyRing(keys)
    before = (keys / "master.key").read_bytes()
    out = ring.rotate_master()
    assert set(out["rewrapped"]) == {"pii", "index"} and out["old_master_id"] != out["new_master_id"]
    assert (keys / "master.key").read_bytes() != before
    assert not (keys / "master.key.prev").exists()
    again = PiiVault(keys)
    assert again.open(sealed) == "13800001111"
    assert again.blind_index("138-0000-1111", kind="phone") == index


def test_a_wrong_master_key_or_swapped_file_is_detected(tmp_path):
    keys = tmp_path / "keys"
    PiiVault(keys)
    (keys / "pii.key").write_bytes((keys / "index.key").read_bytes())  # swap: the name is authenticated
    with pytest.raises(KeyFileError):
        KeyRing(keys).data_key("pii")
    (keys / "master.key").write_bytes(os.urandom(32))
    with pytest.raises(KeyFileError):
        KeyRing(keys).data_key("index")
