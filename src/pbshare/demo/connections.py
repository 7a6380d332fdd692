"""Demo step: live connections for four units whose systems answer by themselves (``demo.responders``).

public security SZPSB over SOAP (the platform calls the unit's own SubmitJson service), market
regulation SZAMR over REST (push to the unit's endpoint; answers by signed POSTs with its API client), the
provident fund SZHPF over AMQP, and the credit centre SZCREDIT over REST push (it only receives: the
office's pushes of 801002 are receipted by its system, so a restriction reaches it with a receipt).
What each unit's engineer would be handed once — key id, secret, the API client for REST — is written
to ``<data_dir>/demo/responders.json`` (mode 0600), which ``pbshare serve`` reads to start the
responders. Idempotent: a file whose connections are still live is kept as it is. On the first run a
query on the second demo case asks all three units, so the handler sees it answered within seconds.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.core.errors import NotFound
from pbshare.exchange.cases import service as cases
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.enums import ConnectionState
from pbshare.exchange.requests import service as requests
from pbshare.exchange.requests.enums import RequestKind
from pbshare.exchange.requests.schemas import RequestIn
from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto

FILE = Path("demo") / "responders.json"
SOAP_PATH = "/ws/demo-unit"
PUSH_PATH = "/pbshare/inbox"
# (unit, channel, resources it answers)
UNITS: list[tuple[str, str, list[str]]] = [
    ("SZPSB", "soap", ["301001", "301002", "301003"]),
    ("SZAMR", "rest", ["501001"]),
    ("SZHPF", "amqp", ["601002"]),
    ("SZCREDIT", "rest", []),  # answers nothing: it receives the office's pushes (801002) and receipts them
]
ASKED = ["301001", "501001", "601002"]  # the demo query on the second demo case


def path_for(data_dir: Path) -> Path:
    return data_dir / FILE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def soap_wsdl(port: int) -> str:
    return f"http://127.0.0.1:{port}{SOAP_PATH}?wsdl"


def push_url(port: int) -> str:
    return f"http://127.0.0.1:{port}{PUSH_PATH}"


def read(data_dir: Path) -> dict[str, Any] | None:
    path = path_for(data_dir)
    if not path.exists():
        return None
    return dict(json.loads(path.read_text(encoding="utf-8")))


def write(data_dir: Path, data: dict[str, Any]) -> Path:
    """The credentials file, readable by the owner only (it holds the units' secrets)."""
    path = path_for(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
    os.chmod(path, 0o600)
    return path


def _still_live(db: Session, data: dict[str, Any]) -> bool:
    units = data.get("units") or []
    if {u.get("unit") for u in units} != {code for code, _, _ in UNITS}:
        return False
    for unit in units:
        try:
            conn = connections.get_connection(db, connection_id=str(unit.get("connection_id")))
        except NotFound:
            return False
        if conn.state != ConnectionState.live.value or conn.key_id != unit.get("key_id") or (
                unit.get("channel") in ("soap", "rest") and not unit.get("port")):
            return False
    return True


def _name(unit_code: str) -> str:
    return f"{unit_code} 演示系统（自动答复）"


def _retire(db: Session, unit_code: str) -> None:
    """Demo connections whose credentials are lost (the file was deleted) are terminated, so the unit's one
    live connection is the one whose keys the responders hold."""
    from pbshare.units import service as unit_service

    unit = unit_service.find_unit_by_code(db, code=unit_code)
    if unit is None:
        return
    for conn in connections.list_connections(db, unit_id=unit.id):
        if conn.name == _name(unit_code) and conn.state != ConnectionState.terminated.value:
            connections.transition(db, connection_id=conn.id, to="terminated",
                                   reason="演示连接重新生成 / demo connection made again")


def _open(db: Session, data_dir: Path, unit_code: str, channel: str, resources: list[str]) -> dict[str, Any]:
    _retire(db, unit_code)
    settings: dict[str, Any] = {}
    port = None
    if channel == "soap":
        port = free_port()
        settings = {"wsdl": soap_wsdl(port)}
    elif channel == "rest":  # push: the platform POSTs to the unit's endpoint, nothing polls the database
        port = free_port()
        settings = {"url": push_url(port)}
    conn, creds = connections.create_connection(db, data_dir=data_dir, unit_code=unit_code, channel=channel,
                                                name=_name(unit_code), settings=settings)
    for step in ("testing", "live"):
        connections.transition(db, connection_id=conn.id, to=step, reason="演示数据 / demo data",
                               override_reason="演示单位，无需联调测试 / demo unit, no joint test")
    entry: dict[str, Any] = {"unit": unit_code, "channel": channel, "resources": resources,
                             "connection_id": conn.id, "key_id": creds.key_id, "sig_alg": creds.sig_alg,
                             "secret_hex": creds.secret_hex, "enc_key_hex": creds.enc_key_hex}
    if port is not None:
        entry["port"] = port
    if channel == "rest":  # REST calls are signed twice: the request (API client) and the envelope (connection)
        client, key, secret_hex = api_clients.create_client(db, unit_code=unit_code, name=f"{unit_code} 演示系统",
                                                            alg=crypto.HMAC_SM3, data_dir=data_dir)
        entry.update({"api_client_id": client.id, "api_key_id": key.id, "api_secret_hex": secret_hex})
    return entry


def _ask(db: Session, data_dir: Path) -> str | None:
    """A query on the second demo case to the three units' systems (dispatched over their channels)."""
    from pbshare.demo.requests import DEMO_CASES, LEGAL_BASIS, _handler

    case = cases.find_case_by_no(db, case_no=DEMO_CASES[1])
    if case is None:
        return None
    req = requests.create_request(db, case_id=case.id, principal=_handler(db), data_dir=data_dir, body=RequestIn(
        kind=RequestKind.query, resources=ASKED, purpose="调查债务人名下车辆、商事登记及住房公积金（演示）",
        legal_basis=LEGAL_BASIS))
    return req.id


def load_demo(db: Session, *, data_dir: Path, database: Database | None = None) -> dict[str, Any]:
    """Demo step: the four units' live connections, their credentials file, and a request three of them answer."""
    existing = read(data_dir)
    if existing is not None and _still_live(db, existing):
        return {"file": str(FILE), "units": 0, "request": None}
    units = [_open(db, data_dir, code, channel, resources) for code, channel, resources in UNITS]
    write(data_dir, {"platform": "SZBA", "units": units})
    return {"file": str(FILE), "units": len(units), "request": _ask(db, data_dir)}
