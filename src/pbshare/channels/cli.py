"""Command line of the exchange channels.

    pbshare listen                                  listeners + outbox dispatcher, as a separate process
    pbshare socket send HOST PORT FILE [--tls ...]  reference socket client (one JSON envelope per file/line)
    pbshare connection list|add|state|rotate-keys|test
    pbshare deadletter list|replay ID
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pbshare.config import get_settings
from pbshare.core.commands import fail, open_database
from pbshare.core.errors import AppError
from pbshare.units import service as unit_service

console = Console()
err = Console(stderr=True)

socket_app = typer.Typer(help="TCP 套接字参考客户端 / reference socket client", no_args_is_help=True)
connection_app = typer.Typer(help="交换连接 / exchange connections", no_args_is_help=True)
deadletter_app = typer.Typer(help="死信 / dead letters", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("listen")(listen)
    app.add_typer(socket_app, name="socket")
    app.add_typer(connection_app, name="connection")
    app.add_typer(deadletter_app, name="deadletter")


def listen() -> None:
    """启动各通道监听与发件箱投递（独立进程）/ run channel listeners and the outbox dispatcher."""
    from pbshare.core.logs import configure_logging
    from pbshare.exchange.channel import ChannelConfig
    from pbshare.exchange.requests import service as _requests  # noqa: F401  (registers the response handler)
    from pbshare.exchange.runtime import Runtime

    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    database = open_database()
    config = ChannelConfig.from_settings(settings)
    console.print(f"监听中 / listening (socket {config.socket_host}:{config.socket_port}, prefix {config.prefix}); "
                  "Ctrl-C 停止 / to stop")
    try:
        asyncio.run(Runtime(database, config).run_forever())
    except KeyboardInterrupt:
        console.print("已停止 / stopped")
    finally:
        database.dispose()


@socket_app.command("send")
def socket_send(
    host: str, port: int,
    file: Path = typer.Argument(..., help="信封 JSON 文件（一行一个或一个对象），- 为标准输入 / envelope JSON file, - for stdin"),
    tls: bool = typer.Option(False, help="使用 TLS / use TLS"),
    ca: Path | None = typer.Option(None, help="CA 证书 / CA certificate"),
    cert: Path | None = typer.Option(None, help="客户端证书（双向 TLS）/ client certificate (mutual TLS)"),
    key: Path | None = typer.Option(None, help="客户端私钥 / client key"),
) -> None:
    """发送信封并打印每条的应答帧 / send envelopes and print each ack frame."""
    from pbshare.channels.socket import send_frames

    text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    stripped = text.strip()
    if stripped.startswith("{") and "\n{" not in stripped:
        bodies = [json.dumps(json.loads(stripped), ensure_ascii=False).encode()]
    else:
        bodies = [line.strip().encode() for line in text.splitlines() if line.strip()]
    ctx = None
    if tls or ca or cert:
        ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
        if cert:
            ctx.load_cert_chain(str(cert), str(key) if key else None)
    try:
        acks = asyncio.run(send_frames(host, port, bodies, ssl_context=ctx))
    except (OSError, ssl.SSLError) as exc:
        err.print(f"[red]无法连接 / cannot connect[/red] {host}:{port}: {exc}")
        raise typer.Exit(2) from None
    failed = 0
    for ack in acks:
        console.print_json(json.dumps(ack, ensure_ascii=False))
        failed += ack.get("type") == "error"
    if failed:
        raise typer.Exit(1)


@connection_app.command("list")
def connection_list() -> None:
    """连接列表 / list connections with state, health and traffic."""
    from pbshare.exchange.connections import service as connections
    from pbshare.exchange.messaging import service as messaging

    database = open_database()
    with database.session() as db:
        traffic = messaging.traffic(db)
        table = Table("id", "unit", "channel", "state", "health", "in", "out", "delivered", "rejected", "dead",
                      "key_id")
        for c in connections.list_connections(db):
            t = traffic.get(c.id, {})
            table.add_row(c.id, unit_service.get_unit(db, unit_id=c.unit_id).code, c.channel, c.state, c.health,
                          *(str(t.get(k, 0)) for k in ("in", "out", "delivered", "rejected", "dead")), c.key_id)
    console.print(table)
    database.dispose()


@connection_app.command("add")
def connection_add(
    unit: str = typer.Option(..., help="单位代码 / unit code"),
    channel: str = typer.Option(..., help="rest|amqp|mqtt|nats|soap|socket"),
    name: str = typer.Option(..., help="名称 / name"),
    setting: list[str] = typer.Option([], help="key=value，如 url=… wsdl=… host=… port=… / per-channel settings"),
    sig_alg: str = typer.Option("HMAC-SM3", help="HMAC-SM3 | SM2-SM3"),
    public_key: str | None = typer.Option(None, help="单位 SM2 公钥（SM2-SM3 时）/ the unit's SM2 public key"),
    encrypt: bool = typer.Option(False, help="SM4-GCM 加密载荷 / encrypt payloads"),
) -> None:
    """新建连接（草稿）并显示一次密钥 / open a connection (draft) and show its keys once."""
    from pbshare.exchange.connections import service as connections

    settings_dict: dict[str, object] = {}
    for item in setting:
        k, _, v = item.partition("=")
        settings_dict[k.strip()] = int(v) if v.isdigit() else v
    database = open_database()
    try:
        with database.session() as db:
            conn, creds = connections.create_connection(
                db, data_dir=get_settings().resolved_data_dir, unit_code=unit, channel=channel, name=name,
                settings=settings_dict, sig_alg=sig_alg, unit_public_key=public_key, encrypt=encrypt)
            cid = conn.id
    except AppError as exc:
        fail(exc)
    console.print(f"[green]已创建 / created[/green] {cid} (draft)")
    console.rule("[bold yellow]只显示这一次 / shown once")
    _show_credentials(creds, encrypt=encrypt)
    database.dispose()


def _show_credentials(creds: object, *, encrypt: bool) -> None:
    """The keys the unit's engineer needs; the payload key only for a connection that encrypts, so an
    unused secret is not put on a screen or into a shell history for nothing."""
    for k, v in creds.__dict__.items():
        if k == "enc_key_hex" and not encrypt:
            continue
        console.print(f"{k}: [bold]{v}[/bold]")


@connection_app.command("state")
def connection_state(connection_id: str, to: str = typer.Argument(..., help="testing|live|suspended|terminated|draft"),
                     reason: str | None = typer.Option(None),
                     override_reason: str | None = typer.Option(
                         None, "--override-reason", help="不经通过的联调测试上线的理由（审计）/ reason to go live "
                         "without a passed joint test (audited)")) -> None:
    """变更连接状态 / move a connection to another state (terminated: the unit leaves, see docs/channels.md)."""
    from pbshare.exchange.connections import service as connections
    from pbshare.exchange.leaving import service as leaving

    database = open_database()
    try:
        with database.session() as db:
            if to == "terminated":
                what = leaving.terminate(db, connection_id=connection_id, reason=reason or "",
                                         data_dir=get_settings().resolved_data_dir)
                for item in what.closes:
                    console.print(f"  closed {item.kind}: {item.label} — {item.detail}")
                console.print(f"[green]{connection_id}[/green] → terminated")
            else:
                conn = connections.transition(db, connection_id=connection_id, to=to, reason=reason,
                                              override_reason=override_reason)
                console.print(f"[green]{conn.id}[/green] → {conn.state}")
    except AppError as exc:
        fail(exc)
    database.dispose()


@connection_app.command("rotate-keys")
def connection_rotate(connection_id: str) -> None:
    """更换密钥并显示一次 / new keys, shown once."""
    from pbshare.exchange.connections import service as connections

    database = open_database()
    try:
        with database.session() as db:
            creds = connections.rotate_keys(db, data_dir=get_settings().resolved_data_dir,
                                            connection_id=connection_id)
            encrypt = connections.get_connection(db, connection_id=connection_id).encrypt
    except AppError as exc:
        fail(exc)
    _show_credentials(creds, encrypt=encrypt)
    database.dispose()


@connection_app.command("test")
def connection_test(connection_id: str) -> None:
    """发送一条联调测试消息（由 listen/serve 投递）/ queue a joint-testing message."""
    from pbshare.exchange.messaging import service as messaging

    database = open_database()
    try:
        with database.session() as db:
            msg = messaging.enqueue(db, connection_id=connection_id, type="delivery",
                                    payload={"ping": "联调测试"}, data_dir=get_settings().resolved_data_dir, test=True)
            console.print(f"[green]已入发件箱 / queued[/green] {msg.envelope_id}")
    except AppError as exc:
        fail(exc)
    database.dispose()


@deadletter_app.command("list")
def deadletter_list() -> None:
    """死信列表 / dead letters (and messages the unit refused)."""
    from pbshare.exchange.messaging import service as messaging

    database = open_database()
    with database.session() as db:
        table = Table("id", "envelope", "receiver", "type", "state", "attempts", "last error")
        for m in messaging.dead_letters(db):
            table.add_row(m.id, m.envelope_id, m.receiver, m.type, m.state, str(m.attempts), (m.last_error or "")[:80])
    console.print(table)
    database.dispose()


@deadletter_app.command("replay")
def deadletter_replay(outbox_id: str) -> None:
    """重发死信 / put a dead letter back in the queue."""
    from pbshare.exchange.messaging import service as messaging

    database = open_database()
    try:
        with database.session() as db:
            msg = messaging.replay(db, outbox_id=outbox_id)
            console.print(f"[green]已重新排队 / queued again[/green] {msg.envelope_id}")
    except AppError as exc:
        fail(exc)
    database.dispose()
