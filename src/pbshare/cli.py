"""The ``pbshare`` command line (Typer + Rich). Domains add sub-commands with ``app.add_typer``."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from pbshare import __version__
from pbshare.catalog import cli as catalog_cli
from pbshare.channels import cli as channels_cli
from pbshare.collect import cli as collect_cli
from pbshare.config import get_settings
from pbshare.core.commands import console, err, fail, open_database, progress_bar
from pbshare.core.db import Database
from pbshare.core.errors import AppError
from pbshare.demo import hubsim
from pbshare.jobs import cli as jobs_cli
from pbshare.metadata import cli as metadata_cli
from pbshare.ops import cli as ops_cli
from pbshare.security import cli as security_cli
from pbshare.units import service as unit_service

app = typer.Typer(help="pbshare 个人破产信息共享平台 / personal-bankruptcy information-sharing platform",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="数据库 / database schema", no_args_is_help=True)
user_app = typer.Typer(help="用户 / users", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(metadata_cli.app, name="metadata")
security_cli.register(app)  # keys, audit
ops_cli.register(app)  # backup, retention
channels_cli.register(app)  # listen, socket send, connection, deadletter
collect_cli.register(app)  # import, topic, dataset, transform
hubsim.register(app)  # hub-sim: the government sharing hub simulator (docs/hub.md)
jobs_cli.register(app)  # worker, scheduler, job

def initialise(database: Database) -> str | None:
    """Migrate, make sure the office exists and create the first administrator if there is no user.

    Returns the administrator's one-time password when it was created now.
    """
    from pbshare.core import migrate
    from pbshare.security.enums import Role
    from pbshare.security.identity import service as security_service

    migrate.upgrade(database.engine)
    with database.session() as session:
        unit_service.ensure_office(session)
        if security_service.list_users(session):
            return None
        _, one_time = security_service.create_user(
            session, username="admin", display_name="系统管理员", unit_code=unit_service.OFFICE_CODE,
            roles=[Role.sys_admin.value], must_change_password=True,
        )
        return one_time


@app.command()
def version() -> None:
    """显示版本 / show the version."""
    console.print(f"pbshare {__version__}")


@app.command()
def init() -> None:
    """初始化数据库并创建首个管理员 / create the database and the first administrator."""
    settings = get_settings()
    database = open_database()
    try:
        one_time = initialise(database)
    except AppError as exc:
        fail(exc)
    console.print(f"[green]数据库已就绪 / database ready[/green]: {database.engine.url.render_as_string()}")
    console.print(f"数据目录 / data dir: {settings.resolved_data_dir}")
    if one_time:
        console.rule("[bold yellow]首个管理员 / first administrator")
        console.print("用户名 / user name: [bold]admin[/bold]")
        console.print(f"一次性密码 / one-time password: [bold]{one_time}[/bold]")
        console.print("首次登录后必须修改密码 / you must change it at first login")
        console.rule()
    else:
        console.print("已有用户，未创建管理员 / users exist; no administrator created "
                      "(forgot it? `pbshare user passwd admin`)")
    database.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """升级数据库结构 / apply pending migrations."""
    from pbshare.core import migrate

    database = open_database()
    migrate.upgrade(database.engine)
    console.print(f"[green]已是最新 / up to date[/green]: {sorted(migrate.current_heads(database.engine))}")
    database.dispose()


@db_app.command("current")
def db_current() -> None:
    """显示当前数据库版本 / show applied migration heads."""
    from pbshare.core import migrate

    database = open_database()
    console.print(f"current:  {sorted(migrate.current_heads(database.engine))}")
    console.print(f"expected: {sorted(migrate.expected_heads(database.engine))}")
    database.dispose()


demo_app = typer.Typer(help="演示数据 / demo data")
app.add_typer(demo_app, name="demo")


@demo_app.callback(invoke_without_command=True)
def demo(ctx: typer.Context,
         cases: int = typer.Option(300, min=0, max=5000, help="合成案件数 / synthetic cases")) -> None:
    """载入演示数据（可重复运行） / load demo data (idempotent)."""
    if ctx.invoked_subcommand is not None:
        return
    from pbshare.demo import service as demo_service

    settings = get_settings()
    database = open_database()
    initialise(database)
    try:
        with database.session() as session, progress_bar() as bar:
            task = bar.add_task("演示数据 / demo data", total=cases)
            summary = demo_service.run(session, data_dir=settings.resolved_data_dir, cases=cases, database=database,
                                       progress=lambda n: bar.advance(task, n))
    except AppError as exc:
        fail(exc)
    for key, value in summary.items():
        console.print(f"  {key}: {value}")
    console.print(f"演示用户密码 / demo users' password: [bold]{demo_service.DEMO_PASSWORD}[/bold] "
                  f"({', '.join(u[0] for u in demo_service.DEMO_USERS)})")
    database.dispose()


@demo_app.command("responders")
def demo_responders() -> None:
    """在前台运行演示单位的自动答复系统 / run the demo units' answering systems in the foreground (Ctrl-C stops)."""
    from pbshare.core.logs import configure_logging
    from pbshare.demo import responders

    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    try:
        responders.run_foreground(settings)
    except FileNotFoundError as exc:
        err.print(f"[red]错误 / error[/red] 没有演示单位的凭据文件 {exc}：请先运行 pbshare demo\n"
                  f"                 no demo units' credentials file {exc}: run `pbshare demo` first")
        raise typer.Exit(1) from None


