"""Compare each delivery with what came before, keep every record's history, flag suspicious changes.

``compare_delivery`` is the one entry point for new data: import runs call it (``collect.runs.flows``)
and exchange deliveries will too. Everything it stores that holds a value is sealed with the PII vault;
reads mask personal values unless a user with ``pii:unmask`` gives a purpose, and every read of rows,
history or an as-of state is audited.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from pbshare.compare import history
from pbshare.compare.diff import FIELD, NEW_VALUE, OLD_VALUE, Diff, diff
from pbshare.compare.models import Comparison, ComparisonRow, Delivery
from pbshare.compare.schemas import ComparisonOut, Flag, RowOut, TargetOut, VersionOut
from pbshare.config import Settings
from pbshare.core.clock import as_utc, utcnow
from pbshare.core.errors import Conflict, Forbidden, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse

DELIVERY_KINDS = ("import_run", "delivery", "job_run")  # job_run: a pipeline step compared a table
KINDS = ("added", "removed", "changed")
ID_KINDS = {"cn_ric", "id_no", "uscc"}
# identifier columns by name when no info item says so: resident ID, USCC, credit code (pinyin too)
_ID_NAME = re.compile(r"(^|_)(id_?no|sfzh|sfz|zjhm|ric|uscc|tyshxydm|shxydm|credit_?code)($|_)", re.I)
_LOOKS_PERSONAL = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}|1[3-9][0-9]{9}")
FLAG_LABELS = {
    "id_change": ("证件号码在同一主键下发生变化", "An identifier changed under the same key"),
    "mass_change": ("大量记录同时变化", "A large share of the records changed at once"),
    "flip": ("数值来回变化（A→B→A）", "A value flipped back (A→B→A)"),
}
CHUNK = 5000
log = logging.getLogger("pbshare.compare")


# --------------------------------------------------------------------------- taking in a delivery
def compare_delivery(db: Session, *, resource_code: str | None, unit_code: str | None, target: str,
                     delivery_id: str, delivery_kind: str, frame: pl.DataFrame, key: list[str],
                     incremental: bool = False, deleted_keys: pl.DataFrame | None = None,
                     data_dir: Path | None = None, at: datetime | None = None,
                     columns: list[dict[str, Any]] | None = None,
                     change_share: float | None = None) -> Comparison | None:
    """Compare a delivery with the state of ``target`` (``topic.table``) from the same unit before it, store
    the comparison, and move the record history on. Returns the comparison; None for the first delivery of a
    (unit, target), which only starts the history.

    - ``delivery_kind``: ``"import_run"`` (``delivery_id`` is the run's id) or ``"delivery"`` (an exchange
      delivery: its envelope or message id). Each (unit, target, delivery_id) is taken once.
    - ``frame``: the delivered rows with the target's column names, values in clear (personal values are
      sealed here); columns starting ``__`` are ignored. ``key``: the business key columns.
    - A full snapshot (``incremental=False``): keys missing from it are removed. An incremental delivery:
      ``frame`` holds the new and changed rows and ``deleted_keys`` (key columns only) the removed ones;
      nothing else counts as removed.
    - ``at``: when the delivery takes effect (default now): the history's valid-from / valid-to.
    - ``columns``: ``[{name, title, pii, id_kind}]``; default the warehouse table's registry columns.
    - ``change_share``: the share of changed or removed rows above which the comparison is flagged
      (default ``PBSHARE_COMPARE_CHANGE_SHARE``, 0.3).
    """
    if delivery_kind not in DELIVERY_KINDS:
        raise Invalid(T("交付类型须为 import_run、delivery 或 job_run", "delivery_kind must be import_run, delivery or job_run"),
                      code="compare_bad_kind")
    vault = pii.vault_for(data_dir or Settings().resolved_data_dir)
    scope, when = unit_code or "", as_utc(at or utcnow())
    if db.scalar(select(Delivery.id).where(Delivery.target == target, Delivery.scope == scope,
                                           Delivery.delivery_id == delivery_id)) is not None:
        raise Conflict(T("该交付已比对过：{d}", "This delivery was compared already: {d}", d=delivery_id),
                       code="compare_delivery_seen")
    new = _as_text(frame)
    if not key:
        raise Invalid(T("比对需要业务主键；请在目录资源或导入配置中设置业务主键",
                        "A comparison needs a business key; set one on the catalog resource or the import profile"),
                      code="compare_no_key")
    missing = [k for k in key if k not in new.columns]
    if missing:
        raise Invalid(T("交付的数据缺少业务主键字段：{k}", "The delivery lacks business key columns: {k}",
                        k=", ".join(missing)), code="compare_key_missing")
    dupes = int(new.select(pl.struct(key).is_duplicated().sum()).item())
    if dupes:
        raise Invalid(T("有 {n} 行的业务主键重复；每条记录的主键须唯一，请去重后再交付",
                        "{n} rows share a business key; each record's key must be unique, remove the duplicates",
                        n=dupes), code="compare_duplicate_keys")
    meta = columns if columns is not None else _columns_of(db, target, new.columns)
    previous = db.scalar(select(Delivery).where(Delivery.target == target, Delivery.scope == scope)
                         .order_by(Delivery.received_at.desc(), Delivery.id.desc()).limit(1))
    record = Delivery(scope=scope, target=target, resource_code=resource_code, delivery_id=delivery_id,
                      delivery_kind=delivery_kind, key=list(key), incremental=incremental, rows=new.height,
                      received_at=when)
    db.add(record)
    if previous is None:
        history.open_versions(db, vault, scope=scope, target=target, key=key, frame=new, at=when,
                              delivery_id=delivery_id, delivery_kind=delivery_kind, comparison_id=None)
        db.flush()
        return None
    old_with_ids = history.current(db, vault, scope=scope, target=target)
    old = old_with_ids.drop(history.VID)
    if old.height == 0:
        old = pl.DataFrame(schema={c: pl.String for c in new.columns})
    deleted = _as_text(deleted_keys) if deleted_keys is not None else None
    d = diff(old, new, key, incremental=incremental, deleted_keys=deleted)
    comparison = Comparison(scope=scope, target=target, resource_code=resource_code, delivery_id=delivery_id,
                            delivery_kind=delivery_kind, previous_delivery_id=previous.delivery_id,
                            incremental=incremental, key=list(key), columns=meta, previous_rows=old.height,
                            added=d.added.height, removed=d.removed.height, changed=d.changed.height,
                            unchanged=d.unchanged, field_counts=d.field_counts, created_at=when)
    db.add(comparison)
    db.flush()
    share = change_share if change_share is not None else Settings().compare_change_share
    row_flags, flags = _suspicious(db, vault, d, scope=scope, target=target, meta=meta, previous_rows=old.height,
                                   share=share)
    comparison.flags = flags
    _store_rows(db, vault, comparison.id, d, row_flags)
    # the history: close what changed or went, open what came or changed
    ending = pl.concat([d.changed.select(key), d.removed.select(key)])
    ids = old_with_ids.join(ending, on=key, how="semi", nulls_equal=True)[history.VID].to_list()
    history.close(db, ids=ids, at=when, ended_by=delivery_id)
    history.open_versions(db, vault, scope=scope, target=target, key=key,
                          frame=pl.concat([d.added, d.changed], how="diagonal_relaxed"), at=when,
                          delivery_id=delivery_id, delivery_kind=delivery_kind, comparison_id=comparison.id)
    record.comparison_id = comparison.id
    audit.record(db, action="compare.delivery", object_type="comparison", object_id=comparison.id,
                 detail={"target": target, "unit": unit_code, "delivery": delivery_id, **d.counts,
                         "flags": [f["code"] for f in flags]})
    db.flush()
    return comparison


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text (dates ISO), so a delivery and the stored history compare alike."""
    keep = [c for c in frame.columns if not c.startswith("__")]
    return frame.select([pl.col(c).cast(pl.String) for c in keep])


