"""The item lifecycle, in one place: which state may follow which, and the history each step leaves.

draft → submitted → dispatched → accepted / rejected (reason) → answered → checked → closed;
a unit's system may answer straight from dispatched; the handler may withdraw an open item.
Overdue is not a state: it is computed from the due date (``is_overdue``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from pbshare.core.clock import utcnow
from pbshare.core.errors import Conflict
from pbshare.core.i18n import T
from pbshare.exchange.requests.enums import ITEM_STATE_LABELS, OPEN_STATES, ItemState
from pbshare.exchange.requests.models import RequestItem, RequestItemEvent

S = ItemState
TRANSITIONS: dict[ItemState, set[ItemState]] = {
    S.draft: {S.submitted, S.withdrawn},
    S.submitted: {S.dispatched, S.withdrawn},
    S.dispatched: {S.accepted, S.rejected, S.answered, S.withdrawn},
    S.accepted: {S.answered, S.rejected, S.withdrawn},
    S.rejected: {S.closed},
    S.answered: {S.checked, S.closed},
    S.checked: {S.closed},
    S.closed: set(),
    S.withdrawn: set(),
}


def allowed(state: str) -> list[str]:
    return sorted(s.value for s in TRANSITIONS[ItemState(state)])


def move(db: Session, item: RequestItem, to: ItemState, *, actor: str, note: str | None = None) -> RequestItem:
    """Move ``item`` to ``to`` or answer 409 naming its state and what may follow it."""
    current = ItemState(item.state)
    if to not in TRANSITIONS[current]:
        now_zh, now_en = ITEM_STATE_LABELS[current]
        to_zh, to_en = ITEM_STATE_LABELS[to]
        nexts = TRANSITIONS[current]
        allowed_zh = "、".join(ITEM_STATE_LABELS[s][0] for s in sorted(nexts)) or "无（已结束）"
        allowed_en = ", ".join(ITEM_STATE_LABELS[s][1].lower() for s in sorted(nexts)) or "nothing (it is finished)"
        raise Conflict(T("事项当前为“{a}”，不能变为“{b}”；此时可以：{c}",
                         "The item is {a_en} and cannot become {b_en}; from here it can become: {c_en}",
                         a=now_zh, b=to_zh, c=allowed_zh, a_en=now_en.lower(), b_en=to_en.lower(), c_en=allowed_en),
                       code="bad_transition", detail={"state": current.value, "wanted": to.value,
                                                      "allowed": allowed(current.value)})
    db.add(RequestItemEvent(item_id=item.id, actor=actor[:64], from_state=current.value, to_state=to.value,
                            note=(note or None) and note[:500]))
    item.state = to.value
    now = utcnow()
    if to == S.checked:
        item.checked_at = now
    elif to in (S.closed, S.withdrawn):
        item.closed_at = now
    db.flush()
    return item


def note(db: Session, item: RequestItem, *, actor: str, text: str) -> None:
    """A history line that changes no state (an answer refused, a reminder sent)."""
    db.add(RequestItemEvent(item_id=item.id, actor=actor[:64], from_state=item.state, to_state=item.state,
                            note=text[:500]))


def is_open(state: str) -> bool:
    return ItemState(state) in OPEN_STATES


def is_overdue(item: RequestItem, *, today: date) -> bool:
    return is_open(item.state) and today > item.due_on
