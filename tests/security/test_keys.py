"""Master key wrapping the data keys; old raw key files migrate; rotation re-wraps without losing data."""

from __future__ import annotations

import os
import stat

import pytest

from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.keys import MAGIC, KeyFileError, KeyRing
from pbshare.security.crypto.pii import PiiVault
from pbshare.units import service as unit_service


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


def test_masked_export_masks_identifiers_and_is_audited(db):
    import io

    from openpyxl import load_workbook
    from sqlalchemy import select

    from pbshare.security.audit.service import AuditRecord
    from pbshare.security.exports import ExportColumn, masked_workbook

    rows = [{"name": "演示·张三", "id_no": "440301199001011234", "phone": "13800001111", "address": "深圳市福田区某路1号"}]
    cols = [ExportColumn("name", "姓名"), ExportColumn("id_no", "证件号码", "cn_ric"),
            ExportColumn("phone", "电话", "phone"), ExportColumn("address", "地址", "address")]
    body, count = masked_workbook(db, principal=None, sheet="债务人", columns=cols, rows=rows,
                                  object_type="debtor", purpose="测试")
    values = list(load_workbook(io.BytesIO(body)).worksheets[0].iter_rows(values_only=True))[1]
    assert values == ("演示·张三", "440301********1234", "138****1111", "深圳市福田区****")
    rec = db.scalars(select(AuditRecord).where(AuditRecord.action == "data.export")).one()
    assert rec.detail["masked"] == ["id_no", "phone", "address"] and rec.purpose == "测试" and count == 1


def test_cli_keys_rotate_is_audited(database, settings, monkeypatch):
    from sqlalchemy import select
    from typer.testing import CliRunner

    from pbshare.cli import app
    from pbshare.config import get_settings
    from pbshare.security.audit.service import AuditRecord

    PiiVault(settings.resolved_data_dir / "keys")
    monkeypatch.setenv("PBSHARE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("PBSHARE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        res = CliRunner().invoke(app, ["keys", "rotate"])
    finally:
        get_settings.cache_clear()
    assert res.exit_code == 0, res.output
    assert "pii" in res.output and "index" in res.output
    with database.session() as s:
        rec = s.scalars(select(AuditRecord).where(AuditRecord.action == "keys.rotate")).one()
        assert rec.actor_name.startswith("cli:")


def test_cipher_is_configurable_and_old_values_stay_readable(tmp_path, monkeypatch):
    from pbshare.security.crypto.pii import vault_for

    keys = tmp_path / "keys"
    sm4 = PiiVault(keys).seal("440301199001011234")
    assert sm4.startswith("SM4-GCM:")
    monkeypatch.setenv("PBSHARE_PII_CIPHER", "AES-256-GCM")
    vault_for.cache_clear()
    try:
        aes_vault = vault_for(tmp_path)
        aes = aes_vault.seal("13800001111")
        assert aes.startswith("AES-256-GCM:")
        assert aes_vault.open(sm4) == "440301199001011234"
        assert PiiVault(keys).open(aes) == "13800001111"
        monkeypatch.setenv("PBSHARE_PII_CIPHER", "DES")
        vault_for.cache_clear()
        with pytest.raises(ValueError):
            vault_for(tmp_path)
    finally:
        vault_for.cache_clear()


def test_sm2_keys_whose_x_starts_with_0_or_4_sign_and_verify():
    """gmssl strips a "04" prefix with lstrip, which once broke 1 key in 8; every key must verify."""
    from pbshare.security.crypto import algorithms as crypto

    seen = set()
    for _ in range(400):
        pair = crypto.sm2_generate()
        if pair.public_hex[0] not in "04" or pair.public_hex[0] in seen:
            continue
        seen.add(pair.public_hex[0])
        for given in (pair.public_hex, "04" + pair.public_hex):
            sig = crypto.sign(crypto.SM2_SM3, pair.private_hex, b"payload")
            assert crypto.verify(crypto.SM2_SM3, given, b"payload", sig)
            assert not crypto.verify(crypto.SM2_SM3, given, b"payload!", sig)
        if seen == {"0", "4"}:
            break
    assert seen == {"0", "4"}


def test_a_malformed_sm2_public_key_is_refused_with_a_clear_error(database, settings):
    from pbshare.core.errors import Invalid
    from pbshare.exchange.connections import service as connections
    from pbshare.security.crypto import algorithms as crypto

    with database.session() as s:
        unit_service.upsert_unit(s, code="BADK", name="公钥单位", kind="other")
        with pytest.raises(Invalid) as exc:
            connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code="BADK", channel="socket",
                                          name="k", sig_alg=crypto.SM2_SM3, unit_public_key="04abc")
    assert exc.value.code == "bad_public_key"