@app.command()
def serve(
    host: str = typer.Option(None, help="监听地址 / bind address (PBSHARE_HOST)"),
    port: int = typer.Option(None, help="端口 / port (PBSHARE_PORT)"),
) -> None:
    """启动服务 / serve the platform (API, UI, listeners)."""
    from types import FrameType

    import uvicorn

    from pbshare.app import create_app
    from pbshare.core import userquery
    from pbshare.core.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    host = host or settings.host
    port = port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})  # where the demo responders find us
    console.print(f"pbshare {__version__}: 请在浏览器打开 / open [bold]http://{host}:{port}/[/bold]")
    if settings.start_listeners:
        _state_socket_bind(host, settings.socket_host, settings.socket_port)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # SIGTERM / Ctrl-C: running user queries abort now (their runs end failed, nothing half-written),
            # so the requests waiting on them answer and the server stops within seconds.
            userquery.stop_all()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(create_app(settings), host=host, port=port, log_config=None, proxy_headers=False,
                            timeout_graceful_shutdown=5)
    Server(config).run()


def _state_socket_bind(web_host: str, socket_host: str, socket_port: int) -> None:
    """Say where the socket listener binds: it has its own address (PBSHARE_SOCKET_HOST), so a web server
    kept on the loopback does not mean units' systems cannot reach this machine."""
    import ipaddress
    import logging

    def loopback(h: str) -> bool:
        try:
            return h == "localhost" or ipaddress.ip_address(h).is_loopback
        except ValueError:
            return False

    wider = loopback(web_host) and not loopback(socket_host)
    logging.getLogger("pbshare.cli").log(
        logging.WARNING if wider else logging.INFO,
        "socket listener binds %s:%s (PBSHARE_SOCKET_HOST / PBSHARE_SOCKET_PORT) while a socket connection is in "
        "joint testing or live%s", socket_host, socket_port,
        f"; it is reachable from other machines although the web server binds {web_host}" if wider else "")


@user_app.command("add")
def user_add(
    username: str,
    display_name: str = typer.Option(..., "--name", help="姓名 / display name"),
    unit: str = typer.Option("SZBA", help="单位代码 / unit code"),
    role: list[str] = typer.Option([], "--role", help="角色，可多次 / role, repeatable"),
) -> None:
    """新建用户并给出一次性密码 / add a user with a one-time password."""
    from pbshare.security.audit import service as audit
    from pbshare.security.identity import service as security_service

    database = open_database()
    try:
        with database.session() as session:
            user, one_time = security_service.create_user(session, username=username, display_name=display_name,
                                                          unit_code=unit, roles=role)
            audit.record(session, action="user.create", actor_name=audit.cli_actor(), object_type="user",
                         object_id=user.id, detail={"username": username, "unit": unit,
                                                    "roles": sorted(user.role_names), "via": "cli"})
    except AppError as exc:
        fail(exc)
    console.print(f"[green]已创建 / created[/green] {username}; 一次性密码 / one-time password: "
                  f"[bold]{one_time}[/bold]")
    database.dispose()


@user_app.command("passwd")
def user_passwd(
    username: str,
    password: str = typer.Option(None, help="留空则生成一次性密码 / empty: generate a one-time one"),
) -> None:
    """重置密码 / reset a user's password (unlocks the account)."""
    from pbshare.security.audit import service as audit
    from pbshare.security.identity import service as security_service
    from pbshare.security.identity.passwords import generate_password

    database = open_database()
    try:
        with database.session() as session:
            user = security_service.get_user_by_username(session, username=username)
            if user is None:
                err.print(f"[red]用户不存在 / no such user[/red]: {username}")
                raise typer.Exit(2)
            new = password or generate_password()
            security_service.set_password(session, user_id=user.id, password=new, must_change=password is None)
            security_service.revoke_sessions(session, user_id=user.id)
            audit.record(session, action="user.reset_password", actor_name=audit.cli_actor(), object_type="user",
                         object_id=user.id, detail={"username": username, "via": "cli"})
    except AppError as exc:
        fail(exc)
    if password is None:
        console.print(f"一次性密码 / one-time password: [bold]{new}[/bold] (须在登录后修改 / change at login)")
    else:
        console.print("[green]密码已更新 / password updated[/green]")
    database.dispose()


@user_app.command("list")
def user_list() -> None:
    """用户列表 / list users."""
    from pbshare.security.identity import service as security_service

    database = open_database()
    with database.session() as session:
        table = Table("username", "name", "roles", "active")
        for u in security_service.list_users(session):
            table.add_row(u.username, u.display_name, ",".join(sorted(u.role_names)), "yes" if u.is_active else "no")
    console.print(table)
    database.dispose()


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())
