"""Demo units' own systems: they take the platform's ``request`` envelopes off their channel and answer.

One asyncio task per demo unit, all in one background thread of ``pbshare serve`` (or in the
foreground with ``pbshare demo-responders``), each talking to the platform over its real channel with
the credentials of ``<data_dir>/demo/responders.json`` (written by ``demo.connections``):

- public security SZPSB, SOAP: serves its own ``SubmitJson`` service (the platform's WSDL, on the
  port in the connection's ``settings.wsdl``) for the platform to call; answers through the
  platform's ``/ws/exchange`` service;
- market regulation SZAMR, REST push: the platform POSTs to the unit's endpoint (``settings.url``,
  signed ``X-PB-*``) and gets the receipt back; answers by ``POST /api/v1/exchange/messages``, every
  call signed with its API client and every envelope with its connection key;
- provident fund SZHPF, AMQP: consumes ``<prefix>.out.SZHPF``, publishes with routing key ``in.SZHPF``.

Each request is receipted at once, then answered ``{"status": "accepted"}`` and, a moment later,
with records (query) or match / mismatch / not_found per value (verification). The records are
synthetic and the same for the same ID number every time (a seeded random generator); some people
have none. Only demo people (names starting with 演示·) get records: anyone else is "no record".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import socket
import threading
from collections import OrderedDict
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx

from pbshare.config import Settings
from pbshare.demo import connections as demo_connections
from pbshare.demo.synthetic import SHENZHEN_DISTRICTS, SYNTHETIC_PREFIX, sample_catalog, synthetic_uscc
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.envelope import EnvelopeError

log = logging.getLogger("pbshare.demo.responders")

PLATFORM = "SZBA"
ACCEPT_DELAY = 1.0  # seconds from the request to "accepted"
ANSWER_DELAY = 1.5  # and from "accepted" to the answer
RETRY_SECONDS = 2.0
SEND_ATTEMPTS = 6
NOTE = "演示单位系统自动答复 / answered by the demo unit's system"
NO_RECORD = "查无记录（演示单位系统自动答复）/ no record (answered by the demo unit's system)"


# answers --------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def info_items(resource: str) -> tuple[dict[str, Any], ...]:
    """The resource's info items as the unit publishes them in the sample catalog."""
    for res in sample_catalog()["resources"]:
        if str(res["code"]) == resource:
            return tuple(res.get("items") or ())
    return ()


_VEHICLE_TYPES = ["小型普通客车", "小型轿车", "中型普通客车", "轻型厢式货车"]
_MODELS = ["比亚迪牌BYD7152WT6HEVC", "丰田牌TV7250", "大众牌SVW7183LJD", "本田牌HG7154", "特斯拉牌TSL7000BEV"]
_TRADES = ["科技", "贸易", "建筑", "物流", "餐饮", "电子"]


def _day(rng: random.Random, start: date, days: int) -> str:
    return (start + timedelta(days=rng.randrange(days))).isoformat()


def _value(item: dict[str, Any], rng: random.Random, *, name: str, id_no: str, n: int) -> Any:
    code, kind = str(item["code"]), str(item.get("type", "string"))
    length = int(item.get("length") or 64)
    if item.get("id_kind") == "cn_ric":
        return id_no
    if item.get("id_kind") == "uscc":
        return synthetic_uscc(rng.randrange(100000))
    if code in ("owner_name", "name", "person_name", "buyer_name", "debtor_name"):
        return name
    if code == "gender":
        return "男" if int(id_no[16]) % 2 else "女"
    if kind == "enum":
        return rng.choice(list(item.get("values") or [""]))
    if kind == "date":
        if code == "birth_date":
            return f"{id_no[6:10]}-{id_no[10:12]}-{id_no[12:14]}"
        if code == "valid_until":
            return _day(rng, date(2027, 1, 1), 3000)
        return _day(rng, date(2008, 1, 1), 6000)
    if kind == "decimal":
        ranges = {"capital_wan": (10, 500), "ratio_pct": (5, 100), "monthly_yuan": (300, 6000),
                  "balance_yuan": (1000, 300000), "area_m2": (40, 200), "price_yuan": (500000, 8000000)}
        low, high = ranges.get(code, (1, 1000))
        return round(rng.uniform(low, high), 2)
    if kind == "integer":
        return rng.randrange(1, 100)
    if kind == "boolean":
        return rng.random() < 0.3
    district = SHENZHEN_DISTRICTS.get(id_no[:6], "福田区")
    text = {
        "plate_no": f"粤B·{rng.choice('ACDFGHKLMN')}{rng.randrange(10000):04d}",
        "vehicle_type": rng.choice(_VEHICLE_TYPES),
        "model": rng.choice(_MODELS),
        "address": f"深圳市{district}演示路{rng.randrange(1, 999)}号",
        "location": f"深圳市{district}演示花园{rng.randrange(1, 30)}栋{rng.randrange(101, 3300)}",
        "relation": "户主" if n == 0 else "子女",
        "doc_no": f"E{rng.randrange(10**8):08d}",
        "account_no": f"4403{rng.randrange(10**12):012d}",
        "employer": f"演示·深圳市某{rng.choice(_TRADES)}有限公司",
        "entity_name": f"演示·深圳市某{rng.choice(_TRADES)}有限公司",
    }.get(code, f"演示{code}{rng.randrange(1000):03d}")
    return text[:length]


