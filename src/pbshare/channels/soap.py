"""SOAP Web Service channel: a spyne service at ``/ws/exchange`` (WSDL at ``?wsdl``), zeep outbound.

Operations (SOAP 1.1, document/literal, namespace ``urn:pbshare:exchange``):

- ``Submit(envelope: Envelope) -> Reply``        the envelope as typed XML fields
- ``SubmitJson(envelope: string) -> Reply``      the envelope as its JSON text
- ``Query(envelope: Envelope) -> Reply``         a ``request``; the ``response`` comes back in the reply

``Reply`` says ``accepted`` / ``duplicate`` / ``rejected`` with the code and message, and carries
the answering envelope (receipt, response or error) as JSON. Before spyne sees a request, a guard
parses it with defusedxml with DTDs forbidden: an XML bomb or an external-entity attempt gets a
SOAP fault, and the bytes are kept with the reason like any refused message.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from spyne import Application, Boolean, ComplexModel, Fault, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from pbshare.config import Settings
from pbshare.core.db import Database
from pbshare.core.i18n import T
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import Channel, ConnectionInfo, Health, InboxUnavailable
from pbshare.exchange.envelope import EnvelopeError

if TYPE_CHECKING:
    from a2wsgi.wsgi_typing import Environ, StartResponse  # the WSGI types of the bridge app.py mounts it with

    from pbshare.exchange.channel import Outcome

log = logging.getLogger("pbshare.channels.soap")
NS = "urn:pbshare:exchange"
PATH = "/ws/exchange"


class Envelope(ComplexModel):
    """The envelope of DESIGN.md §5 as typed XML; payload and enc travel as JSON text."""

    __namespace__ = NS
    id = Unicode(min_occurs=1)
    type = Unicode(min_occurs=1)
    sender = Unicode(min_occurs=1)
    receiver = Unicode(min_occurs=1)
    resource = Unicode
    correlation_id = Unicode
    created_at = Unicode(min_occurs=1)
    test = Boolean
    payload_json = Unicode
    enc_json = Unicode
    sig_alg = Unicode
    sig_key_id = Unicode
    sig_value = Unicode


class Reply(ComplexModel):
    __namespace__ = NS
    status = Unicode
    code = Unicode
    message = Unicode
    answers = Unicode
    envelope = Unicode  # the receipt, response or error envelope, JSON


def envelope_to_dict(x: Any) -> dict[str, Any]:
    env: dict[str, Any] = {"id": x.id, "type": x.type, "sender": x.sender, "receiver": x.receiver,
                           "created_at": x.created_at, "test": bool(x.test)}
    if x.resource:
        env["resource"] = x.resource
    if x.correlation_id:
        env["correlation_id"] = x.correlation_id
    # The same strict JSON as a whole envelope: NaN, huge integers, lone surrogates and deep nesting are refused.
    if x.enc_json:
        env["enc"] = env_mod.loads(x.enc_json)
    else:
        env["payload"] = env_mod.loads(x.payload_json or "{}")
    if x.sig_alg or x.sig_key_id or x.sig_value:
        env["sig"] = {"alg": x.sig_alg, "key_id": x.sig_key_id, "value": x.sig_value}
    return env


def dict_to_envelope(env: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for zeep (or spyne's ``Envelope``) from an envelope dict."""
    sig = env.get("sig") or {}
    return {"id": env["id"], "type": env["type"], "sender": env["sender"], "receiver": env["receiver"],
            "resource": env.get("resource"), "correlation_id": env.get("correlation_id"),
            "created_at": env["created_at"], "test": bool(env.get("test")),
            "payload_json": json.dumps(env["payload"], ensure_ascii=False) if "payload" in env else None,
            "enc_json": json.dumps(env["enc"]) if "enc" in env else None,
            "sig_alg": sig.get("alg"), "sig_key_id": sig.get("key_id"), "sig_value": sig.get("value")}


def spliced(x: Any) -> bytes:
    """The typed fields as JSON text with ``payload_json`` / ``enc_json`` put in as sent, for when they
    do not read as strict JSON: the inbox then refuses them with the same code as a whole envelope
    (``bad_number``, ``too_deep``, ``malformed_json`` …) and keeps what came."""
    fields = {k: getattr(x, k, None) for k in Envelope._type_info if k not in ("payload_json", "enc_json")}
    name, text = ("enc", x.enc_json) if x.enc_json else ("payload", x.payload_json or "{}")
    head = json.dumps(fields, ensure_ascii=False)[:-1]
    return f'{head}, "{name}": {text}}}'.encode("utf-8", "surrogatepass")


