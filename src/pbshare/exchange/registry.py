"""Discovery of transports through entry points (group ``pbshare.channels``).

The platform's own six are declared in ``pyproject.toml``; a new one can live in a separate package:

    [project.entry-points."pbshare.channels"]
    ftp = "pbshare_ftp:FtpChannel"

Exchange reaches a transport only through this registry, never by importing ``pbshare.channels``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from pbshare.exchange.channel import Channel

GROUP = "pbshare.channels"


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available_channels() -> list[str]:
    return sorted(_entry_points())


def channel_class(name: str) -> type[Channel]:
    eps = _entry_points()
    if name not in eps:
        raise KeyError(f"no channel named {name!r}; installed: {', '.join(sorted(eps))}")
    return eps[name].load()
