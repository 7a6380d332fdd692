"""Bilingual text: Simplified Chinese first, English second, chosen per request."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

SUPPORTED = ("zh-CN", "en")
current_language: ContextVar[str] = ContextVar("current_language", default="zh-CN")


@dataclass(frozen=True)
class T:
    """A message in both languages; ``{name}`` placeholders are filled from ``params``."""

    zh: str
    en: str
    params: dict[str, Any] = field(default_factory=dict)

    def __init__(self, zh: str, en: str, **params: Any) -> None:
        object.__setattr__(self, "zh", zh)
        object.__setattr__(self, "en", en)
        object.__setattr__(self, "params", params)

    def render(self, language: str | None = None) -> str:
        lang = language or current_language.get()
        template = self.en if lang.startswith("en") else self.zh
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template

    def __str__(self) -> str:
        return self.render()


def pick_language(cookie: str | None, accept_language: str | None, default: str = "zh-CN") -> str:
    """The ``lang`` cookie wins; otherwise the first supported entry of Accept-Language."""
    if cookie in SUPPORTED:
        return cookie
    if accept_language:
        for part in accept_language.split(","):
            tag = part.split(";")[0].strip().lower()
            if tag.startswith("zh"):
                return "zh-CN"
            if tag.startswith("en"):
                return "en"
    return default