def _columns_of(db: Session, target: str, names: list[str]) -> list[dict[str, Any]]:
    topic, _, name = target.partition(".")
    table = warehouse.find_table(db, topic=topic, name=name) if name else None
    known = {c["name"]: c for c in (table.columns if table is not None else [])}
    out = []
    for n in names:
        c = known.get(n, {})
        out.append({"name": n, "title": c.get("title") or n, "pii": bool(c.get("pii")), "id_kind": c.get("id_kind")})
    return out


def _is_identifier(col: dict[str, Any]) -> bool:
    return (col.get("id_kind") or "") in ID_KINDS or bool(_ID_NAME.search(col["name"]))


def _suspicious(db: Session, vault: pii.PiiVault, d: Diff, *, scope: str, target: str, meta: list[dict],
                previous_rows: int, share: float) -> tuple[dict[str, set[str]], list[dict]]:
    """Flags per record (by key text) and for the comparison."""
    flags: list[dict] = []
    per_row: dict[str, set[str]] = {}

    def flag(code: str, **extra: Any) -> None:
        zh, en = FLAG_LABELS[code]
        flags.append({"code": code, "label": f"{zh} / {en}", **extra})

    id_cols = [c["name"] for c in meta if _is_identifier(c) and c["name"] not in d.key]
    hits = d.fields.filter(pl.col(FIELD).is_in(id_cols)) if id_cols else d.fields.clear()
    if hits.height:
        keys = history.key_texts(hits, d.key)
        for k in keys:
            per_row.setdefault(k, set()).add("id_change")
        flag("id_change", count=len(set(keys)), fields=sorted(set(hits[FIELD].to_list())))
    moved = d.changed.height + d.removed.height
    if previous_rows and moved / previous_rows > share:
        flag("mass_change", count=moved, share=round(moved / previous_rows, 4), threshold=share)
    if d.fields.height:
        changed_keys = history.key_texts(d.changed, d.key)
        indexes = [vault.blind_index(k) for k in changed_keys]
        by_text = dict(zip(changed_keys, indexes, strict=True))
        earlier = history.earlier_values(db, vault, scope=scope, target=target, key_indexes=indexes)
        flipped_fields: set[str] = set()
        flipped_rows: set[str] = set()
        for row, k in zip(d.fields.iter_rows(named=True), history.key_texts(d.fields, d.key), strict=True):
            before = earlier.get(by_text.get(k, ""), [])
            if before and row[FIELD] in before[0] and before[0][row[FIELD]] == row[NEW_VALUE] \
                    and row[OLD_VALUE] != row[NEW_VALUE]:
                per_row.setdefault(k, set()).add("flip")
                flipped_fields.add(row[FIELD])
                flipped_rows.add(k)
        if flipped_rows:
            flag("flip", count=len(flipped_rows), fields=sorted(flipped_fields))
    return per_row, flags


