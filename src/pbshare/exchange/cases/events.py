"""Case events: what happened to a case that other units must hear about, and who listens.

``cases.service`` emits an event in the transaction of the change (a case opened, an administrator
appointed, a restriction decided or lifted, discharge decided, public display started or ended);
listeners registered with ``on_case_event`` (``exchange.subscriptions.events`` turns each into
deliveries to the subscribers of the office's outbound resources) run in that same transaction, so
the change and what it sends commit together or not at all.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger("pbshare.exchange.cases")


class CaseEventKind(enum.StrEnum):
    case_accepted = "case_accepted"
    administrator_appointed = "administrator_appointed"
    restriction_decided = "restriction_decided"
    restriction_lifted = "restriction_lifted"
    discharge_decided = "discharge_decided"
    public_display_started = "public_display_started"
    public_display_ended = "public_display_ended"


CASE_EVENT_LABELS: dict[str, tuple[str, str]] = {
    CaseEventKind.case_accepted: ("案件受理", "Case accepted"),
    CaseEventKind.administrator_appointed: ("指定管理人", "Administrator appointed"),
    CaseEventKind.restriction_decided: ("决定行为限制", "Restriction decided"),
    CaseEventKind.restriction_lifted: ("解除行为限制", "Restriction lifted"),
    CaseEventKind.discharge_decided: ("免责裁定", "Discharge decided"),
    CaseEventKind.public_display_started: ("开始公示", "Public display started"),
    CaseEventKind.public_display_ended: ("结束公示", "Public display ended"),
}


@dataclass(frozen=True)
class CaseEvent:
    kind: str
    case_id: str
    occurred_at: datetime
    data_dir: Path
    decision_id: str | None = None
    actor: str = "system"
    extra: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Session, CaseEvent], None]
LISTENERS: list[Listener] = []


def on_case_event(fn: Listener) -> Listener:
    """Register a listener (once per function, however often its module is imported)."""
    if fn not in LISTENERS:
        LISTENERS.append(fn)
    return fn


def emit(db: Session, event: CaseEvent) -> None:
    """Hand an event to every listener, in the caller's transaction (a listener's failure fails the change)."""
    for fn in LISTENERS:
        fn(db, event)