# Handler: (raw JSON bytes, peer, want_response) -> Reply fields
Handler = Callable[[bytes, str | None, bool], dict[str, Any]]


def platform_handler(database: Database, data_dir: Path, max_bytes: int) -> Handler:
    from pbshare.exchange.hub import inbox_writer

    # Calls that arrive together share one inbox transaction; each is answered after that commit.
    writer = inbox_writer(database, channel="soap", data_dir=data_dir, max_bytes=max_bytes)

    def handle(raw: bytes, peer: str | None, want_response: bool) -> dict[str, Any]:
        from pbshare.exchange.messaging import service as messaging

        try:
            [outcome] = writer.receive([(raw, peer, None)])
        except Exception as exc:
            if not messaging.is_outage(exc):
                raise
            # Nothing was taken: a SOAP fault (HTTP 500, faultcode Server.inbox_unavailable); send again later.
            unavailable = InboxUnavailable(type(exc).__name__, office=messaging.office_code())
            log.warning("inbox unavailable (%s); SOAP call answered with a fault", exc.__class__.__name__)
            payload = unavailable.reply["payload"]
            raise Fault(faultcode="Server.inbox_unavailable", faultstring=f"{payload['message']} / "
                        f"{payload['message_en']}", detail=env_mod.dumps(unavailable.reply).decode()) from None
        answer = outcome.response if want_response and outcome.response is not None else outcome.reply
        err = outcome.error
        return {"status": outcome.status, "code": err.code if err else None,
                "message": err.message.render("zh-CN") if err else None,
                "answers": (outcome.envelope or {}).get("id") or (err.answers if err else None),
                "envelope": env_mod.dumps(answer).decode() if answer is not None else None}

    return handle


def build_application(handler: Handler) -> Application:
    def peer_of(ctx: Any) -> str | None:
        return ctx.transport.req_env.get("REMOTE_ADDR") if ctx.transport else None

    class ExchangeService(ServiceBase):
        @rpc(Envelope, _returns=Reply, _body_style="wrapped")
        def Submit(ctx, envelope):  # noqa: N802, N805 - SOAP operation names are part of the WSDL
            return _call(ctx, envelope, want_response=False)

        @rpc(Unicode, _returns=Reply, _body_style="wrapped")
        def SubmitJson(ctx, envelope):  # noqa: N802, N805
            return Reply(**handler((envelope or "").encode("utf-8"), peer_of(ctx), False))

        @rpc(Envelope, _returns=Reply, _body_style="wrapped")
        def Query(ctx, envelope):  # noqa: N802, N805
            return _call(ctx, envelope, want_response=True)

    def _call(ctx: Any, envelope: Any, *, want_response: bool) -> Reply:
        if envelope is None:
            raw = b""
        else:
            try:
                raw = env_mod.dumps(envelope_to_dict(envelope))
            except (EnvelopeError, ValueError, TypeError):  # payload_json or enc_json not strict JSON: the inbox says why
                raw = spliced(envelope)
        return Reply(**handler(raw, peer_of(ctx), want_response))

    return Application([ExchangeService], tns=NS, name="PbshareExchange", in_protocol=Soap11(validator="soft"),
                       out_protocol=Soap11())


def fault(code: str, message: str, detail: str | None = None) -> bytes:
    detail_xml = f"<detail>{escape(detail)}</detail>" if detail else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><soap11env:Envelope xmlns:soap11env='
            '"http://schemas.xmlsoap.org/soap/envelope/"><soap11env:Body><soap11env:Fault>'
            f"<faultcode>soap11env:Client.{escape(code)}</faultcode><faultstring>{escape(message)}</faultstring>"
            f"{detail_xml}</soap11env:Fault></soap11env:Body></soap11env:Envelope>").encode()


