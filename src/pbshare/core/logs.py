"""Structured JSON logs with the request id on every line, scrubbed of identifiers and secrets."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Resident ID numbers (15/18 digits, X), mainland mobile numbers, bearer tokens and key=value secrets.
_REDACTIONS = [
    (re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:19|20)[0-9]{2}[0-9]{7}[0-9Xx](?![0-9A-Za-z])"), "[ID]"),
    (re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{14}(?![0-9A-Za-z])"), "[ID]"),
    (re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])"), "[PHONE]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[SECRET]"),
    (
        re.compile(r"(?i)((?:password|passwd|secret|token|otp|api_key|key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
        r"\1[SECRET]",
    ),
]
_SECRET_KEYS = re.compile(r"(?i)password|passwd|secret|token|otp|api_key|private|cookie|authorization")


def scrub(text: str) -> str:
    for pattern, repl in _REDACTIONS:
        text = pattern.sub(repl, text)
    return text


def _scrub_value(key: str, value: Any) -> Any:
    if _SECRET_KEYS.search(key):
        return "[SECRET]"
    if isinstance(value, str):
        return scrub(value)
    return value


class JsonFormatter(logging.Formatter):
    _STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
            "request_id": request_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = _scrub_value(key, value)
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = request_id_var.get()
        prefix = f"[{rid}] " if rid else ""
        return scrub(f"{record.levelname:<7} {record.name}: {prefix}{super().format(record)}")


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    formatter: logging.Formatter = JsonFormatter() if json_lines else PlainFormatter("%(message)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").setLevel("WARNING")