def _store_rows(db: Session, vault: pii.PiiVault, comparison_id: str, d: Diff, row_flags: dict[str, set[str]]) -> None:
    """The added, removed and changed records, sealed, with their changed fields and flags in clear."""
    key = d.key
    changes: dict[str, dict[str, list[Any]]] = {}
    for row, k in zip(d.fields.iter_rows(named=True), history.key_texts(d.fields, key), strict=True):
        changes.setdefault(k, {})[row[FIELD]] = [row[OLD_VALUE], row[NEW_VALUE]]
    records: list[dict[str, Any]] = []
    payloads: list[str] = []
    for kind, frame, olds in (("added", d.added, None), ("removed", d.removed, None),
                              ("changed", d.changed, d.changed_old)):
        old_rows = olds.iter_rows(named=True) if olds is not None else None
        for values in frame.iter_rows(named=True):
            k = history.key_text([values[c] for c in key])
            payload: dict[str, Any] = {"key": {c: values[c] for c in key}, "values": values}
            fields = ""
            if kind == "changed":
                payload["old"] = next(old_rows) if old_rows is not None else {}
                payload["changes"] = changes.get(k, {})
                fields = "," + ",".join(payload["changes"]) + ","
            flags = row_flags.get(k, set())
            records.append({"comparison_id": comparison_id, "kind": kind, "fields": fields,
                            "flags": ("," + ",".join(sorted(flags)) + ",") if flags else ""})
            payloads.append(json.dumps(payload, ensure_ascii=False))
    for rec, sealed in zip(records, vault.seal_many(payloads), strict=True):
        rec["row_sealed"] = sealed
    conn = db.connection()
    for start in range(0, len(records), CHUNK):
        conn.execute(insert(ComparisonRow), records[start:start + CHUNK])


# --------------------------------------------------------------------------- reading
def _visible(principal: Principal | None, scope: str) -> bool:
    return principal is None or principal.is_office or scope == principal.unit_code


