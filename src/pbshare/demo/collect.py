"""Demo data for imports: the ``case`` topic database, social security's monthly GBK CSV (with
about 40 invalid ID numbers, as in DESIGN §7 step 3) and a saved profile that imports it in one click."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pbshare.collect.profiles import service as profiles
from pbshare.collect.profiles.schemas import ProfileIn
from pbshare.core.db import Database
from pbshare.core.dynamic import TopicStore
from pbshare.demo.synthetic import SYNTHETIC_PREFIX, synthetic_id_no, synthetic_uscc
from pbshare.warehouse import service as warehouse

PROFILE = "si_monthly"
ROWS = 2000
BAD_IDS = 40
HEADER = ["姓名", "公民身份号码", "参保单位名称", "参保单位统一社会信用代码", "险种", "缴费所属期", "缴费基数(元)",
          "参保状态"]
INSURANCE = ["养老保险", "医疗保险", "失业保险", "工伤保险", "生育保险"]
STATES = ["正常参保", "暂停缴费", "终止参保"]
MAPPING = [
    {"target": "name", "source": "姓名", "title": "姓名", "length": 50, "required": True},
    {"target": "id_no", "source": "公民身份号码", "title": "公民身份号码", "pii": True, "id_kind": "cn_ric",
     "required": True},
    {"target": "employer", "source": "参保单位名称", "title": "参保单位名称", "length": 200},
    {"target": "employer_uscc", "source": "参保单位统一社会信用代码", "title": "参保单位统一社会信用代码", "length": 18,
     "case": "upper"},
    {"target": "insurance", "source": "险种", "title": "险种", "value_map": {v: v for v in INSURANCE},
     "map_strict": True},
    {"target": "period", "source": "缴费所属期", "title": "缴费所属期", "length": 6, "required": True},
    {"target": "base_yuan", "source": "缴费基数(元)", "title": "缴费基数(元)", "type": "decimal"},
    {"target": "state", "source": "参保状态", "title": "参保状态", "value_map": {v: v for v in STATES},
     "map_strict": True},
]


def demo_csv(path: Path, *, rows: int = ROWS, bad_ids: int = BAD_IDS, seed: int = 601001) -> Path:
    """Social security's January delivery, GBK-encoded with a title line, like the real monthly file."""
    rng = random.Random(seed)
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
    bad = set(rng.sample(range(rows), bad_ids))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    buf.write("深圳市社会保险参保缴费信息（2023年1月）\r\n")
    w.writerow(HEADER)
    for i in range(rows):
        id_no = synthetic_id_no(rng)
        if i in bad:  # a typo in the check digit, as a clerk would make
            id_no = id_no[:17] + ("0" if id_no[17] != "0" else "1")
        w.writerow([SYNTHETIC_PREFIX + rng.choice(surnames) + rng.choice(given) + rng.choice(given), id_no,
                    f"演示·深圳市某{rng.choice(['科技', '贸易', '建筑', '物流'])}有限公司", synthetic_uscc(i),
                    rng.choice(INSURANCE), "202301", f"{rng.randrange(2360, 34000):,}.00", rng.choice(STATES)])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("gbk"))
    return path


def load_demo(db: Session, *, data_dir: Path, database: Database | None = None) -> dict:
    """Idempotent: the topic, the file and the profile are made once.

    The topic database goes where ``database`` keeps topic databases (its warehouse engine). Without
    one, the session's own engine is used: the warehouse unless ``PBSHARE_WAREHOUSE_URL`` separates it,
    so a caller with a separate warehouse passes its ``Database``.
    """
    if database is not None:
        engine = database.warehouse_engine
    else:
        bind = db.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
    store = TopicStore(engine, data_dir)
    if warehouse.find_topic(db, name="case") is None:
        warehouse.register_topic(db, store, name="case", title="案件专题库",
                                 description="案件及债务人相关的汇聚数据（演示）")
    path = data_dir / "demo" / "社保缴费_202301.csv"
    if not path.exists():
        demo_csv(path)
    if profiles.find_profile(db, name=PROFILE) is None:
        profiles.create_profile(db, data=ProfileIn(
            name=PROFILE, title="社会保险月度缴费（演示）", source_kind="csv", source={"path": str(path)},
            mapping=MAPPING, target_topic="case", target_table="si_monthly", mode="upsert",
            key=["id_no", "insurance", "period"], resource_code="601001"))
    return {"topic": "case", "file": path.name, "profile": PROFILE}
