"""The rows of a ``delivery`` envelope as an import source: one batch, one line per record.

A delivery's payload is either one record (``{"case_no": …}``) or ``{"rows": [{…}, …]}``; the line
number of a row is its position in ``rows`` (1-based), which is what the receipt and the quarantine
name. Provenance (who sent it, which message, when) rides along as extra columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pbshare.collect import readers
from pbshare.core.errors import Invalid
from pbshare.core.i18n import T

# Stored beside the resource's own fields in every table a delivery lands in.
PROVENANCE = {"src_unit": "来源单位 / sending unit", "src_message": "消息编号 / message id",
              "src_received_at": "接收时间 / received at", "src_row": "消息内行号 / row in message"}


def payload_rows(payload: Any) -> list[dict[str, Any]]:
    """The records a delivery carries; refused when it carries none or something that is not records."""
    if not isinstance(payload, dict) or not payload:
        raise Invalid(T("交付消息的 payload 为空或不是对象", "The delivery's payload is empty or not an object"),
                      code="delivery_empty")
    rows = payload.get("rows", [payload]) if "rows" in payload else [payload]
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise Invalid(T("payload.rows 必须是非空的记录（对象）列表", "payload.rows must be a non-empty list of records "
                        "(objects)"), code="delivery_bad_rows")
    return rows


class DeliveryReader:
    kind = "delivery"

    def __init__(self, envelope: dict[str, Any], *, received_at: str) -> None:
        self.rows = payload_rows(envelope.get("payload"))
        seen: dict[str, None] = {}
        for r in self.rows:
            for k in r:
                seen.setdefault(str(k), None)
        self.provenance = {"src_unit": envelope.get("sender"), "src_message": envelope.get("id"),
                           "src_received_at": received_at}
        self.columns = [*seen, *PROVENANCE]
        self.label = f"{envelope.get('sender')} · {str(envelope.get('id'))[:8]}"

    def batches(self) -> Iterator[readers.Batch]:
        records = [{**{str(k): v for k, v in r.items()}, **self.provenance, "src_row": i}
                   for i, r in enumerate(self.rows, start=1)]
        frame = readers.frame_from_records(records, self.columns, first_line=1)
        yield readers.Batch(frame, 1.0)