def comparison_out(c: Comparison) -> ComparisonOut:
    return ComparisonOut(id=c.id, unit_code=c.scope or None, target=c.target, resource_code=c.resource_code,
                         delivery_id=c.delivery_id, delivery_kind=c.delivery_kind,
                         previous_delivery_id=c.previous_delivery_id, incremental=c.incremental, key=c.key,
                         columns=c.columns, added=c.added, removed=c.removed, changed=c.changed,
                         unchanged=c.unchanged, previous_rows=c.previous_rows, field_counts=c.field_counts or {},
                         flags=[Flag(**f) for f in (c.flags or [])], created_at=c.created_at)


def list_comparisons(db: Session, *, principal: Principal | None = None, target: str | None = None,
                     unit_code: str | None = None, delivery_id: str | None = None, page: int = 1,
                     size: int = 20) -> tuple[list[Comparison], int]:
    """Newest first; a unit's operator sees only the unit's own."""
    stmt = select(Comparison)
    if target:
        stmt = stmt.where(Comparison.target == target)
    if unit_code is not None:
        stmt = stmt.where(Comparison.scope == unit_code)
    if delivery_id:
        stmt = stmt.where(Comparison.delivery_id == delivery_id)
    if principal is not None and not principal.is_office:
        stmt = stmt.where(Comparison.scope == principal.unit_code)
    total = int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    items = list(db.scalars(stmt.order_by(Comparison.created_at.desc(), Comparison.id.desc())
                            .limit(size).offset((page - 1) * size)))
    return items, total


def get_comparison(db: Session, *, comparison_id: str, principal: Principal | None = None) -> Comparison:
    c = db.get(Comparison, comparison_id)
    if c is None or not _visible(principal, c.scope):
        raise NotFound(T("比对结果 {i} 不存在", "Comparison {i} does not exist", i=comparison_id),
                       code="comparison_not_found")
    return c


def _check_unmask(principal: Principal | None, unmask: bool, purpose: str | None) -> None:
    if not unmask:
        return
    if principal is not None and not principal.has("pii:unmask"):
        raise Forbidden(T("您没有查看完整个人信息的权限（需要 pii:unmask）；请向安全管理员申请",
                          "You may not see personal values in full (pii:unmask needed); ask the security admin"),
                        code="unmask_forbidden")
    if not purpose or len(purpose.strip()) < 2:
        raise Invalid(T("查看完整个人信息须填写用途（至少 2 个字）", "Say why you need the values in full (purpose, 2+ characters)"),
                      code="purpose_required")


class _Masker:
    """Masks a row's personal values for display: identifier and pii columns by their kind, and anything
    that looks like an ID or phone number in other text."""

    def __init__(self, columns: list[dict[str, Any]], masked: bool) -> None:
        self.kinds = {c["name"]: (c.get("id_kind") or "") for c in columns if c.get("pii") or _is_identifier(c)}
        self.masked = masked

    def value(self, name: str, value: Any) -> Any:
        if not self.masked or value is None:
            return value
        if name in self.kinds:
            return pii.mask(str(value), self.kinds[name])
        if isinstance(value, str) and _LOOKS_PERSONAL.search(value):
            return _LOOKS_PERSONAL.sub(lambda m: pii.mask(m.group(0)) or "", value)
        return value

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: self.value(k, v) for k, v in row.items()}


def _read_audit(db: Session, *, action: str, principal: Principal | None, object_type: str, object_id: str,
                masked: bool, purpose: str | None, ip: str | None, detail: dict[str, Any]) -> None:
    audit.record(db, action=action if masked else "pii.unmask", principal=principal, object_type=object_type,
                 object_id=object_id, purpose=None if masked else purpose, ip=ip,
                 detail={**detail, "masked": masked, "read": action})


