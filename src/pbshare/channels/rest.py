"""REST channel.

Inbound: ``POST /api/v1/exchange/messages`` with the envelope as the body, authenticated by the
API-client request signature (``X-PB-*`` headers, see ``security.clients.service``); the answer is the
receipt (or, with ``?wait=response`` on a request, the response) or the error envelope.
Pull: ``GET /api/v1/exchange/messages`` gives a unit's system what the platform has for it when
the unit cannot receive calls; it answers each with a receipt through the POST above.
Outbound (webhook): a POST of the envelope to the unit's ``settings.url``, signed with the same
``X-PB-*`` scheme (client = the platform's unit code, key = the connection's key id); the unit
answers with its receipt envelope in the response body.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx

from pbshare.exchange.channel import Channel, ConnectionInfo, Health
from pbshare.security.crypto import algorithms as crypto


class RestChannel(Channel):
    name = "rest"
    label = ("RESTful API", "RESTful API")
    replies_inline = True
    served_by_web = True

    _http: httpx.AsyncClient | None = None

    async def listen(self, conns: list[ConnectionInfo]) -> None:
        await asyncio.Event().wait()

    async def send(self, conn: ConnectionInfo, body: bytes) -> bytes | None:
        from pbshare.exchange.messaging.service import office_code
        from pbshare.security.clients.service import sign_request

        url = conn.settings.get("url")
        if not url:
            return None  # a pull connection: the unit fetches it with GET /api/v1/exchange/messages
        key = await self.connected_hub.signing_key(conn)
        if key is None:
            raise RuntimeError("the connection's keys are revoked")
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = sign_request("POST", path, body, client_id=office_code(), key_id=key.key_id, alg=key.alg,
                               secret=key.secret if key.alg == crypto.HMAC_SM3 else None,
                               private_key_hex=key.private_hex)
        headers["Content-Type"] = "application/json"
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.config.send_timeout, verify=conn.settings.get("verify", True))
        res = await self._http.post(url, content=body, headers=headers)
        if res.status_code >= 500 or res.status_code in (401, 403, 404, 408, 429):
            raise RuntimeError(f"HTTP {res.status_code} from {parts.netloc}: {res.text[:200]}")
        return res.content or None

    async def health(self, conn: ConnectionInfo | None = None) -> Health:
        url = (conn.settings.get("url") if conn else None) or None
        if not url:
            return Health(True, "inbound and pull served by the web application")
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                res = await client.head(url)
            return Health(res.status_code < 500, f"{url}: HTTP {res.status_code}")
        except httpx.HTTPError as exc:
            return Health(False, f"{url}: {type(exc).__name__}")

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        self._http = None
