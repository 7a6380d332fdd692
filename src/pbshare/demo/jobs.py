"""Demo pipelines and schedules (docs/jobs.md): the nightly refresh of ``shared.debtor_assets`` (a join-and-
aggregate transform over the real-estate and vehicle facts units deliver), the nightly backup with verification,
and the monthly retention. Idempotent."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pbshare.collect.deliveries import service as deliveries
from pbshare.collect.derived import transforms
from pbshare.collect.derived.schemas import TransformIn
from pbshare.core.db import Database
from pbshare.jobs import service as jobs
from pbshare.jobs.schemas import PipelineIn, ScheduleIn
from pbshare.warehouse import service as warehouse

ASSET_RESOURCES = ("201001", "301001")  # 个人不动产登记信息, 机动车登记信息
PROVENANCE_FIELDS: list[dict[str, Any]] = [
    {"name": "src_unit", "type": "string", "length": 64, "title": "来源单位 / sending unit"},
    {"name": "src_message", "type": "string", "length": 64, "title": "消息编号 / message id"},
    {"name": "src_received_at", "type": "datetime", "title": "接收时间 / received at"},
    {"name": "src_row", "type": "integer", "title": "消息内行号 / row in message"},
]
DEBTOR_ASSETS = {
    "tables": [{"table": "shared.r_201001", "alias": "h"}, {"table": "shared.r_301001", "alias": "v"}],
    "joins": [{"kind": "left", "alias": "v", "on": [["h.owner_id_no_bidx", "v.owner_id_no_bidx"]]}],
    "group_by": ["h.owner_id_no_bidx"],
    "aggregates": [{"fn": "count_distinct", "column": "h.unit_no", "as": "properties"},
                   {"fn": "sum", "column": "h.area_m2", "as": "area_m2"},
                   {"fn": "count_distinct", "column": "v.plate_no", "as": "vehicles"}],
}
PIPELINES: list[tuple[str, str, list[dict[str, Any]], dict[str, Any]]] = [
    ("每晚刷新债务人资产表", "nightly refresh of shared.debtor_assets: real estate and vehicles per debtor",
     [{"kind": "transform", "name": "汇总债务人资产", "params": {"transform": "debtor_assets"}, "retries": 2,
       "retry_delay_s": 60}],
     {"kind": "daily", "time": "01:30"}),
    ("每晚备份并校验", "nightly backup, verified against its SM3 manifest and MAC",
     [{"kind": "backup", "name": "备份并校验", "params": {"verify": True}, "timeout_s": 6 * 3600}],
     {"kind": "daily", "time": "02:30"}),
    ("每月执行保存期限", "monthly retention: destroy what has expired, archive old audit records",
     [{"kind": "retention", "name": "执行保存期限", "params": {"dry_run": False}}],
     {"kind": "monthly", "day": 1, "time": "03:00"}),
]


def _asset_tables(db: Session, database: Database) -> None:
    """The tables the two resources' deliveries land in, made as the lander makes them (the resource's published
    items and the provenance columns), so the transform can be defined before the first delivery."""
    topic, title = deliveries.TOPICS[False]
    if warehouse.find_topic(db, name=topic) is None:
        warehouse.register_topic(db, warehouse.topic_store(database), name=topic, title=title)
    for code in ASSET_RESOURCES:
        _, table = deliveries.target_of(code, test=False)
        if warehouse.find_table(db, topic=topic, name=table) is not None:
            continue
        fields, key = warehouse.resource_fields(db, code=code)
        warehouse.create_table(db, database, topic=topic, name=table, title=f"{code} 交付数据 / deliveries of {code}",
                               fields=[*fields, *PROVENANCE_FIELDS], key=key, resource_code=code)


def _passphrase_file(data_dir: Path) -> None:
    """A random backup passphrase for the demo's nightly backup (mode 0600, beside the keys it protects: a real
    installation sets PBSHARE_BACKUP_PASSPHRASE and keeps it elsewhere)."""
    path = data_dir / "keys" / "backup-passphrase"
    if os.environ.get("PBSHARE_BACKUP_PASSPHRASE") or path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_urlsafe(24))


def load_demo(db: Session, *, data_dir: Path, database: Database | None = None) -> dict:
    made: list[str] = []
    if database is not None:
        _asset_tables(db, database)
        if transforms.find_transform(db, name="debtor_assets") is None:
            transforms.save_transform(db, database, data=TransformIn(
                name="debtor_assets", title="债务人资产汇总（不动产、机动车）", spec=DEBTOR_ASSETS, target_topic="shared"))
    _passphrase_file(data_dir)
    for name, description, steps, picker in PIPELINES:
        if jobs.find_pipeline(db, name=name) is not None:
            continue
        pipeline = jobs.create_pipeline(db, data=PipelineIn(name=name, description=description, steps=steps))
        jobs.create_schedule(db, data=ScheduleIn(pipeline_id=pipeline.id, picker=picker, catch_up="once"))
        made.append(name)
    return {"pipelines": made}