def records_for(resource: str, *, name: str, id_no: str) -> list[dict[str, Any]]:
    """What the unit's system holds about one person: the same every time for the same ID number."""
    items = info_items(resource)
    if not items or not name.startswith(SYNTHETIC_PREFIX) or len(id_no) != 18:
        return []
    rng = random.Random(f"{resource}|{id_no}")
    count = 1 if resource == "301002" else rng.choices([0, 1, 2], weights=[1, 3, 1])[0]
    return [{str(item["code"]): _value(item, rng, name=name, id_no=id_no, n=n) for item in items}
            for n in range(count)]


def results_for(resource: str, *, name: str, id_no: str, check_values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per value to check: ``match`` (a record has them all), ``mismatch`` (a record has some), else ``not_found``."""
    records = records_for(resource, name=name, id_no=id_no)
    out = []
    for index, values in enumerate(check_values):
        hits = [sum(str(rec.get(k)) == str(v) for k, v in values.items()) for rec in records]
        if values and any(h == len(values) for h in hits):
            result, note = "match", None
        elif any(hits):
            result, note = "mismatch", "登记信息与核查值不一致（演示）/ the register differs (demo)"
        else:
            result, note = "not_found", "未查到登记信息（演示）/ nothing registered (demo)"
        out.append({"index": index, "result": result, "note": note})
    return out


def answer_for(payload: dict[str, Any]) -> dict[str, Any]:
    """The ``response`` payload that answers a request's payload."""
    resource = str(payload.get("resource") or "")
    subjects = [s for s in payload.get("subjects") or [] if isinstance(s, dict)]
    subject = subjects[0] if subjects else {}
    name, id_no = str(subject.get("name") or ""), str(subject.get("id_no") or "")
    if payload.get("kind") == "verification":
        values = [v for v in payload.get("check_values") or [] if isinstance(v, dict)]
        return {"status": "answered", "results": results_for(resource, name=name, id_no=id_no, check_values=values),
                "note": NOTE}
    records = [r for s in subjects for r in records_for(resource, name=str(s.get("name") or ""),
                                                        id_no=str(s.get("id_no") or ""))]
    return {"status": "answered", "records": records, "note": NOTE if records else NO_RECORD}


# one unit's system ----------------------------------------------------------------------------
class UnitSystem:
    """A unit's system on one channel: receipts what the platform sends and answers its requests."""

    channel = ""

    def __init__(self, entry: dict[str, Any], *, base_url: str, settings: Settings) -> None:
        self.unit = str(entry["unit"])
        self.entry = entry
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.key = env_mod.Key(key_id=entry["key_id"], secret=bytes.fromhex(entry["secret_hex"]),
                               enc_key=bytes.fromhex(entry["enc_key_hex"]))
        self._server: Any = None  # a unit the platform calls serves on a local port
        self._sock: socket.socket | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self.answered = 0

    def envelope(self, type_: str, payload: dict[str, Any], *, correlation_id: str | None = None,
                 resource: str | None = None) -> dict[str, Any]:
        return env_mod.sign(env_mod.build(type=type_, sender=self.unit, receiver=PLATFORM, payload=payload,
                                          correlation_id=correlation_id, resource=resource), self.key)

    async def send(self, env: dict[str, Any]) -> None:
        raise NotImplementedError

    async def serve(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        return None

    async def run(self) -> None:
        """Serve, and start again after a failure (the platform or the broker not up yet)."""
        failures = 0
        while True:
            try:
                await self.serve()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                level = logging.INFO if failures < 3 else logging.WARNING
                log.log(level, "demo unit %s (%s): %s; trying again", self.unit, self.channel, type(exc).__name__)
            finally:
                with contextlib.suppress(Exception):
                    await self.close()
            await asyncio.sleep(RETRY_SECONDS)

    def take(self, env: Any) -> dict[str, Any] | None:
        """One envelope from the platform: the signed receipt to give back (None for receipts and errors)."""
        if not isinstance(env, dict) or env.get("type") in ("receipt", "error"):
            if isinstance(env, dict) and env.get("type") == "error":
                log.warning("demo unit %s: the platform refused a message: %s", self.unit,
                            (env.get("payload") or {}).get("code"))
            return None
        if not env_mod.verify(env, self.key):
            log.warning("demo unit %s: a message that does not verify with its key; ignored", self.unit)
            return None
        if "enc" in env:
            env = {**{k: v for k, v in env.items() if k != "enc"}, "payload": env_mod.decrypt_payload(env, self.key)}
        payload = env.get("payload") or {}
        if env.get("type") == "request" and payload.get("kind") != "reminder" and env["id"] not in self._seen:
            self._seen[env["id"]] = None
            while len(self._seen) > 10_000:
                self._seen.popitem(last=False)
            task = asyncio.get_running_loop().create_task(self._answer(env))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return env_mod.sign(env_mod.receipt_for(env, sender=self.unit), self.key)

    async def _answer(self, request: dict[str, Any]) -> None:
        payload = request.get("payload") or {}
        resource = request.get("resource") or payload.get("resource")
        try:
            await asyncio.sleep(ACCEPT_DELAY)
            await self._deliver(self.envelope("response", {"status": "accepted"}, correlation_id=request["id"],
                                              resource=resource))
            await asyncio.sleep(ANSWER_DELAY)
            try:
                answer = answer_for(payload)
            except Exception as exc:  # the unit says why it cannot answer rather than stay silent
                answer = {"status": "rejected", "reason": f"演示系统无法答复 / the demo system cannot answer: "
                                                          f"{type(exc).__name__}"}
            await self._deliver(self.envelope("response", answer, correlation_id=request["id"], resource=resource))
            self.answered += 1
            log.info("demo unit %s answered request %s over %s", self.unit, request["id"], self.channel)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("demo unit %s could not answer request %s: %s", self.unit, request["id"], type(exc).__name__)

    async def _serve_local(self, app: Any, what: str) -> None:
        """Serve ``app`` on 127.0.0.1 at the port the connection's settings name (the platform calls it there)."""
        import uvicorn

        port = int(self.entry.get("port") or 0)
        sock = self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))  # bound here: uvicorn would exit the process on a taken port
        except OSError:
            log.warning("demo unit %s: port %s of its %s (in the connection's settings) is taken; free it, or "
                        "delete %s and run `pbshare demo` again", self.unit, port, what, demo_connections.FILE)
            raise
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                                     log_level="warning", lifespan="off", access_log=False,
                                                     interface="asgi3"))
        log.info("demo unit %s serves its %s on 127.0.0.1:%s", self.unit, what, port)
        await self._server.serve(sockets=[sock])

    async def _close_local(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._server = self._sock = None

    async def _deliver(self, env: dict[str, Any]) -> None:
        """Send, trying again with the same envelope (the platform de-duplicates by id)."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                await self.send(env)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(RETRY_SECONDS * attempt)


class SoapUnit(UnitSystem):
    """Serves SubmitJson (the platform's own WSDL) for the platform to call; answers through the platform's."""

    channel = "soap"

    def __init__(self, entry: dict[str, Any], *, base_url: str, settings: Settings) -> None:
        super().__init__(entry, base_url=base_url, settings=settings)
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _handle(self, raw: bytes, peer: str | None, want_response: bool) -> dict[str, Any]:
        """Called by spyne in a worker thread: the receipt comes from the unit's loop."""
        try:
            env = env_mod.parse(raw)
        except EnvelopeError as err:
            return {"status": "rejected", "code": err.code, "message": err.message.render("zh-CN")}
        loop = self._loop
        if loop is None:
            return {"status": "rejected", "code": "not_ready", "message": "演示系统尚未就绪 / not ready"}
        receipt = asyncio.run_coroutine_threadsafe(self._take(env), loop).result(timeout=10)
        if receipt is None:
            return {"status": "rejected", "code": "bad_signature", "answers": env.get("id"),
                    "message": "签名验证失败 / the signature does not verify"}
        return {"status": "accepted", "answers": env["id"], "envelope": env_mod.dumps(receipt).decode()}

    async def _take(self, env: dict[str, Any]) -> dict[str, Any] | None:
        return self.take(env)

    async def serve(self) -> None:
        from a2wsgi import WSGIMiddleware
        from spyne.server.wsgi import WsgiApplication

        from pbshare.channels import soap

        self._loop = asyncio.get_running_loop()
        await self._serve_local(WSGIMiddleware(WsgiApplication(soap.build_application(self._handle))), "SOAP service")

    async def close(self) -> None:
        await self._close_local()

    def _submit(self, body: str) -> Any:
        from zeep import Client
        from zeep import Settings as ZeepSettings
        from zeep.transports import Transport

        if self._client is None:
            self._client = Client(f"{self.base_url}/ws/exchange?wsdl",
                                  settings=ZeepSettings(strict=False, forbid_dtd=True, forbid_entities=True,
                                                        forbid_external=True),
                                  transport=Transport(timeout=10, operation_timeout=10))
        return self._client.service.SubmitJson(body)

    async def send(self, env: dict[str, Any]) -> None:
        try:
            reply = await asyncio.to_thread(self._submit, env_mod.dumps(env).decode())
        except Exception:
            self._client = None  # the WSDL is read again next time (the platform may have restarted)
            raise
        if reply is None or reply.status not in ("accepted", "duplicate"):
            log.warning("demo unit %s: the platform refused an answer: %s", self.unit,
                        getattr(reply, "code", None))


class RestUnit(UnitSystem):
    """The platform pushes to its endpoint (signed ``X-PB-*``); its receipt is the reply; answers by signed POSTs."""

    channel = "rest"
    path = "/api/v1/exchange/messages"

    def __init__(self, entry: dict[str, Any], *, base_url: str, settings: Settings) -> None:
        super().__init__(entry, base_url=base_url, settings=settings)
        self._http: httpx.AsyncClient | None = None

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        from pbshare.security.clients.service import sign_request
        from pbshare.security.crypto import algorithms as crypto

        headers = sign_request(method, path, body, client_id=self.entry["api_client_id"],
                               key_id=self.entry["api_key_id"], alg=crypto.HMAC_SM3,
                               secret=bytes.fromhex(self.entry["api_secret_hex"]))
        return {**headers, "Content-Type": "application/json"}

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.base_url, timeout=10)
        return self._http

    async def send(self, env: dict[str, Any]) -> None:
        body = env_mod.dumps(env)
        res = await self._client().post(self.path, content=body, headers=self._headers("POST", self.path, body))
        if res.status_code >= 500 or res.status_code == 429:
            raise RuntimeError(f"HTTP {res.status_code}")
        if res.status_code != 200:
            code = (res.json().get("payload") or {}).get("code") if res.headers.get("content-type", "").startswith(
                "application/json") else None
            log.warning("demo unit %s: the platform refused a message: HTTP %s %s", self.unit, res.status_code, code)

    async def _inbox(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The unit's endpoint (ASGI): checks the platform's X-PB-* signature, answers with its receipt."""
        from pbshare.security.clients.service import string_to_sign
        from pbshare.security.crypto import algorithms as crypto

        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        status, answer = 200, None
        if scope["method"] != "POST" or scope["path"] != demo_connections.PUSH_PATH:
            status = 404 if scope["method"] == "POST" else 200  # HEAD/GET: the platform's health check
        else:
            data = string_to_sign("POST", scope["path"], headers.get("x-pb-timestamp", ""),
                                  headers.get("x-pb-nonce", ""), body)
            try:
                given = bytes.fromhex(headers.get("x-pb-signature", ""))
            except ValueError:
                given = b""
            if headers.get("x-pb-key") != self.key.key_id or not crypto.mac_verify(
                    crypto.HMAC_SM3, self.key.secret or b"", data, given):
                status = 401
            else:
                try:
                    answer = self.take(env_mod.parse(body))
                except EnvelopeError:
                    status = 422
        out = env_mod.dumps(answer) if answer is not None else b""  # nothing to say to a receipt
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
        await send({"type": "http.response.body", "body": out})

    async def serve(self) -> None:
        await self._serve_local(self._inbox, "REST endpoint")

    async def close(self) -> None:
        await self._close_local()
        if self._http is not None:
            with contextlib.suppress(Exception):
                await self._http.aclose()
        self._http = None


class AmqpUnit(UnitSystem):
    """Consumes its ``out`` queue, publishes receipts and answers with routing key ``in.<unit>``."""

    channel = "amqp"

    def __init__(self, entry: dict[str, Any], *, base_url: str, settings: Settings) -> None:
        super().__init__(entry, base_url=base_url, settings=settings)
        self._connection: Any = None
        self._exchange: Any = None

    async def _declare(self, channel: Any) -> Any:
        """The platform's topology, declared with the same arguments (docs/channels.md, AMQP)."""
        import aio_pika

        prefix = self.settings.channel_prefix
        exchange = await channel.declare_exchange(f"{prefix}.exchange", aio_pika.ExchangeType.DIRECT, durable=True)
        dlx = await channel.declare_exchange(f"{prefix}.dlx", aio_pika.ExchangeType.FANOUT, durable=True)
        dead = await channel.declare_queue(f"{prefix}.dead", durable=True)
        await dead.bind(dlx)
        args = {"x-dead-letter-exchange": f"{prefix}.dlx"}
        for name, key in ((f"{prefix}.in.{self.unit}", f"in.{self.unit}"),
                          (f"{prefix}.out.{self.unit}", f"out.{self.unit}")):
            queue = await channel.declare_queue(name, durable=True, arguments=args)
            await queue.bind(exchange, routing_key=key)
        return exchange

    async def send(self, env: dict[str, Any]) -> None:
        import aio_pika

        if self._exchange is None:
            raise RuntimeError("not connected to the broker")
        await self._exchange.publish(aio_pika.Message(env_mod.dumps(env), content_type="application/json",
                                                      delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                     routing_key=f"in.{self.unit}")

    async def serve(self) -> None:
        import aio_pika

        self._connection = await aio_pika.connect_robust(
            self.settings.amqp_url, client_properties={"connection_name": f"demo-unit-{self.unit}"})
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._declare(channel)
        queue = await channel.get_queue(f"{self.settings.channel_prefix}.out.{self.unit}")
        log.info("demo unit %s consumes %s", self.unit, queue.name)
        async with queue.iterator() as messages:
            async for message in messages:
                try:
                    env = env_mod.parse(message.body)
                except EnvelopeError:
                    env = None
                receipt = self.take(env)
                if receipt is not None:
                    await self.send(receipt)
                await message.ack()

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._connection = None
        self._exchange = None


KINDS: dict[str, type[UnitSystem]] = {"soap": SoapUnit, "rest": RestUnit, "amqp": AmqpUnit}


# running them ---------------------------------------------------------------------------------
def platform_url(settings: Settings) -> str:
    host = settings.host if settings.host not in ("", "0.0.0.0", "::") else "127.0.0.1"  # noqa: S104 - compared, not bound
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


class Responders:
    """Every demo unit's system, one task each, in one event loop (a background thread, or the caller's)."""

    def __init__(self, data: dict[str, Any], *, settings: Settings, base_url: str | None = None) -> None:
        base = base_url or platform_url(settings)
        self.units = [KINDS[e["channel"]](e, base_url=base, settings=settings)
                      for e in data.get("units") or [] if e.get("channel") in KINDS]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[Any] | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    async def run(self) -> None:
        self._main = asyncio.current_task()
        tasks = [asyncio.create_task(u.run(), name=f"demo-unit-{u.unit}") for u in self.units]
        self._started.set()
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for u in self.units:
                for t in list(u._tasks):
                    t.cancel()
                with contextlib.suppress(Exception):
                    await u.close()

    def _thread_main(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self.run())
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    def start(self) -> None:
        """In a background thread with its own event loop (what ``pbshare serve`` does)."""
        self._thread = threading.Thread(target=self._thread_main, name="pbshare-demo-responders", daemon=True)
        self._thread.start()
        self._started.wait(timeout=5)
        log.info("demo responders started: %s", ", ".join(f"{u.unit} ({u.channel})" for u in self.units))

    def stop(self, timeout: float = 5.0) -> None:
        loop, main = self._loop, self._main
        if loop is not None and main is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(main.cancel)
        if self._thread is not None:
            self._thread.join(timeout)


def start_if_configured(settings: Settings) -> Responders | None:
    """Start the responders when the demo wrote their credentials and ``PBSHARE_DEMO_RESPONDERS`` is on."""
    if not settings.demo_responders:
        return None
    data = demo_connections.read(settings.resolved_data_dir)
    if not data:
        return None
    responders = Responders(data, settings=settings)
    responders.start()
    return responders


def run_foreground(settings: Settings, *, data_dir: Path | None = None) -> None:
    """``pbshare demo-responders``: the responders in this process, until Ctrl-C."""
    data = demo_connections.read(data_dir or settings.resolved_data_dir)
    if not data:
        raise FileNotFoundError(str(demo_connections.path_for(data_dir or settings.resolved_data_dir)))
    responders = Responders(data, settings=settings)
    # In their own thread, as under `pbshare serve`: the main thread keeps Ctrl-C and SIGTERM for itself
    # (uvicorn, serving the units' endpoints, would take the signals in the main thread and be restarted).
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    responders.start()
    while not stopped.wait(0.5):
        pass
    responders.stop()

