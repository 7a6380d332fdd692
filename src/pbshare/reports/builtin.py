"""The office's built-in dashboards, with live figures from the domains' services (no saved definition):
cases by stage and month; requests by unit (response times, overdue, rejection rates); deliveries and their
quality scores by unit; channel traffic and dead letters. The report viewer's home page shows them.

Each tile has the same shape as a query result (``columns`` + ``rows``) plus how to draw it, so the UI and the
exports treat built-in and saved tiles alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from pbshare.core.i18n import T, current_language
from pbshare.exchange.cases import service as cases_service
from pbshare.exchange.connections import service as connections_service
from pbshare.exchange.messaging import service as messaging_service
from pbshare.exchange.requests import service as requests_service
from pbshare.quality.reports import service as quality_service
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal


def _t(zh: str, en: str) -> str:
    return T(zh, en).render()


def _tile(key: str, title: str, chart: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]], *,
          x: str | None = None, y: list[str] | None = None, w: int = 6) -> dict[str, Any]:
    return {"key": key, "title": title, "chart": chart, "x": x, "y": y or [], "w": w,
            "columns": [{"name": n, "title": t} for n, t in columns], "rows": rows}


def _kpi(key: str, title: str, value: Any) -> dict[str, Any]:
    return _tile(key, title, "kpi", [("value", title)], [{"value": value}], y=["value"], w=3)


def cases_dashboard(db: Session, *, date_from: dt.date | None, date_to: dt.date | None) -> dict[str, Any]:
    en = current_language.get().startswith("en")
    by_stage = cases_service.cases_by_stage(db)
    labels = {str(k.value): v for k, v in cases_service.CASE_STAGE_LABELS.items()}
    stage_rows = [{"stage": labels[s][1 if en else 0] if s in labels else s, "cases": by_stage.get(s, 0)}
                  for s in list(labels) + [k for k in by_stage if k not in labels]]
    by_month = cases_service.cases_by_month(db, date_from=date_from, date_to=date_to)
    return {"key": "cases", "title": _t("案件", "Cases"), "tiles": [
        _kpi("cases_total", _t("案件总数", "Cases in all"), sum(by_stage.values())),
        _kpi("cases_period", _t("期间受理", "Accepted in the period"), sum(by_month.values())),
        _tile("cases_by_stage", _t("按阶段", "By stage"), "bar", [("stage", _t("阶段", "Stage")),
              ("cases", _t("案件数", "Cases"))], stage_rows, x="stage", y=["cases"]),
        _tile("cases_by_month", _t("按受理月份", "By month accepted"), "line", [("month", _t("月份", "Month")),
              ("cases", _t("案件数", "Cases"))], [{"month": m, "cases": n} for m, n in by_month.items()],
              x="month", y=["cases"]),
    ]}


def _unit_names(db: Session) -> tuple[dict[str, str], dict[str, str]]:
    units = unit_service.list_units(db)
    return {u.id: u.name for u in units}, {u.code: u.name for u in units}


def requests_dashboard(db: Session, *, date_from: dt.date | None, date_to: dt.date | None,
                       unit: str | None) -> dict[str, Any]:
    by_id, _ = _unit_names(db)
    stats = requests_service.stats_by_unit(db, date_from=date_from, date_to=date_to)
    rows = []
    for unit_id, s in sorted(stats.items(), key=lambda kv: -kv[1]["items"]):
        name = by_id.get(unit_id, unit_id)
        if unit and unit not in (name, unit_id):
            continue
        rows.append({"unit": name, "items": s["items"], "answered": s["answered"], "overdue": s["overdue"],
                     "avg_response_hours": s["avg_response_hours"], "rejection_rate": round(s["rejection_rate"] * 100, 1)})
    cols = [("unit", _t("数源单位", "Unit")), ("items", _t("查询事项", "Items")), ("answered", _t("已答复", "Answered")),
            ("overdue", _t("逾期", "Overdue")), ("avg_response_hours", _t("平均答复时长（小时）", "Mean response (h)")),
            ("rejection_rate", _t("退回率 %", "Rejected %"))]
    return {"key": "requests", "title": _t("查询请求", "Requests"), "tiles": [
        _kpi("requests_total", _t("查询事项", "Request items"), sum(r["items"] for r in rows)),
        _kpi("requests_overdue", _t("逾期未答复", "Overdue"), sum(r["overdue"] for r in rows)),
        _tile("requests_by_unit", _t("各单位答复情况", "Answers by unit"), "bar", cols[:4], rows, x="unit",
              y=["items", "answered", "overdue"]),
        _tile("requests_table", _t("各单位答复时长与退回率", "Response times and rejection rates"), "table", cols, rows),
    ]}


def quality_dashboard(db: Session, *, date_from: dt.date | None, date_to: dt.date | None,
                      unit: str | None) -> dict[str, Any]:
    _, by_code = _unit_names(db)
    stats = quality_service.scores_by_unit(db, date_from=date_from, date_to=date_to)
    rows = []
    for code, s in sorted(stats.items()):
        name = by_code.get(code, code or _t("（未指明）", "(none)"))
        if unit and unit not in (name, code):
            continue
        rows.append({"unit": name, "reports": s["reports"], "avg_score": s["avg_score"],
                     "rejected": s["verdicts"].get("rejected", 0)})
    cols = [("unit", _t("数源单位", "Unit")), ("reports", _t("报送/导入", "Deliveries")),
            ("avg_score", _t("平均质量分", "Mean quality score")), ("rejected", _t("被拒收", "Rejected"))]
    scored = [r["avg_score"] for r in rows if r["avg_score"] is not None]
    return {"key": "quality", "title": _t("报送与质量", "Deliveries and quality"), "tiles": [
        _kpi("quality_reports", _t("报送/导入次数", "Deliveries"), sum(r["reports"] for r in rows)),
        _kpi("quality_avg", _t("平均质量分", "Mean quality score"), round(sum(scored) / len(scored), 1) if scored else None),
        _tile("quality_by_unit", _t("各单位质量分", "Quality score by unit"), "bar", cols[:3], rows, x="unit",
              y=["avg_score"]),
        _tile("quality_table", _t("各单位报送", "Deliveries by unit"), "table", cols, rows),
    ]}


def channels_dashboard(db: Session) -> dict[str, Any]:
    traffic = messaging_service.traffic(db)
    rows = []
    for conn in connections_service.list_connections(db):
        t = traffic.get(conn.id, {})
        rows.append({"connection": conn.name, "channel": conn.channel, "in": t.get("in", 0), "out": t.get("out", 0),
                     "delivered": t.get("delivered", 0), "rejected": t.get("rejected", 0), "dead": t.get("dead", 0)})
    cols = [("connection", _t("连接", "Connection")), ("channel", _t("通道", "Channel")), ("in", _t("收到", "In")),
            ("out", _t("发出", "Out")), ("delivered", _t("已送达", "Delivered")), ("rejected", _t("拒收", "Rejected")),
            ("dead", _t("死信", "Dead letters"))]
    return {"key": "channels", "title": _t("通道流量", "Channel traffic"), "tiles": [
        _kpi("channels_in", _t("收到报文", "Messages in"), sum(r["in"] for r in rows)),
        _kpi("channels_dead", _t("死信", "Dead letters"), sum(r["dead"] for r in rows)),
        _tile("channels_traffic", _t("各连接流量", "Traffic by connection"), "bar", cols[:5], rows, x="connection",
              y=["in", "out", "delivered"]),
        _tile("channels_table", _t("各连接收发与死信", "In, out and dead letters"), "table", cols, rows),
    ]}


def dashboards(db: Session, *, principal: Principal | None, date_from: dt.date | None = None,
               date_to: dt.date | None = None, unit: str | None = None) -> list[dict[str, Any]]:
    """Counts only (no person's data), so reading them is not audited."""
    return [cases_dashboard(db, date_from=date_from, date_to=date_to),
            requests_dashboard(db, date_from=date_from, date_to=date_to, unit=unit),
            quality_dashboard(db, date_from=date_from, date_to=date_to, unit=unit),
            channels_dashboard(db)]