def comparison_rows(db: Session, *, comparison_id: str, data_dir: Path, principal: Principal | None = None,
                    kind: str | None = None, field: str | None = None, page: int = 1, size: int = 50,
                    unmask: bool = False, purpose: str | None = None, ip: str | None = None) -> dict[str, Any]:
    """One page of a comparison's records, filtered by change kind and changed field; audited."""
    c = get_comparison(db, comparison_id=comparison_id, principal=principal)
    _check_unmask(principal, unmask, purpose)
    if kind is not None and kind not in KINDS:
        raise Invalid(T("变化类型须为 added、removed 或 changed", "kind must be added, removed or changed"),
                      code="compare_bad_filter")
    stmt = select(ComparisonRow).where(ComparisonRow.comparison_id == c.id)
    if kind:
        stmt = stmt.where(ComparisonRow.kind == kind)
    if field:
        stmt = stmt.where(ComparisonRow.fields.contains("," + field + ",", autoescape=True))
    total = int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    vault = pii.vault_for(data_dir)
    mask = _Masker(c.columns, not unmask)
    items = []
    for r in db.scalars(stmt.order_by(ComparisonRow.id).limit(size).offset((page - 1) * size)):
        payload = json.loads(vault.open(r.row_sealed))
        changes = {f: [mask.value(f, o), mask.value(f, n)] for f, (o, n) in (payload.get("changes") or {}).items()}
        items.append(RowOut(kind=r.kind, key=mask(payload["key"]), values=mask(payload["values"]), changes=changes,
                            flags=[f for f in r.flags.split(",") if f]))
    _read_audit(db, action="compare.read", principal=principal, object_type="comparison", object_id=c.id,
                masked=not unmask, purpose=purpose, ip=ip, detail={"kind": kind, "field": field, "page": page})
    return {"items": items, "total": total, "page": page, "size": size, "masked": not unmask}


