"""The city's government sharing hub (市政务信息资源共享平台) as a channel: docs/hub.md.

The hub is the unit ``SZGDATA``; the platform has one connection to it (channel ``govhub``, setting
``url``: the hub's base URL). Sending POSTs the signed envelope to ``<url>/hub/v1/envelopes``; the
hub's receipt (or error) is the inline answer. Receiving pulls: every ``poll_seconds`` (default 1) a
signed ``request`` for ``hub.pull`` fetches what waits for the platform (pushes of resources we
subscribed to through the hub, the responses to our registrations and subscriptions); each is handed
to the inbox like any envelope and its receipt POSTed back to the hub, which then stops offering it.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import Channel, ConnectionInfo, Health, InboxUnavailable

log = logging.getLogger("pbshare.channels.govhub")
ENVELOPES = "/hub/v1/envelopes"
PULL = "/hub/v1/pull"


class GovHubChannel(Channel):
    name = "govhub"
    label = ("市政务信息资源共享平台", "City government sharing hub")
    replies_inline = True

    _http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.config.send_timeout)
        return self._http

    @staticmethod
    def _url(conn: ConnectionInfo) -> str:
        url = str(conn.settings.get("url") or "").rstrip("/")
        if not url:
            raise RuntimeError("the hub connection has no url setting (the hub's base URL)")
        return url

    async def send(self, conn: ConnectionInfo, body: bytes) -> bytes | None:
        res = await self._client().post(self._url(conn) + ENVELOPES, content=body,
                                        headers={"Content-Type": "application/json"})
        if res.status_code >= 500 or res.status_code in (401, 403, 404, 408, 429):
            raise RuntimeError(f"HTTP {res.status_code} from the hub: {res.text[:200]}")
        return res.content or None

    async def pull_once(self, conn: ConnectionInfo) -> int:
        """Fetch what waits for us at the hub, hand it to the inbox, receipt it; how many came."""
        from pbshare.exchange.messaging.service import office_code

        key = await self.connected_hub.signing_key(conn)
        if key is None:
            return 0
        ask = env_mod.sign(env_mod.build(type="request", sender=office_code(), receiver=conn.unit_code,
                                         resource="hub.pull", payload={"limit": 100}), key)
        res = await self._client().post(self._url(conn) + PULL, content=env_mod.dumps(ask),
                                        headers={"Content-Type": "application/json"})
        res.raise_for_status()
        items = res.json().get("items") or []
        if not items:
            return 0
        raws: list[tuple[bytes, str | None]] = [(json.dumps(e, ensure_ascii=False).encode(), f"govhub:{conn.unit_code}")
                                                for e in items]
        outcomes = await self.connected_hub.receive(self.name, raws)
        for outcome in outcomes:
            if outcome.reply is not None:
                await self._client().post(self._url(conn) + ENVELOPES, content=env_mod.dumps(outcome.reply),
                                          headers={"Content-Type": "application/json"})
        return len(items)

    async def listen(self, conns: list[ConnectionInfo]) -> None:
        """Pull every ``poll_seconds``; while the hub cannot be reached, wait longer (doubling to 30 s) and
        say so once, not every second."""
        down: dict[str, float] = {}  # connection id -> current pause while its hub is unreachable
        while True:
            for conn in conns:
                every = float(conn.settings.get("poll_seconds") or 1.0)
                try:
                    await self.pull_once(conn)
                    if down.pop(conn.id, None) is not None:
                        log.info("the hub is reachable again")
                except asyncio.CancelledError:
                    raise
                except InboxUnavailable:
                    log.warning("the inbox is unavailable; the hub offers the messages again later")
                except Exception as exc:  # the hub is down or answered badly: try again, less often
                    if conn.id not in down:
                        log.warning("pulling from the hub failed (%s); trying again, less often, until it answers",
                                    type(exc).__name__)
                    down[conn.id] = min(down.get(conn.id, every / 2) * 2, 30.0)
            await asyncio.sleep(min((down.get(c.id) or float(c.settings.get("poll_seconds") or 1.0) for c in conns),
                                    default=1.0))

    async def health(self, conn: ConnectionInfo | None = None) -> Health:
        if conn is None:
            return Health(True, "pull from the hub")
        try:
            res = await self._client().get(self._url(conn) + "/health")
            return Health(res.status_code == 200, f"hub: HTTP {res.status_code}")
        except (httpx.HTTPError, RuntimeError) as exc:
            return Health(False, f"hub: {type(exc).__name__}")

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        self._http = None
