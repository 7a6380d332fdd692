"""A small simulator of the city's government sharing hub (市政务信息资源共享平台), run as its own process.

``pbshare hub-sim --port 8600 --members members.json`` serves the hub protocol of docs/hub.md over
HTTP. Every call carries an envelope signed with the member's key (HMAC-SM3 over the RFC 8785 form,
exactly as the platform's channels); the hub is the unit ``SZGDATA``. State is kept in memory; the
members file (``{"SZBA": {"key_id": …, "secret_hex": …, "callback": null}, …}``) is read again when it
changes, so a test or the demo can add members while the hub runs.

- ``POST /hub/v1/envelopes``: a member's envelope. ``request`` with ``resource`` ``hub.catalog``
  (``{"op": "register", "resources": [...]}``), ``hub.subscribe`` (``{"resource": "801002"}``) or
  ``hub.unsubscribe``; ``delivery`` of a resource the sender registered (fanned out to the resource's
  subscribers); ``receipt`` / ``error`` answering what the hub sent. Answered with a signed receipt (or
  an error envelope, HTTP 422); the ``response`` to a request waits for the member like any message.
- ``POST /hub/v1/pull``: a signed ``request`` with ``resource`` ``hub.pull``; answers
  ``{"items": [envelopes…]}``: what waits for the member and was not receipted (offered again after
  30 s). Members with a ``callback`` URL get each envelope POSTed there instead (the receipt is the
  response body; retried every few seconds until it comes).
- ``GET /hub/v1/catalog``, ``GET /hub/v1/status`` (subscriptions, pushes, receipts), ``GET /health``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pbshare.core.i18n import T
from pbshare.core.ids import new_id
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.envelope import EnvelopeError, Key

log = logging.getLogger("pbshare.hubsim")
HUB = "SZGDATA"
REOFFER_SECONDS = 30.0
CALLBACK_RETRY_SECONDS = 3.0


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Queued:
    env: dict[str, Any]
    member: str
    kind: str  # response | delivery
    origin: str | None = None
    resource: str | None = None
    queued_at: datetime = field(default_factory=_now)
    offered_at: datetime | None = None
    acked_at: datetime | None = None
    status: str | None = None


class HubState:
    def __init__(self, members_file: Path) -> None:
        self.members_file = members_file
        self._members: dict[str, dict[str, Any]] = {}
        self._mtime = 0.0
        self.catalog: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.queue: list[Queued] = []
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    # members --------------------------------------------------------------------------------
    def members(self) -> dict[str, dict[str, Any]]:
        with contextlib.suppress(OSError):
            mtime = self.members_file.stat().st_mtime
            if mtime != self._mtime:
                self._members = json.loads(self.members_file.read_text() or "{}")
                self._mtime = mtime
        return self._members

    def key_of(self, member: str) -> Key:
        m = self.members()[member]
        return Key(key_id=m["key_id"], secret=bytes.fromhex(m["secret_hex"]))

    def member_by_key(self, key_id: str) -> str | None:
        return next((code for code, m in self.members().items() if m.get("key_id") == key_id), None)

    # envelopes ------------------------------------------------------------------------------
    def verified(self, raw: bytes) -> tuple[dict[str, Any], str]:
        env = env_mod.parse(raw)
        env_mod.validate(env)
        member = self.member_by_key(str(env["sig"]["key_id"]))
        if member is None:
            raise EnvelopeError("unknown_key", T("共享平台不认识该密钥编号，请先登记为成员单位",
                                                         "The hub does not know this key id: register as a member "
                                                         "first"), field="sig.key_id", answers=env.get("id"))
        if not env_mod.verify(env, self.key_of(member)):
            raise EnvelopeError("bad_signature", T("签名验证失败", "The signature does not verify"), field="sig",
                                answers=env["id"], sender=member)
        if env["sender"] != member:
            raise EnvelopeError("wrong_sender", T("sender 须为成员单位自己的编码 {m}",
                                                          "sender must be your own code {m}", m=member),
                                field="sender", answers=env["id"], sender=member)
        if env["receiver"] != HUB:
            raise EnvelopeError("wrong_receiver", T("receiver 须为共享平台 {h}", "receiver must be the hub {h}",
                                                            h=HUB), field="receiver", answers=env["id"], sender=member)
        env_mod.check_fresh(env)
        return env, member

    def signed(self, member: str, env: dict[str, Any]) -> dict[str, Any]:
        return env_mod.sign(env, self.key_of(member))

    def to_member(self, member: str, *, type_: str, payload: dict[str, Any], resource: str | None = None,
                  correlation_id: str | None = None, origin: str | None = None) -> Queued:
        env = self.signed(member, env_mod.build(type=type_, sender=HUB, receiver=member, payload=payload,
                                                resource=resource, correlation_id=correlation_id))
        item = Queued(env=env, member=member, kind=type_, origin=origin, resource=resource)
        self.queue.append(item)
        return item

    def handle(self, env: dict[str, Any], member: str) -> dict[str, Any]:
        """Act on a verified envelope; the payload of the receipt."""
        self.received.append({"id": env["id"], "type": env["type"], "sender": member, "resource": env.get("resource"),
                              "at": _now().isoformat()})
        kind, resource, payload = env["type"], env.get("resource"), env.get("payload") or {}
        if kind in ("receipt", "error"):
            for item in self.queue:
                if item.env["id"] == env.get("correlation_id") and item.member == member and item.acked_at is None:
                    item.acked_at, item.status = _now(), str(payload.get("status") or kind)
            return {"status": "accepted"}
        if kind == "request" and resource == "hub.catalog":
            registered = []
            for doc in payload.get("resources") or []:
                code = str(doc.get("code") or "")
                owner = self.catalog.get(code, {}).get("publisher")
                if code and owner in (None, member):
                    self.catalog[code] = {**doc, "code": code, "publisher": member, "registered_at": _now().isoformat()}
                    registered.append(code)
            self.to_member(member, type_="response", correlation_id=env["id"], resource=resource,
                           payload={"status": "registered", "resources": registered})
            return {"status": "accepted"}
        if kind == "request" and resource in ("hub.subscribe", "hub.unsubscribe"):
            code = str(payload.get("resource") or "")
            if resource == "hub.unsubscribe":
                for sid, sub in list(self.subscriptions.items()):
                    if sub["member"] == member and sub["resource"] == code:
                        del self.subscriptions[sid]
                answer: dict[str, Any] = {"status": "ended", "resource": code}
            elif code not in self.catalog:
                answer = {"status": "refused", "resource": code,
                          "reason": f"资源 {code} 未在共享平台目录中登记 / resource {code} is not in the hub's catalog"}
            else:
                sid = next((s for s, sub in self.subscriptions.items()
                            if sub["member"] == member and sub["resource"] == code), None) or new_id()
                self.subscriptions[sid] = {"id": sid, "member": member, "resource": code,
                                           "filters": payload.get("filters") or {}, "since": _now().isoformat()}
                answer = {"status": "active", "resource": code, "subscription_id": sid,
                          "publisher": self.catalog[code]["publisher"]}
            self.to_member(member, type_="response", correlation_id=env["id"], resource=resource, payload=answer)
            return {"status": "accepted"}
        if kind == "delivery":
            if not resource or self.catalog.get(resource, {}).get("publisher") != member:
                raise EnvelopeError("not_registered", T(
                    "资源 {r} 未由贵单位在共享平台目录中登记，请先登记再推送", "Resource {r} is not registered by you in "
                    "the hub's catalog: register it before pushing", r=resource or "-"), field="resource",
                    answers=env["id"], sender=member)
            pushed = 0
            for sub in list(self.subscriptions.values()):
                if sub["resource"] == resource and sub["member"] != member and sub["member"] in self.members():
                    body = dict(payload) if isinstance(payload, dict) else {"rows": payload}
                    body["origin"] = {"unit": member, "envelope_id": env["id"]}
                    self.to_member(sub["member"], type_="delivery", resource=resource, payload=body, origin=member)
                    pushed += 1
            return {"status": "accepted", "subscribers": pushed}
        raise EnvelopeError("unsupported", T("共享平台不处理该类消息：{t} {r}", "The hub does not handle {t} {r}",
                                                     t=kind, r=resource or ""), field="type", answers=env["id"],
                            sender=member)

    def pull(self, member: str, limit: int) -> list[dict[str, Any]]:
        now = _now()
        out = []
        for item in self.queue:
            if item.member != member or item.acked_at is not None:
                continue
            if item.offered_at is not None and (now - item.offered_at).total_seconds() < REOFFER_SECONDS:
                continue
            item.offered_at = now
            out.append(item.env)
            if len(out) >= limit:
                break
        return out

    def status(self) -> dict[str, Any]:
        return {
            "catalog": sorted(self.catalog),
            "subscriptions": list(self.subscriptions.values()),
            "pushes": [{"id": q.env["id"], "to": q.member, "type": q.kind, "resource": q.resource, "origin": q.origin,
                        "queued_at": q.queued_at.isoformat(), "acked_at": q.acked_at.isoformat() if q.acked_at else None,
                        "status": q.status} for q in self.queue],
            "received": self.received[-500:],
        }


def _error(err: EnvelopeError, state: HubState, member: str | None) -> JSONResponse:
    reply = env_mod.error_for(err, sender=HUB)
    if member:
        with contextlib.suppress(Exception):
            reply = state.signed(member, reply)
    return JSONResponse(reply, status_code=422)


def create_app(members_file: Path) -> FastAPI:
    state = HubState(members_file)

    async def callbacks() -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while True:
                await asyncio.sleep(0.5)
                now = _now()
                for item in list(state.queue):
                    url = (state.members().get(item.member) or {}).get("callback")
                    if not url or item.acked_at is not None:
                        continue
                    if item.offered_at is not None and (now - item.offered_at).total_seconds() < CALLBACK_RETRY_SECONDS:
                        continue
                    item.offered_at = now
                    try:
                        res = await client.post(url, content=env_mod.dumps(item.env),
                                                headers={"Content-Type": "application/json"})
                        answer = res.json()
                        with state.lock:
                            env, member = state.verified(json.dumps(answer).encode())
                            if member == item.member:
                                state.handle(env, member)
                    except Exception as exc:  # the member is down or answered badly: try again later
                        log.info("callback to %s failed: %s", item.member, type(exc).__name__)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(callbacks())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    app = FastAPI(title="市政务信息资源共享平台（模拟）/ government sharing hub simulator", lifespan=lifespan)
    app.state.hub = state

    @app.post("/hub/v1/envelopes")
    async def envelopes(request: Request) -> JSONResponse:
        raw = await request.body()
        member = None
        try:
            with state.lock:
                env, member = state.verified(raw)
                result = state.handle(env, member)
                if env["type"] in ("receipt", "error"):
                    return JSONResponse({"type": "ack", "id": env["id"], "status": "accepted"})
                receipt = env_mod.receipt_for(env, sender=HUB)
                receipt["payload"].update(result)
                return JSONResponse(state.signed(member, receipt))
        except EnvelopeError as err:
            return _error(err, state, member or err.sender)

    @app.post("/hub/v1/pull")
    async def pull(request: Request) -> JSONResponse:
        raw = await request.body()
        member = None
        try:
            with state.lock:
                env, member = state.verified(raw)
                if env["type"] != "request" or env.get("resource") != "hub.pull":
                    raise EnvelopeError("bad_type", T("拉取须为 resource=hub.pull 的 request",
                                                              "A pull is a request with resource hub.pull"),
                                        field="type", answers=env["id"], sender=member)
                limit = int((env.get("payload") or {}).get("limit") or 100)
                return JSONResponse({"items": state.pull(member, max(1, min(limit, 500)))})
        except EnvelopeError as err:
            return _error(err, state, member or err.sender)

    @app.get("/hub/v1/catalog")
    async def catalog() -> dict[str, Any]:
        return {"items": list(state.catalog.values())}

    @app.get("/hub/v1/status")
    async def status() -> dict[str, Any]:
        with state.lock:
            return state.status()

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "hub": HUB, "members": sorted(state.members())}

    return app


def serve(*, host: str, port: int, members_file: Path) -> None:
    import uvicorn

    members_file.parent.mkdir(parents=True, exist_ok=True)
    if not members_file.exists():
        members_file.write_text("{}")
        members_file.chmod(0o600)
    uvicorn.run(create_app(members_file), host=host, port=port, log_level="warning")


def add_member(members_file: Path, *, code: str, key_id: str, secret_hex: str, callback: str | None = None) -> None:
    """Write a member's key into the hub's members file (0600), as the hub's operator would."""
    members_file.parent.mkdir(parents=True, exist_ok=True)
    members = json.loads(members_file.read_text() or "{}") if members_file.exists() else {}
    members[code] = {"key_id": key_id, "secret_hex": secret_hex, "callback": callback}
    tmp = members_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(members, indent=2))
    tmp.chmod(0o600)
    tmp.replace(members_file)


def register(app: Any) -> None:
    """``pbshare hub-sim``: one line in ``pbshare.cli``."""
    import typer

    from pbshare.config import Settings

    @app.command("hub-sim")
    def hub_sim(host: str = typer.Option("127.0.0.1", help="监听地址 / address to bind"),
                port: int = typer.Option(8600, help="端口 / port"),
                members: Path | None = typer.Option(None, help="成员密钥文件 / members file (default "
                                                           "<data dir>/hub/members.json)")) -> None:
        """市政务信息资源共享平台模拟器 / run the government sharing hub simulator (docs/hub.md)."""
        serve(host=host, port=port, members_file=members or Settings().resolved_data_dir / "hub" / "members.json")
