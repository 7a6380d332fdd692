"""The kit every domain's CLI uses: open the database, one session per command, a progress bar, and
errors printed in both languages with exit code 2.

It lives in ``core`` so that domain CLIs never import the root ``pbshare.cli``, which imports them
to register their sub-commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.orm import Session

from pbshare.config import get_settings
from pbshare.core.db import Database
from pbshare.core.errors import AppError

console = Console()
err = Console(stderr=True)


def progress_bar() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console)


def open_database() -> Database:
    return Database.from_settings(get_settings())


@contextmanager
def command_session() -> Iterator[tuple[Database, Session]]:
    """A command's database and its one session: committed when the block ends; an ``AppError`` is
    printed in both languages and the command exits with 2 (nothing is committed then)."""
    database = open_database()
    try:
        with database.session() as db:
            yield database, db
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()


def fail(exc: AppError) -> NoReturn:
    err.print(f"[red]错误 / error[/red] {escape('[' + exc.code + ']')}: {escape(exc.message.render('zh-CN'))}")
    err.print(f"                 {escape(exc.message.render('en'))}")
    raise typer.Exit(code=2)
