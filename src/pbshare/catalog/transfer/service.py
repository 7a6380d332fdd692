"""Catalog import and export: YAML/JSON in the sample catalog's shape, the Excel layout (one row per
info item, resource columns repeated) and DCAT-AP JSON-LD for catalog harvesters.

An import is checked in full first; any bad row is reported with sheet, row, column and reason and
nothing is applied. A good import is applied in one transaction.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import ValidationError
from python_calamine import CalamineWorkbook
from sqlalchemy.orm import Session

from pbshare.catalog.attributes import service as attribute_service
from pbshare.catalog.editions import service as edition_service
from pbshare.catalog.resources import documents
from pbshare.catalog.resources import service as resource_service
from pbshare.catalog.resources.enums import ResourceState
from pbshare.catalog.resources.schemas import ResourceDoc
from pbshare.catalog.transfer.schemas import ImportReport
from pbshare.core.errors import Invalid, TooLarge
from pbshare.core.i18n import T
from pbshare.security.audit import service as audit
from pbshare.units import service as unit_service
from pbshare.units.enums import SharingState, UnitKind
from pbshare.units.principal import Principal

if TYPE_CHECKING:
    from pbshare.catalog.resources.models import Resource
    from pbshare.units.models import Unit

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_RESOURCES = 5000
SHEET_CATALOG, SHEET_UNITS, SHEET_RESOURCES = "目录", "单位", "信息资源"
LIST_SEP = ";"

# Chinese labels used in the Excel layout; import accepts the label or the code.
LABELS: dict[str, dict[str, str]] = {
    "direction": {"inbound": "汇入", "outbound": "推送"},
    "share_type": {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"},
    "method": {"api": "接口", "subscription": "订阅", "file": "文件", "portal": "门户"},
    "open_scope": {"public": "公开", "on_request": "依申请公开", "not_public": "不公开"},
    "frequency": {"realtime": "实时", "daily": "每日", "weekly": "每周", "monthly": "每月", "quarterly": "每季度",
                  "yearly": "每年"},
    "format": {"database": "数据库", "file": "文件", "api": "接口"},
    "type": {"string": "字符串", "integer": "整数", "decimal": "小数", "date": "日期", "datetime": "日期时间",
             "boolean": "布尔", "enum": "枚举"},
    "id_kind": {"cn_ric": "居民身份证号码", "uscc": "统一社会信用代码", "phone": "手机号码"},
    "kind": {"office": "管理署", "court": "法院", "natural_resources": "规划和自然资源", "housing": "住房和建设",
             "public_security": "公安", "civil_affairs": "民政", "market_regulation": "市场监督管理",
             "social_security": "人力资源和社会保障", "provident_fund": "住房公积金", "tax": "税务",
             "medical_security": "医疗保障", "credit": "信用", "gov_data_authority": "政务数据管理",
             "gov_hub": "政务信息资源共享平台", "other": "其他"},
    "state": {"negotiating": "协商中", "integrated": "已接入", "left": "已退出"},
}
_FROM_LABEL = {f: {v: k for k, v in m.items()} for f, m in LABELS.items()}

RESOURCE_COLUMNS: list[tuple[str, str]] = [
    ("code", "资源代码"), ("name", "资源名称"), ("classification", "分类代码"), ("abstract", "资源摘要"),
    ("provider", "提供单位"), ("direction", "方向"), ("receivers", "接收单位"), ("share_type", "共享类型"),
    ("share_condition", "共享条件"), ("method", "共享方式"), ("open_scope", "开放属性"), ("frequency", "更新频率"),
    ("format", "资源格式"), ("key", "业务主键"), ("related", "关联资源"),
]
ITEM_COLUMNS: list[tuple[str, str]] = [
    ("code", "信息项代码"), ("name", "信息项名称"), ("type", "数据类型"), ("length", "长度"),
    ("description", "信息项说明"), ("pii", "个人标识"), ("id_kind", "标识类型"), ("values", "取值范围"),
]
UNIT_COLUMNS: list[tuple[str, str]] = [
    ("code", "单位代码"), ("name", "单位名称"), ("kind", "单位类型"), ("credit_code", "统一社会信用代码"),
    ("state", "共享状态"), ("description", "说明"), ("contacts", "联系人(JSON)"), ("systems", "接入系统(JSON)"),
]
ATTR_PREFIX = "属性:"
_LIST_FIELDS = {"receivers", "method", "key", "related"}


@dataclass
class Problem:
    sheet: str
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class Locator:
    """Where each part of a parsed catalog came from, so problems point at the user's own file."""

    kind: str  # yaml | excel
    resource_rows: dict[int, list[int]] = field(default_factory=dict)  # resource index -> Excel rows
    item_rows: dict[tuple[int, int], int] = field(default_factory=dict)  # (resource, item) -> Excel row
    unit_rows: dict[int, int] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # field name (or item.<f>) -> "C 分类代码"

    def resource(self, index: int, path: str, reason: str) -> Problem:
        if self.kind != "excel":
            return Problem("resources", index + 1, path or "-", reason)
        rows = self.resource_rows.get(index, [0])
        if path.startswith("items[") and "]" in path:
            n = int(path[6:path.index("]")])
            rest = path[path.index("]") + 2:] or "code"
            return Problem(SHEET_RESOURCES, self.item_rows.get((index, n), rows[0]),
                           self.columns.get(f"item.{rest}", rest), reason)
        if path.startswith("attributes."):
            return Problem(SHEET_RESOURCES, rows[0], self.columns.get(path, ATTR_PREFIX + path[11:]), reason)
        return Problem(SHEET_RESOURCES, rows[0], self.columns.get(path.split(".")[0], path), reason)

    def unit(self, index: int, path: str, reason: str) -> Problem:
        if self.kind != "excel":
            return Problem("units", index + 1, path, reason)
        return Problem(SHEET_UNITS, self.unit_rows.get(index, 0), self.columns.get(f"unit.{path}", path), reason)


