"""Leaving the sharing (退出): terminating a unit's connection closes its API for good.

``preview`` says exactly what ``terminate`` will close, so the confirmation in the UI shows it: the
connection's keys (revoked: nothing signed with them is accepted again), the listener that stops
serving it, its queued messages that will not be sent, the unit's subscriptions that end and, when it
is the unit's last open connection, the unit's API clients (disabled, keys revoked), its place among the
receivers of the catalog's resources (a new version without it; the old versions stay) and its sharing state
(``left``: its later calls are told since when and whom to contact). History is kept:
every message in and out, every refusal, every request item and delivery stays readable.

Other parts of the exchange that hold something open for a unit register a ``Closer`` in ``CLOSERS``;
subscriptions (``exchange.subscriptions.service``) are closed through its service when it is installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T, current_language
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.enums import ConnectionState
from pbshare.exchange.leaving.schemas import ClosedItem, LeavePreview
from pbshare.exchange.messaging import service as messaging
from pbshare.security.audit import service as audit
from pbshare.security.clients import service as api_clients
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

MIN_REASON = 4
OPEN_STATES = (ConnectionState.draft.value, ConnectionState.testing.value, ConnectionState.live.value,
               ConnectionState.suspended.value)


@dataclass(frozen=True)
class Closer:
    """Something else a leaving unit holds open: what it is (preview) and how to close it (close → count)."""

    name: str
    preview: Callable[[Session, str, str, bool], list[ClosedItem]]  # (db, unit_id, connection_id, whole_unit)
    close: Callable[[Session, str, str, bool, str], int]  # (…, reason) -> how many closed


CLOSERS: list[Closer] = []


def _en() -> bool:
    return current_language.get().startswith("en")


def _t(zh: str, en: str) -> str:
    return en if _en() else zh


# subscriptions: K1's service when present ------------------------------------------------------------
def _subscriptions() -> ModuleType | None:
    try:
        return importlib.import_module("pbshare.exchange.subscriptions.service")
    except ImportError:
        return None


def _office() -> Principal:
    return Principal(user_id="system", username="system:leaving", display_name="system", unit_id="",
                     unit_code=unit_service.OFFICE_CODE, roles=frozenset(), permissions=frozenset(), via="token")


def _open_subscriptions(db: Session, unit_id: str, connection_id: str, whole_unit: bool) -> list[Any]:
    subs_mod = _subscriptions()
    if subs_mod is None or not hasattr(subs_mod, "list_subscriptions"):
        return []
    unit = unit_service.get_unit(db, unit_id=unit_id)
    subs = subs_mod.list_subscriptions(db, principal=_office(), unit_code=unit.code)
    return [s for s in subs if s.state in ("pending", "active") and (whole_unit or s.connection_id == connection_id)]


def _preview_subscriptions(db: Session, unit_id: str, connection_id: str, whole_unit: bool) -> list[ClosedItem]:
    return [ClosedItem(kind="subscription", id=s.id, label=f"{s.resource_code}",
                       detail=_t(f"订阅 {s.resource_code}（{s.state}）将结束，不再推送",
                                 f"subscription to {s.resource_code} ({s.state}) ends; nothing more is pushed"))
            for s in _open_subscriptions(db, unit_id, connection_id, whole_unit)]


def _close_subscriptions(db: Session, unit_id: str, connection_id: str, whole_unit: bool, reason: str) -> int:
    subs_mod = _subscriptions()
    if subs_mod is None:
        return 0
    subs = _open_subscriptions(db, unit_id, connection_id, whole_unit)
    for s in subs:
        subs_mod.end(db, subscription_id=s.id, reason=f"退出共享 / left the sharing: {reason}"[:500], principal=None)
    return len(subs)


CLOSERS.append(Closer("subscriptions", _preview_subscriptions, _close_subscriptions))


# the catalog: a unit that leaves is no longer a receiver of the office's resources -------------------------
def _receiver_detail(entry: dict[str, Any], unit_code: str) -> str:
    if entry["action"] == "publish":
        return _t(f"从接收单位中移除 {unit_code}，即时发布第 {entry['version'] + 1} 版（第 {entry['version']} 版及以前留存可查）",
                  f"{unit_code} is taken off its receivers; version {entry['version'] + 1} is published at once "
                  f"(version {entry['version']} and earlier stay readable)")
    if entry["action"] == "draft":
        return _t(f"从工作稿的接收单位中移除 {unit_code}（{entry['state']}），随下次发布生效",
                  f"{unit_code} is taken off the working copy's receivers ({entry['state']}); in effect with the "
                  "next publication")
    return _t(f"{unit_code} 是该推送资源唯一的接收单位，目录不自动改动：请数据管理员另设接收单位或撤销该资源",
              f"{unit_code} is this outbound resource's only receiver, so the catalog is not changed by itself: a "
              "data administrator names another receiver or withdraws the resource")


def _preview_receivers(db: Session, unit_id: str, connection_id: str, whole_unit: bool) -> list[ClosedItem]:
    if not whole_unit:
        return []
    unit = unit_service.get_unit(db, unit_id=unit_id)
    items = [ClosedItem(kind="catalog_receiver", id=e["code"], label=f"{e['code']} {e['name']}",
                        detail=_receiver_detail(e, unit.code)) for e in catalog.received_by(db, unit_code=unit.code)]
    items.append(ClosedItem(kind="unit_state", id=unit.id, label=unit.code,
                            detail=_t("单位共享状态改为“已退出”：此后的调用与消息均答复退出日期和联系人",
                                      "the unit's sharing state becomes 'left': its later calls and messages are "
                                      "answered with the date it left and whom to contact")))
    return items


def _close_receivers(db: Session, unit_id: str, connection_id: str, whole_unit: bool, reason: str) -> int:
    if not whole_unit:
        return 0
    unit = unit_service.get_unit(db, unit_id=unit_id)
    changed = [e for e in catalog.remove_receiver(db, unit_code=unit.code, reason=reason, principal=_office())
               if e["action"] != "kept"]
    unit_service.mark_left(db, unit=unit)  # its later calls are told when it left and whom to contact
    return len(changed)


CLOSERS.append(Closer("catalog_receivers", _preview_receivers, _close_receivers))


# preview and terminate ----------------------------------------------------------------------------
def _listener(conn: Any, unit_code: str) -> str:
    where = {"amqp": f"queue in.{unit_code}", "mqtt": f"topic in/{unit_code}/+", "nats": f"subject in.{unit_code}.>",
             "socket": "socket", "rest": "POST /api/v1/exchange/messages", "soap": "/ws/exchange"}.get(conn.channel,
                                                                                                 conn.channel)
    return _t(f"{conn.channel} 监听（{where}）不再接收该连接的消息", f"the {conn.channel} listener ({where}) stops taking "
              "this connection's messages")


def preview(db: Session, *, connection_id: str) -> LeavePreview:
    """Exactly what ``terminate`` closes, and what stays readable."""
    conn = connections.get_connection(db, connection_id=connection_id)
    if conn.state == ConnectionState.terminated.value:
        raise Conflict(T("该连接已终止", "This connection is already terminated"), code="connection_terminated")
    unit = unit_service.get_unit(db, unit_id=conn.unit_id)
    others = [c for c in connections.list_connections(db, unit_id=unit.id, states=OPEN_STATES) if c.id != conn.id]
    whole_unit = not others
    closes: list[ClosedItem] = [
        ClosedItem(kind="keys", id=conn.id, label=conn.key_id,
                   detail=_t("连接密钥吊销，永久作废：用它签名的消息一律拒收（connection_terminated）",
                             "the connection's keys are revoked for good: anything signed with them is refused "
                             "(connection_terminated)")),
        ClosedItem(kind="listener", id=conn.id, label=conn.channel, detail=_listener(conn, unit.code)),
    ]
    pending = [m for m in messaging.list_outbox(db, states=("pending", "sent"), connection_id=conn.id, limit=1000)]
    if pending:
        closes.append(ClosedItem(kind="outbox", id=conn.id, label=str(len(pending)),
                                 detail=_t(f"{len(pending)} 条待发送或待回执的消息不再发送（留存可查）",
                                           f"{len(pending)} queued or unacknowledged messages are not sent (kept)")))
    if whole_unit:
        for client in api_clients.list_clients(db, unit_id=unit.id):
            if client.is_active:
                closes.append(ClosedItem(kind="api_client", id=client.id, label=client.name,
                                         detail=_t("API 客户端停用，全部密钥吊销",
                                                   "API client disabled, all its keys revoked")))
    for closer in CLOSERS:
        closes.extend(closer.preview(db, unit.id, conn.id, whole_unit))
    traffic = messaging.traffic(db).get(conn.id, {})
    kept = [_t(f"收到的消息 {traffic.get('in', 0)} 条、发出的消息 {traffic.get('out', 0)} 条、拒收记录 "
               f"{traffic.get('rejected', 0)} 条，以及请求事项、交付数据与审计记录，全部保留可查",
               f"{traffic.get('in', 0)} messages received, {traffic.get('out', 0)} sent, "
               f"{traffic.get('rejected', 0)} refusals, and the request items, delivered data and audit records "
               "all stay readable")]
    if others:
        kept.append(_t(f"该单位的其他 {len(others)} 个连接及其 API 客户端不受影响：" + ", ".join(c.name for c in others),
                       f"the unit's {len(others)} other connections and its API clients stay open: "
                       + ", ".join(c.name for c in others)))
    return LeavePreview(connection_id=conn.id, connection_name=conn.name, channel=conn.channel, unit_code=unit.code,
                        unit_name=unit.name, state=conn.state, whole_unit=whole_unit, closes=closes, kept=kept)


def terminate(db: Session, *, connection_id: str, reason: str, data_dir: Path,
              principal: Principal | None = None) -> LeavePreview:
    """Close everything ``preview`` lists, for good; audited with the list. Returns what was closed."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise Invalid(T("终止连接须写明理由（至少 {n} 个字）", "Terminating a connection needs a reason (at least {n} "
                        "characters)", n=MIN_REASON), code="reason_required")
    what = preview(db, connection_id=connection_id)
    conn = connections.get_connection(db, connection_id=connection_id)
    connections.transition(db, connection_id=conn.id, to=ConnectionState.terminated.value, principal=principal,
                           reason=reason[:200])
    for item in what.closes:
        if item.kind == "api_client":
            api_clients.revoke_client(db, client_id=item.id)
    closed = {closer.name: closer.close(db, conn.unit_id, conn.id, what.whole_unit, reason) for closer in CLOSERS}
    audit.record(db, action="exchange.leave", principal=principal, object_type="exchange_connection",
                 object_id=conn.id, detail={"unit": what.unit_code, "reason": reason[:200], "whole_unit": what.whole_unit,
                                            "closed": [f"{i.kind}:{i.label}" for i in what.closes][:100], **closed})
    db.flush()
    return what.model_copy(update={"state": ConnectionState.terminated.value, "done": True})
