"""The demo's social-security delivery: a GBK CSV with 40 invalid ID numbers and a profile re-run in one step."""

from __future__ import annotations

from pbshare.collect.profiles import service as profiles
from pbshare.collect.runs import flows
from pbshare.demo import catalog as demo_catalog
from pbshare.demo import collect as demo
from pbshare.warehouse import service as warehouse


def test_demo_profile_imports_the_gbk_file_and_quarantines_40_ids(database, settings):
    with database.session() as db:
        first = demo.load_demo(db, data_dir=settings.resolved_data_dir)
    with database.session() as db:
        assert demo.load_demo(db, data_dir=settings.resolved_data_dir) == first  # idempotent
        profile = profiles.get_profile(db, profile_id=demo.PROFILE)
        spec, pid = profiles.spec_of(profile), profile.id
    raw = (settings.resolved_data_dir / "demo" / first["file"]).read_bytes()
    raw.decode("gbk")
    try:
        raw.decode("utf-8")
        raise AssertionError("the demo file should be GBK")
    except UnicodeDecodeError:
        pass
    run = flows.run_now(database, spec=spec, profile_id=pid, run_by="dataadmin")
    assert run.status == "succeeded", run.error
    assert (run.rows_read, run.rows_quarantined, run.rows_loaded) == (2000, 40, 1960)
    again = flows.run_now(database, spec=spec, profile_id=pid, run_by="dataadmin")
    assert again.rows_loaded == 1960
    assert warehouse.count_rows(database, topic="case", name="si_monthly") == 1960  # upsert by business key


def test_table_created_from_a_catalog_resource_and_matched_by_item_names(database, settings, tmp_path):
    from pbshare.collect.schemas import ImportSpec

    with database.session() as db:
        from pbshare.demo.service import load_units

        load_units(db)
        demo_catalog.load_catalog(db, data_dir=settings.resolved_data_dir)
        demo.load_demo(db, data_dir=settings.resolved_data_dir)
    path = demo.demo_csv(tmp_path / "si.csv", rows=100, bad_ids=3)
    spec = ImportSpec(source_kind="csv", source={"path": str(path)}, target_topic="case", target_table="si_by_resource",
                      resource_code="601001", mode="upsert")
    run = flows.run_now(database, spec=spec, run_by="dataadmin", trusted=True)
    assert run.status == "succeeded", run.error
    assert (run.rows_loaded, run.rows_quarantined) == (97, 3)
    with database.session() as db:
        table = warehouse.get_table(db, topic="case", name="si_by_resource")
        names = [c["name"] for c in table.columns]
        assert names[:3] == ["name", "id_no", "id_no_bidx"] and "base_yuan" in names
        assert table.key == ["id_no", "insurance", "period"] and table.resource_code == "601001"