# ---------------------------------------------------------------- export


def unit_document(unit: Unit) -> dict:
    out: dict[str, Any] = {"code": unit.code, "name": unit.name, "kind": unit.kind}
    if unit.credit_code:
        out["credit_code"] = unit.credit_code
    if unit.state != SharingState.negotiating:
        out["state"] = unit.state
    if unit.description:
        out["description"] = unit.description
    if unit.contacts:
        out["contacts"] = unit.contacts
    if unit.systems:
        out["systems"] = unit.systems
    return out


def catalog_document(db: Session, *, published_only: bool = False) -> dict:
    """The whole catalog in the sample's shape: working copies, or only the versions in effect."""
    return {"catalog": edition_service.catalog_header(db),
            "units": [unit_document(u) for u in unit_service.list_units(db)],
            "resources": resource_service.catalog_documents(db, published_only=published_only)}


def to_yaml(doc: dict) -> bytes:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000).encode("utf-8")


def to_json(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _label(fld: str, value: Any) -> str:
    return LABELS.get(fld, {}).get(value, value)


def _cell(fld: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return LIST_SEP.join(str(_label(fld, v)) for v in value)
    if isinstance(value, bool):
        return "是" if value else None
    return _label(fld, value)


def to_excel(doc: dict, *, attribute_codes: list[str] | None = None) -> bytes:
    """One row per info item, the resource's columns repeated on each of its rows."""
    wb = Workbook()
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    ws = wb.active
    ws.title = SHEET_CATALOG
    ws.append(["项目", "值"])
    header = doc.get("catalog", {})
    for key, label in (("name", "目录名称"), ("version", "版本"), ("publisher", "发布单位")):
        ws.append([label, header.get(key)])
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 14, 40

    wu = wb.create_sheet(SHEET_UNITS)
    wu.append([label for _, label in UNIT_COLUMNS])
    for u in doc.get("units", []):
        wu.append([
            json.dumps(u[f], ensure_ascii=False) if f in ("contacts", "systems") and u.get(f) else _cell(f, u.get(f))
            for f, _ in UNIT_COLUMNS])

    attrs = list(attribute_codes or [])
    for r in doc.get("resources", []):
        for a in r.get("attributes", {}):
            if a not in attrs:
                attrs.append(a)
    wr = wb.create_sheet(SHEET_RESOURCES)
    wr.append([label for _, label in RESOURCE_COLUMNS] + [ATTR_PREFIX + a for a in attrs]
              + [label for _, label in ITEM_COLUMNS])
    for r in doc.get("resources", []):
        base = [_cell(f, r.get(f)) for f, _ in RESOURCE_COLUMNS]
        base += [_attr_cell(r.get("attributes", {}).get(a)) for a in attrs]
        for item in r.get("items") or [{}]:
            wr.append(base + [_cell(f, item.get(f)) if item else None for f, _ in ITEM_COLUMNS])
    for sheet in (ws, wu, wr):
        for c in sheet[1]:
            c.font, c.fill = head_font, head_fill
        sheet.freeze_panes = "A2"
    for n in range(1, wr.max_column + 1):
        wr.column_dimensions[get_column_letter(n)].width = 16
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _attr_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or isinstance(value, (str, int, float)):
        return value
    return json.dumps(value, ensure_ascii=False)


def _attr_from_cell(kind: str | None, value: Any) -> Any:
    """A custom attribute's cell back to its value, by the attribute's declared type."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind == "number":
        if isinstance(value, (int, float)):
            return int(value) if isinstance(value, float) and value.is_integer() else value
        try:
            number = float(str(value).strip())
        except ValueError:
            return str(value)
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        text = str(value).strip().lower()
        if text in ("是", "true", "1", "yes"):
            return True
        if text in ("否", "false", "0", "no"):
            return False
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


DCAT_FREQUENCY = {"realtime": "CONT", "daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY",
                  "quarterly": "QUARTERLY", "yearly": "ANNUAL"}
DCAT_ACCESS = {"public": "PUBLIC", "on_request": "RESTRICTED", "not_public": "NON_PUBLIC"}
EU = "http://publications.europa.eu/resource/authority/"


def to_dcat(db: Session, *, base_url: str = "urn:pbshare:") -> dict:
    """The published catalog as DCAT-AP JSON-LD (dcat:Catalog with one dcat:Dataset per resource)."""
    doc = catalog_document(db, published_only=True)
    units = {u["code"]: u for u in doc["units"]}
    issued, modified = resource_service.publication_dates(db)

    def agent(code: str) -> dict:
        u = units.get(code, {"name": code})
        out: dict[str, Any] = {"@id": f"{base_url}unit/{code}", "@type": "foaf:Agent",
                               "foaf:name": {"@value": u["name"], "@language": "zh"}, "dct:identifier": code}
        if u.get("credit_code"):
            out["adms:identifier"] = u["credit_code"]
        return out

    datasets = []
    for r in doc["resources"]:
        ds: dict[str, Any] = {
            "@id": f"{base_url}resource/{r['code']}", "@type": "dcat:Dataset",
            "dct:identifier": r["code"],
            "dct:title": {"@value": r["name"], "@language": "zh"},
            "dct:publisher": agent(r["provider"]),
            "dct:accrualPeriodicity": {"@id": EU + "frequency/" + DCAT_FREQUENCY[r["frequency"]]},
            "dct:accessRights": {"@id": EU + "access-right/" + DCAT_ACCESS[r["open_scope"]]},
            "dcat:theme": {"@id": f"{base_url}classification/{r.get('classification') or documents.default_classification(r['code'])}"},
            "dcat:keyword": [{"@value": i["name"], "@language": "zh"} for i in r["items"]],
            "dcat:distribution": [{
                "@id": f"{base_url}resource/{r['code']}/{m}", "@type": "dcat:Distribution",
                "dct:title": {"@value": LABELS["method"][m], "@language": "zh"},
                "dct:format": {"@id": EU + "file-type/" + ("JSON" if m in ("api", "subscription") else "CSV")},
                "dcat:accessURL": {"@id": f"{base_url}resource/{r['code']}/{m}"},
            } for m in r["method"]],
            "adms:versionNotes": r.get("share_condition") or LABELS["share_type"][r["share_type"]],
            "dct:conformsTo": {"@id": "urn:gb-t:21063.3"},
        }
        if r.get("abstract"):
            ds["dct:description"] = {"@value": r["abstract"], "@language": "zh"}
        if r["code"] in issued:
            ds["dct:issued"] = {"@value": issued[r["code"]].date().isoformat(), "@type": "xsd:date"}
        if r["code"] in modified:
            ds["dct:modified"] = {"@value": modified[r["code"]].date().isoformat(), "@type": "xsd:date"}
        if r.get("related"):
            ds["dct:relation"] = [{"@id": f"{base_url}resource/{c}"} for c in r["related"]]
        datasets.append(ds)
    return {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "foaf": "http://xmlns.com/foaf/0.1/", "xsd": "http://www.w3.org/2001/XMLSchema#",
                     "adms": "http://www.w3.org/ns/adms#", "owl": "http://www.w3.org/2002/07/owl#"},
        "@id": f"{base_url}catalog", "@type": "dcat:Catalog",
        "dct:title": {"@value": doc["catalog"]["name"], "@language": "zh"},
        "dct:publisher": agent(doc["catalog"]["publisher"]),
        "owl:versionInfo": doc["catalog"].get("version", ""),
        "dcat:dataset": datasets,
    }


# ---------------------------------------------------------------- parse


def parse_text(content: bytes, *, filename: str = "") -> tuple[dict, Locator]:
    if len(content) > MAX_IMPORT_BYTES:
        raise TooLarge(T("文件超过 {n} MB", "The file is larger than {n} MB", n=MAX_IMPORT_BYTES // 1024 // 1024))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(T("文件不是 UTF-8 编码的文本", "The file is not UTF-8 text"), code="bad_encoding") from None
    try:
        data = json.loads(text) if filename.lower().endswith(".json") else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else str(getattr(exc, "lineno", "?"))
        raise Invalid(T("文件格式错误（第 {w} 行附近），请检查缩进和引号", "The file cannot be read (near line {w}); check "
                        "indentation and quotes", w=where), code="bad_file") from None
    return _normalise_yaml(data), Locator(kind="yaml")


def _normalise_yaml(data: Any) -> Any:
    # YAML reads an unquoted 101001 as a number; codes are text.
    if isinstance(data, dict):
        for r in data.get("resources") or []:
            if isinstance(r, dict):
                for f in ("code", "classification", "provider"):
                    if isinstance(r.get(f), int):
                        r[f] = str(r[f])
                for f in ("related", "receivers"):
                    if isinstance(r.get(f), list):
                        r[f] = [str(v) for v in r[f]]
    return data


def _from_cell(fld: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return [] if fld in _LIST_FIELDS else None
    if fld in _LIST_FIELDS or fld == "values":
        parts = [p.strip() for p in str(value).replace("；", LIST_SEP).split(LIST_SEP)]
        return [_FROM_LABEL.get(fld, {}).get(p, p) for p in parts if p]
    if fld == "pii":
        return str(value).strip().lower() in ("是", "true", "1", "yes", "y")
    if fld == "length":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    value = str(value).strip()
    return _FROM_LABEL.get(fld, {}).get(value, value)


def parse_excel(content: bytes, *, attr_types: dict[str, str] | None = None) -> tuple[dict, Locator, list[Problem]]:
    if len(content) > MAX_IMPORT_BYTES:
        raise TooLarge(T("文件超过 {n} MB", "The file is larger than {n} MB", n=MAX_IMPORT_BYTES // 1024 // 1024))
    try:
        # python-calamine reads several times faster than openpyxl; values come typed (numbers as float).
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    except Exception:  # calamine raises its own error kinds for a file that is not a workbook
        raise Invalid(T("无法读取 Excel 文件，请用 .xlsx 格式保存后重试", "The Excel file cannot be read; save it as "
                        ".xlsx and try again"), code="bad_file") from None

    def sheet_rows(name: str) -> list[list[Any]]:
        # Keep leading blank rows so row numbers in problem reports match what Excel shows.
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        return [[None if v == "" else v for v in r] for r in rows]

    sheetnames = book.sheet_names
    loc = Locator(kind="excel")
    problems: list[Problem] = []
    if SHEET_RESOURCES not in sheetnames:
        raise Invalid(T("缺少工作表“{s}”（请以导出的模板为准）", "The sheet “{s}” is missing (start from an exported file)",
                        s=SHEET_RESOURCES), code="bad_file")
    data: dict[str, Any] = {}
    if SHEET_CATALOG in sheetnames:
        header = {}
        for row in sheet_rows(SHEET_CATALOG)[1:]:
            if row and row[0]:
                key = {"目录名称": "name", "版本": "version", "发布单位": "publisher"}.get(str(row[0]).strip())
                if key and len(row) > 1 and row[1] is not None:
                    header[key] = str(row[1]).strip()
        data["catalog"] = header
    if SHEET_UNITS in sheetnames:
        units: list[dict[str, Any]] = []
        rows = iter(sheet_rows(SHEET_UNITS))
        head = [str(h or "").strip() for h in next(rows, [])]
        by_label = {label: f for f, label in UNIT_COLUMNS}
        cols = {by_label.get(h, h): n for n, h in enumerate(head)}
        for f, label in UNIT_COLUMNS:
            if f in cols:
                loc.columns[f"unit.{f}"] = f"{get_column_letter(cols[f] + 1)} {label}"
        for rn, row in enumerate(rows, start=2):
            if not any(v not in (None, "") for v in row):
                continue
            u: dict[str, Any] = {}
            for f, n in cols.items():
                v = row[n] if n < len(row) else None
                if v in (None, ""):
                    continue
                if f in ("contacts", "systems"):
                    try:
                        u[f] = json.loads(v) if isinstance(v, str) else v
                    except json.JSONDecodeError:
                        problems.append(Problem(SHEET_UNITS, rn, loc.columns.get(f"unit.{f}", f),
                                                T("不是有效的 JSON", "Not valid JSON").render()))
                else:
                    u[f] = _from_cell(f, v)
            loc.unit_rows[len(units)] = rn
            units.append(u)
        data["units"] = units
    rows = iter(sheet_rows(SHEET_RESOURCES))
    head = [str(h or "").strip() for h in next(rows, [])]
    res_labels = {label: f for f, label in RESOURCE_COLUMNS}
    item_labels = {label: f for f, label in ITEM_COLUMNS}
    res_cols: dict[str, int] = {}
    item_cols: dict[str, int] = {}
    attr_cols: dict[str, int] = {}
    for n, h in enumerate(head):
        letter = get_column_letter(n + 1)
        if h in res_labels:
            res_cols[res_labels[h]] = n
            loc.columns[res_labels[h]] = f"{letter} {h}"
        elif h in item_labels:
            item_cols[item_labels[h]] = n
            loc.columns[f"item.{item_labels[h]}"] = f"{letter} {h}"
        elif h.startswith(ATTR_PREFIX):
            attr_cols[h[len(ATTR_PREFIX):]] = n
            loc.columns[f"attributes.{h[len(ATTR_PREFIX):]}"] = f"{letter} {h}"
    for f, label in RESOURCE_COLUMNS[:2] + ITEM_COLUMNS[:1]:
        if f not in res_cols and f not in item_cols:
            raise Invalid(T("工作表“{s}”缺少列“{c}”", "The sheet “{s}” lacks the column “{c}”", s=SHEET_RESOURCES, c=label),
                          code="bad_file")
    resources: list[dict] = []
    index: dict[str, int] = {}
    first_values: dict[int, dict] = {}
    for rn, row in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in row):
            continue

        def val(n: int, row=row) -> Any:
            return row[n] if n < len(row) else None

        code = _from_cell("code", val(res_cols["code"]))
        if not code:
            problems.append(Problem(SHEET_RESOURCES, rn, loc.columns["code"], T("资源代码为空", "The resource code is "
                                                                                "empty").render()))
            continue
        values = {f: _from_cell(f, val(n)) for f, n in res_cols.items()}
        attrs = {}
        for a, n in attr_cols.items():
            v = _attr_from_cell((attr_types or {}).get(a), val(n))
            if v is not None:
                attrs[a] = v
        values["attributes"] = attrs
        if code not in index:
            index[code] = len(resources)
            first_values[index[code]] = values
            loc.resource_rows[index[code]] = [rn]
            resources.append({k: v for k, v in values.items() if v not in (None, [], {})} | {"items": []})
        else:
            i = index[code]
            loc.resource_rows[i].append(rn)
            for f, v in values.items():
                if v != first_values[i].get(f):
                    col = loc.columns.get(f, f) if f != "attributes" else "属性"
                    problems.append(Problem(SHEET_RESOURCES, rn, col, T(
                        "同一资源 {c} 的各行此列应相同（与第 {r} 行不同）",
                        "Rows of the same resource {c} must repeat the same value here (differs from row {r})",
                        c=code, r=loc.resource_rows[i][0]).render()))
        i = index[code]
        item = {f: _from_cell(f, val(n)) for f, n in item_cols.items()}
        if any(v not in (None, [], False) for v in item.values()):
            clean = {k: v for k, v in item.items() if v is not None and not (k == "values" and v == [])}
            loc.item_rows[(i, len(resources[i]["items"]))] = rn
            resources[i]["items"].append(clean)
    data["resources"] = resources
    return data, loc, problems


# ---------------------------------------------------------------- import


def check_catalog(db: Session, data: Any, loc: Locator) -> tuple[list[dict], list[ResourceDoc], list[Problem]]:
    """Everything wrong with a parsed catalog; the units and resources ready to apply."""
    problems: list[Problem] = []
    if not isinstance(data, dict) or not isinstance(data.get("resources", []), list):
        raise Invalid(T("文件应包含 resources 列表（可选 catalog、units）", "The file needs a 'resources' list (and "
                        "optionally 'catalog' and 'units')"), code="bad_file")
    units_in = data.get("units") or []
    if len(data.get("resources") or []) > MAX_RESOURCES:
        raise TooLarge(T("一次最多导入 {n} 个资源", "At most {n} resources per import", n=MAX_RESOURCES))
    units: list[dict] = []
    seen_units: set[str] = set()
    for n, u in enumerate(units_in):
        if not isinstance(u, dict) or not u.get("code") or not u.get("name"):
            problems.append(loc.unit(n, "code", T("单位须有代码和名称", "A unit needs a code and a name").render()))
            continue
        u = {**u, "code": str(u["code"])}
        if u["code"] in seen_units:
            problems.append(loc.unit(n, "code", T("单位代码 {c} 重复", "The unit code {c} appears twice",
                                                  c=u["code"]).render()))
        seen_units.add(u["code"])
        if u.get("kind", "other") not in UnitKind.__members__:
            problems.append(loc.unit(n, "kind", T("未知的单位类型 {k}", "Unknown unit kind {k}", k=u.get("kind")).render()))
        if u.get("state") and u["state"] not in SharingState.__members__:
            problems.append(loc.unit(n, "state", T("未知的共享状态 {s}", "Unknown sharing state {s}",
                                                   s=u["state"]).render()))
        if u.get("credit_code"):
            try:
                unit_service.check_credit_code(str(u["credit_code"]))
            except Invalid as exc:
                problems.append(loc.unit(n, "credit_code", exc.message.render()))
        units.append(u)
    unit_codes = unit_service.unit_codes(db) | seen_units
    defs = attribute_service.attribute_defs(db)
    docs: list[ResourceDoc] = []
    seen: dict[str, int] = {}
    states = resource_service.states_by_code(db)
    for n, raw in enumerate(data.get("resources") or []):
        try:
            doc = ResourceDoc.model_validate(raw)
        except ValidationError as exc:
            for p in documents.pydantic_problems(exc):
                problems.append(loc.resource(n, p["field"], p["reason"]))
            continue
        if doc.code in seen:
            problems.append(loc.resource(n, "code", T("资源代码 {c} 重复（另见第 {r} 个）", "The resource code {c} appears "
                                                      "twice (see number {r})", c=doc.code, r=seen[doc.code] + 1).render()))
        seen[doc.code] = n
        if states.get(doc.code) == ResourceState.withdrawn:
            problems.append(loc.resource(n, "code", T("资源 {c} 已撤销，请先恢复再导入", "Resource {c} is withdrawn; "
                                                      "reinstate it before importing", c=doc.code).render()))
        for path, message in documents.document_problems(doc, unit_codes=unit_codes, defs=defs):
            problems.append(loc.resource(n, path, message.render()))
        docs.append(doc)
    return units, docs, problems


def import_catalog(db: Session, *, data: Any, loc: Locator, publish: bool = False,
                   principal: Principal | None = None, extra_problems: list[Problem] | None = None,
                   filename: str = "") -> ImportReport:
    """Check everything, then apply all of it in one transaction (or nothing).

    ``publish``: the file is an agreed official catalog; new and changed resources are published
    directly as new versions. Otherwise new resources are drafts and published ones become revisions.
    """
    units, docs, problems = check_catalog(db, data, loc)
    problems = list(extra_problems or []) + problems
    if problems:
        problems.sort(key=lambda p: (p.sheet, p.row))
        raise Invalid(T("导入文件有 {n} 处错误，未导入任何内容；请按列表修改后重新导入",
                        "The file has {n} errors and nothing was imported; fix them and import again", n=len(problems)),
                      code="import_rejected", detail=[p.as_dict() for p in problems[:500]])
    report = ImportReport(units=len(units), created=0, updated=0, unchanged=0, published=0)
    with db.begin_nested():
        header = data.get("catalog") if isinstance(data, dict) else None
        if header:
            edition_service.save_catalog_header(db, header)
        for u in units:
            unit = unit_service.upsert_unit(db, code=u["code"], name=u["name"], kind=u.get("kind", "other"),
                                       credit_code=u.get("credit_code"), state=u.get("state"))
            if "description" in u:
                unit.description = u["description"]
            if "contacts" in u:
                unit.contacts = list(u["contacts"])
            if "systems" in u:
                unit.systems = list(u["systems"])
        db.flush()
        # Everything was checked above: write it in bulk, then publish what needs publishing.
        by_code = {u.code: u for u in unit_service.list_units(db)}
        codes = [d.code for d in docs]
        existing: dict[str, Resource] = resource_service.resources_by_code(db, codes=codes)
        touched: list[str] = []
        for doc in docs:
            res = existing.get(doc.code)
            if res is None:
                res = resource_service.new_draft(db, doc, by_code)
                report.created += 1
                touched.append(doc.code)
            elif resource_service.apply_changes(db, res, doc, by_code):
                report.updated += 1
                touched.append(doc.code)
            else:
                report.unchanged += 1
            existing[doc.code] = res
        db.flush()
        if publish:
            for doc in docs:
                if existing[doc.code].state != ResourceState.published:
                    resource_service.publish(db, code=doc.code, principal=principal, without_consultation=True,
                                             note=T("由目录文件导入发布", "Published by catalog import").render("zh-CN"))
                    report.published += 1
    audit.record(db, action="catalog.import", principal=principal, object_type="catalog", object_id=filename or None,
                 detail={**report.model_dump(), "changed": touched})
    return report


def import_file(db: Session, *, content: bytes, filename: str, publish: bool = False,
                principal: Principal | None = None) -> ImportReport:
    """Import a ``.yaml``/``.yml``/``.json`` or ``.xlsx`` catalog file."""
    lower = filename.lower()
    if lower.endswith((".xlsx", ".xlsm")):
        types = {c: d.type for c, d in attribute_service.attribute_defs(db).items()}
        data, loc, problems = parse_excel(content, attr_types=types)
        return import_catalog(db, data=data, loc=loc, publish=publish, principal=principal, extra_problems=problems,
                              filename=filename)
    if lower.endswith((".yaml", ".yml", ".json")):
        data, loc = parse_text(content, filename=filename)
        return import_catalog(db, data=data, loc=loc, publish=publish, principal=principal, filename=filename)
    raise Invalid(T("只支持 .yaml、.json、.xlsx 文件", "Only .yaml, .json and .xlsx files can be imported"),
                  code="bad_file_type")


def export_catalog(db: Session, *, fmt: str, published_only: bool = False,
                   principal: Principal | None = None) -> tuple[bytes, str]:
    """The catalog as bytes and a media type; ``fmt`` is yaml, json, excel or dcat."""
    if fmt == "dcat":
        body, media = json.dumps(to_dcat(db), ensure_ascii=False, indent=2).encode("utf-8"), "application/ld+json"
    else:
        doc = catalog_document(db, published_only=published_only)
        if fmt == "yaml":
            body, media = to_yaml(doc), "application/yaml"
        elif fmt == "json":
            body, media = to_json(doc), "application/json"
        elif fmt == "excel":
            body = to_excel(doc, attribute_codes=list(attribute_service.attribute_defs(db)))
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            raise Invalid(T("导出格式须为 yaml、json、excel 或 dcat", "The format must be yaml, json, excel or dcat"),
                          code="bad_format")
    audit.record(db, action="catalog.export", principal=principal, object_type="catalog",
                 detail={"format": fmt, "published_only": published_only, "bytes": len(body)})
    return body, media


EXTENSIONS = {"yaml": "yaml", "json": "json", "excel": "xlsx", "dcat": "jsonld"}