class XmlGuard:
    """WSGI middleware: size limit and a DTD-free parse before spyne; refusals are kept."""

    def __init__(self, app: Any, *, max_bytes: int, keep: Callable[[bytes, EnvelopeError, int, str | None], Outcome]):
        self.app, self.max_bytes, self.keep = app, max_bytes, keep

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        peer = environ.get("REMOTE_ADDR")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        stream = environ["wsgi.input"]
        body = stream.read(min(length, self.max_bytes + 1)) if length else stream.read(self.max_bytes + 1)
        size = max(length, len(body))
        err: EnvelopeError | None = None
        if size > self.max_bytes:
            err = EnvelopeError("too_large", T("消息 {n} 字节，超过上限 {m} 字节", "The message is {n} bytes, over "
                                               "the limit of {m} bytes", n=size, m=self.max_bytes))
        else:
            try:
                SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            except DefusedXmlException as exc:
                err = EnvelopeError("xml_forbidden", T("XML 含有 DTD 或实体声明（可能是 XML 炸弹或外部实体攻击），已拒收",
                                                       "The XML has a DTD or entity declaration (an XML bomb or an "
                                                       "external-entity attack?); refused"),
                                    detail={"reason": type(exc).__name__})
            except SafeET.ParseError as exc:
                err = EnvelopeError("malformed_xml", T("XML 格式错误：{e}", "The XML is malformed: {e}",
                                                       e=str(exc)[:200]))
        if err is None:
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            return self.app(environ, start_response)
        outcome = self.keep(body, err, size, peer)
        reply = outcome.reply_bytes.decode() if outcome is not None and outcome.reply_bytes else None
        payload = fault(err.code, f"{err.message.render('zh-CN')} / {err.message.render('en')}", reply)
        start_response("500 Internal Server Error", [("Content-Type", "text/xml; charset=utf-8"),
                                                     ("Content-Length", str(len(payload)))])
        return [payload]


def wsgi_app(database: Database, settings: Settings) -> XmlGuard:
    """The WSGI app mounted by ``pbshare.app`` at ``/ws/exchange``."""
    from pbshare.exchange.messaging import service as messaging
    from pbshare.security.audit import service as audit

    data_dir = settings.resolved_data_dir
    max_bytes = env_mod.MAX_BYTES

    def keep(raw: bytes, err: EnvelopeError, size: int, peer: str | None) -> Outcome:
        with database.session(immediate=True) as db:
            audit.record_refusal(db, action="exchange.soap_refused", ip=peer, object_type="channel", object_id="soap",
                                 detail={"reason": err.code})
            return messaging.refuse(db, raw=raw, channel="soap", err=err, data_dir=data_dir, peer=peer, size=size)

    inner = WsgiApplication(build_application(platform_handler(database, data_dir, max_bytes)),
                            max_content_length=max_bytes + 1)
    return XmlGuard(inner, max_bytes=max_bytes, keep=keep)


class SoapChannel(Channel):
    """Inbound is served by the web application; outbound calls the unit's own service with zeep."""

    name = "soap"
    label = ("Web Service（SOAP）", "Web Service (SOAP)")
    replies_inline = True
    served_by_web = True

    _clients: dict[str, Any]

    async def listen(self, conns: list[ConnectionInfo]) -> None:
        await asyncio.Event().wait()

    def _client(self, wsdl: str) -> Any:
        from zeep import Client, Settings
        from zeep.transports import Transport

        if not hasattr(self, "_clients"):
            self._clients = {}
        if wsdl not in self._clients:
            settings = Settings(strict=False, forbid_dtd=True, forbid_entities=True, forbid_external=True,
                                xml_huge_tree=False)
            self._clients[wsdl] = Client(wsdl, settings=settings,
                                         transport=Transport(timeout=self.config.send_timeout,
                                                             operation_timeout=self.config.send_timeout))
        return self._clients[wsdl]

    def _send_sync(self, wsdl: str, body: bytes) -> bytes | None:
        reply = self._client(wsdl).service.SubmitJson(body.decode("utf-8"))
        return reply.envelope.encode("utf-8") if reply is not None and reply.envelope else None

    async def send(self, conn: ConnectionInfo, body: bytes) -> bytes | None:
        wsdl = conn.settings.get("wsdl")
        if not wsdl:
            raise ValueError("the connection has no WSDL address (settings.wsdl) for the unit's service")
        return await asyncio.to_thread(self._send_sync, wsdl, body)

    async def health(self, conn: ConnectionInfo | None = None) -> Health:
        if conn is not None and conn.settings.get("wsdl"):
            try:
                await asyncio.to_thread(self._client, conn.settings["wsdl"])
                return Health(True, f"WSDL {conn.settings['wsdl']} readable")
            except Exception as exc:
                return Health(False, f"{type(exc).__name__}: {exc}"[:300])
        return Health(True, f"served at {PATH} by the web application")