def export_excel(db: Session, *, comparison_id: str, data_dir: Path, principal: Principal | None = None,
                 kind: str | None = None, field: str | None = None, unmask: bool = False,
                 purpose: str | None = None, ip: str | None = None) -> bytes:
    """The comparison as .xlsx: a summary sheet, then one sheet per change kind (changed: old → new)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    c = get_comparison(db, comparison_id=comparison_id, principal=principal)
    _check_unmask(principal, unmask, purpose)
    vault = pii.vault_for(data_dir)
    mask = _Masker(c.columns, not unmask)
    titles = {col["name"]: col.get("title") or col["name"] for col in c.columns}
    names = [col["name"] for col in c.columns]
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总 summary"
    ws.append(["对象 target", c.target])
    ws.append(["交付 delivery", c.delivery_id])
    ws.append(["上次交付 previous", c.previous_delivery_id or ""])
    for label, n in (("新增 added", c.added), ("删除 removed", c.removed), ("变更 changed", c.changed),
                     ("未变 unchanged", c.unchanged)):
        ws.append([label, n])
    for f in c.flags or []:
        ws.append(["可疑 suspicious", f.get("label"), f.get("count")])
    if not unmask:
        ws.append(["说明 note", "个人信息已遮蔽 / personal values masked"])
    highlight = PatternFill("solid", fgColor="FFF3BF")
    sheets = {"added": wb.create_sheet("新增 added"), "removed": wb.create_sheet("删除 removed"),
              "changed": wb.create_sheet("变更 changed")}
    for k, sheet in sheets.items():
        header = ([f"{titles.get(n, n)} (旧 old → 新 new)" for n in names] if k == "changed"
                  else [titles.get(n, n) for n in names])
        sheet.append(["可疑 flags", *header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    stmt = select(ComparisonRow).where(ComparisonRow.comparison_id == c.id).order_by(ComparisonRow.id)
    if kind:
        stmt = stmt.where(ComparisonRow.kind == kind)
    if field:
        stmt = stmt.where(ComparisonRow.fields.contains("," + field + ",", autoescape=True))
    rows = 0
    for r in db.scalars(stmt):
        payload = json.loads(vault.open(r.row_sealed))
        values = mask(payload["values"])
        flags = r.flags.strip(",")
        if r.kind == "changed":
            ch = payload.get("changes") or {}
            line = [f"{mask.value(n, ch[n][0])} → {mask.value(n, ch[n][1])}" if n in ch else values.get(n)
                    for n in names]
            sheets["changed"].append([flags, *line])
            for i, n in enumerate(names, start=2):
                if n in ch:
                    sheets["changed"].cell(row=sheets["changed"].max_row, column=i).fill = highlight
        else:
            sheets[r.kind].append([flags, *[values.get(n) for n in names]])
        rows += 1
    _read_audit(db, action="compare.export", principal=principal, object_type="comparison", object_id=c.id,
                masked=not unmask, purpose=purpose, ip=ip, detail={"rows": rows, "kind": kind, "field": field})
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _last_delivery(db: Session, *, target: str, scope: str) -> Delivery:
    last = db.scalar(select(Delivery).where(Delivery.target == target, Delivery.scope == scope)
                     .order_by(Delivery.received_at.desc(), Delivery.id.desc()).limit(1))
    if last is None:
        raise NotFound(T("{t} 还没有交付历史；导入或接收一次带业务主键的数据后再查",
                         "{t} has no delivery history yet; import or receive data with a business key first",
                         t=target), code="compare_no_history")
    return last


def _key_values(key_cols: list[str], key: dict[str, Any] | list[Any] | str) -> list[Any]:
    if isinstance(key, str):
        key = [key]
    if isinstance(key, dict):
        missing = [k for k in key_cols if k not in key]
        if missing:
            raise Invalid(T("请给出业务主键的全部字段：{k}", "Give every business key column: {k}",
                            k=", ".join(missing)), code="compare_key_incomplete")
        return [key[k] for k in key_cols]
    if len(key) != len(key_cols):
        raise Invalid(T("业务主键有 {n} 个字段（{k}），请逐一给出", "The business key has {n} columns ({k}); give each",
                        n=len(key_cols), k=", ".join(key_cols)), code="compare_key_incomplete")
    return list(key)


def record_history(db: Session, *, target: str, key: dict[str, Any] | list[Any] | str, data_dir: Path,
                   unit_code: str | None = None, principal: Principal | None = None, unmask: bool = False,
                   purpose: str | None = None, ip: str | None = None) -> dict[str, Any]:
    """Every version of one record, oldest first, with when it was valid and which delivery made or ended it."""
    scope = unit_code or ""
    if not _visible(principal, scope):
        raise NotFound(T("{t} 还没有交付历史", "{t} has no delivery history", t=target), code="compare_no_history")
    _check_unmask(principal, unmask, purpose)
    last = _last_delivery(db, target=target, scope=scope)
    values = _key_values(last.key, key)
    vault = pii.vault_for(data_dir)
    found = history.versions(db, vault, scope=scope, target=target,
                             key_index=vault.blind_index(history.key_text(values)))
    mask = _Masker(_columns_for(db, target, scope), not unmask)
    _read_audit(db, action="compare.history", principal=principal, object_type="record", object_id=target,
                masked=not unmask, purpose=purpose, ip=ip, detail={"versions": len(found)})
    return {"target": target, "unit_code": unit_code, "key": mask(dict(zip(last.key, values, strict=True))),
            "versions": [VersionOut(**{**v, "values": mask(v["values"])}) for v in found], "masked": not unmask}


def _columns_for(db: Session, target: str, scope: str) -> list[dict[str, Any]]:
    c = db.scalar(select(Comparison.columns).where(Comparison.target == target, Comparison.scope == scope)
                  .order_by(Comparison.created_at.desc()).limit(1))
    return c if c is not None else _columns_of(db, target, [])


def as_of(db: Session, target: str, at: datetime, *, key: dict[str, Any] | list[Any] | str | None = None,
          unit_code: str | None = None, data_dir: Path | None = None) -> list[dict[str, Any]]:
    """The records of ``target`` (from ``unit_code``'s deliveries) as they were at ``at``, values in clear
    (for services; the API masks them). With ``key``, only that record (an empty list if it did not exist)."""
    scope = unit_code or ""
    vault = pii.vault_for(data_dir or Settings().resolved_data_dir)
    last = _last_delivery(db, target=target, scope=scope)
    key_index = vault.blind_index(history.key_text(_key_values(last.key, key))) if key is not None else None
    rows, _ = history.as_of(db, vault, scope=scope, target=target, at=at, key_index=key_index)
    return [r["values"] for r in rows]


def _moment(at: datetime) -> datetime:
    try:
        return as_utc(at)
    except OverflowError as exc:
        raise Invalid(T("时间点超出范围：请给出公元 1 年到 9999 年之间的日期时间",
                        "The moment is out of range: give a date-time between the years 1 and 9999"),
                      code="compare_bad_moment") from exc


def as_of_page(db: Session, *, target: str, at: datetime, data_dir: Path, key: Any = None,
               unit_code: str | None = None, principal: Principal | None = None, page: int = 1, size: int = 50,
               unmask: bool = False, purpose: str | None = None, ip: str | None = None) -> dict[str, Any]:
    """One page of the state as of ``at`` for the API: masked unless shown in full; audited."""
    scope = unit_code or ""
    if not _visible(principal, scope):
        raise NotFound(T("{t} 还没有交付历史", "{t} has no delivery history", t=target), code="compare_no_history")
    _check_unmask(principal, unmask, purpose)
    at = _moment(at)
    last = _last_delivery(db, target=target, scope=scope)
    vault = pii.vault_for(data_dir)
    key_index = vault.blind_index(history.key_text(_key_values(last.key, key))) if key is not None else None
    rows, total = history.as_of(db, vault, scope=scope, target=target, at=at, key_index=key_index, limit=size,
                                offset=(page - 1) * size)
    mask = _Masker(_columns_for(db, target, scope), not unmask)
    columns: list[str] = []
    for r in rows:
        for c in r["values"]:
            if c not in columns:
                columns.append(c)
    _read_audit(db, action="compare.as_of", principal=principal, object_type="table", object_id=target,
                masked=not unmask, purpose=purpose, ip=ip, detail={"at": as_utc(at).isoformat(), "page": page})
    return {"target": target, "unit_code": unit_code, "at": as_utc(at), "columns": columns,
            "items": [VersionOut(**{**r, "values": mask(r["values"])}) for r in rows], "total": total,
            "page": page, "size": size, "masked": not unmask}


def list_targets(db: Session, *, principal: Principal | None = None) -> list[TargetOut]:
    """Every (unit, target) with history, for the history page's picker."""
    stmt = select(Delivery.target, Delivery.scope, func.count(), func.max(Delivery.received_at)).group_by(
        Delivery.target, Delivery.scope).order_by(Delivery.target, Delivery.scope)
    out = []
    for target, scope, n, last_at in db.execute(stmt):
        if not _visible(principal, scope):
            continue
        last = _last_delivery(db, target=target, scope=scope)
        topic, _, name = target.partition(".")
        out.append(TargetOut(target=target, unit_code=scope or None, key=last.key, deliveries=n, last_at=last_at,
                             target_label=warehouse.table_label(db, topic=topic, name=name)))
    return out


# --------------------------------------------------------------------------- the import-run hook
def compare_import_run(db: Session, *, data_dir: Path, run_id: str, target: str, resource_code: str | None,
                       mode: str, key: list[str], frames: list[pl.DataFrame],
                       unit_code: str | None = None, ignore: Sequence[str] = ()) -> Comparison | None:
    """Called by a successful import run (``collect.runs.flows``) with the rows it loaded: compare them with the
    target's previous delivery (replace and upsert runs deliver a full snapshot, append runs an increment) and
    move the history on. A target without a business key (``key`` or the table's) is not compared. A failure
    here is logged and never fails the import: the run's rows are already loaded."""
    topic, _, name = target.partition(".")
    table = warehouse.find_table(db, topic=topic, name=name)
    key = list(key or (table.key if table is not None else []))
    if not key or not frames:
        return None
    frame = pl.concat(frames, how="diagonal_relaxed")
    frame = frame.drop([c for c in ignore if c in frame.columns])  # e.g. a delivery's provenance columns
    try:
        with db.begin_nested():
            return compare_delivery(db, resource_code=resource_code, unit_code=unit_code, target=target,
                                    delivery_id=run_id, delivery_kind="import_run", frame=frame, key=key,
                                    incremental=mode == "append", data_dir=data_dir)
    except Exception:  # the import stands; the comparison is missing and the log says why
        log.exception("comparison of import run failed")
        return None


def comparison_for(db: Session, *, delivery_id: str) -> dict[str, Any] | None:
    """The counts and flags of a delivery's comparison (for its receipt), or None (first delivery, no key)."""
    c = db.scalars(select(Comparison).where(Comparison.delivery_id == delivery_id)
                   .order_by(Comparison.created_at.desc()).limit(1)).first()
    if c is None:
        return None
    return {"id": c.id, "added": c.added, "removed": c.removed, "changed": c.changed, "unchanged": c.unchanged,
            "flags": [f.get("code") for f in (c.flags or [])]}
