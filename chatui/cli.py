"""Data operations, run as `python main.py COMMAND ...` with the app's own settings (`.env`, `CHATUI_DATA_DIR` or
`--data-dir`, `DATABASE_URL`):

    backup PATH                   a consistent copy of the SQLite database, taken while the app runs
    restore PATH                  put a backup in place (refused while the app runs); the old file is kept aside
    migrate-db --to URL           copy every row of the SQLite database into an empty PostgreSQL database
    reset-password USERNAME       set a new password (asked twice, or read from stdin) and end the account's sessions

Each prints what it did and exits 0, or prints why not (changing nothing) and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from chatui.config import Settings
from storage import lock
from storage.backup import BackupError, backup, restore
from storage.copy import CopyRefused, copy_database

COMMANDS = ("backup", "restore", "migrate-db", "reset-password")
PG_DUMP_HINT = (
    "the database is PostgreSQL: back it up with pg_dump and restore with pg_restore (README, 'Where data lives')"
)


class CommandFailed(Exception):
    """Printed as `chatui: <message>`, exit status 1."""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python main.py", description=__doc__, allow_abbrev=False)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, allow_abbrev=False)
        sub.add_argument("--data-dir", type=Path, help="the app's data folder (default data; CHATUI_DATA_DIR)")
        return sub

    command("backup", "copy the SQLite database, consistently, while the app runs").add_argument(
        "path", type=Path, help="the backup file to write (must not exist)"
    )
    command("restore", "replace the SQLite database by a backup (the app must be stopped)").add_argument(
        "path", type=Path, help="a file written by `backup`"
    )
    command("migrate-db", "copy the SQLite database into an empty PostgreSQL database").add_argument(
        "--to", required=True, metavar="URL", help="postgresql://user@host:port/database (empty; migrated here)"
    )
    reset = command("reset-password", "give an account a new password and end all its sessions")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the new password from standard input")
    return parser.parse_args(argv)


def run(argv: list[str], env_file: str | None) -> int:
    args = parse(argv)
    overrides: dict[str, Any] = {"data_dir": args.data_dir} if args.data_dir is not None else {}
    try:
        settings = Settings.load(env_file, **overrides)
        handler: Callable[[Settings, argparse.Namespace], str] = HANDLERS[args.command]
        print(handler(settings, args))
    except ValidationError as error:
        print("chatui: " + "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors()), file=sys.stderr)
        return 1
    except (CommandFailed, BackupError, CopyRefused, lock.DatabaseInUse) as error:
        print(f"chatui: {error}", file=sys.stderr)
        return 1
    return 0


def _sqlite_file(settings: Settings) -> Path:
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() != "sqlite":
        raise CommandFailed(PG_DUMP_HINT)
    if not url.database or url.database == ":memory:":
        raise CommandFailed("the database is in memory; there is nothing to back up")
    return Path(url.database)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {rows}" for name, rows in counts.items())


def run_backup(settings: Settings, args: argparse.Namespace) -> str:
    counts = backup(_sqlite_file(settings), args.path)
    return f"backed up {_sqlite_file(settings)} to {args.path} (integrity ok; rows: {_counts(counts)})"


def run_restore(settings: Settings, args: argparse.Namespace) -> str:
    database = _sqlite_file(settings)
    lock.hold(settings.sqlalchemy_url, "chatui restore")  # refused while an app runs; no app can start meanwhile
    try:
        counts, kept = restore(args.path, database)
    finally:
        lock.release(settings.sqlalchemy_url)
    aside = f"; the database it replaced is kept as {kept}" if kept else ""
    return f"restored {args.path} to {database} (rows: {_counts(counts)}){aside}"


def run_migrate_db(settings: Settings, args: argparse.Namespace) -> str:
    source = settings.sqlalchemy_url
    if make_url(source).get_backend_name() != "sqlite":
        raise CommandFailed("migrate-db copies from the SQLite database; DATABASE_URL already names another one")
    target = "postgresql://" + args.to.removeprefix("postgres://") if args.to.startswith("postgres://") else args.to
    if make_url(target).get_backend_name() != "postgresql":
        raise CommandFailed(f"--to must be a postgresql:// URL, not {make_url(target).render_as_string()}")
    lock.hold(source, "chatui migrate-db")  # the source must not change while it is copied
    try:
        counts = copy_database(source, target, progress=lambda table, rows: print(f"  {table}: {rows} rows"))
    except CopyRefused:
        raise
    except Exception as exc:  # a connection refused, a row the target would not take: nothing was kept
        raise CommandFailed(f"the copy failed and was rolled back, the target is unchanged: {exc}") from exc
    finally:
        lock.release(source)
    checked = ", ".join(f"{c.name} {c.target_rows}" for c in counts)
    return (
        f"copied into {make_url(target).render_as_string()} and checked (rows: {checked}).\n"
        f"Now start chatui with DATABASE_URL={make_url(target).render_as_string(hide_password=False)}"
    )


def run_reset_password(settings: Settings, args: argparse.Namespace) -> str:
    password = _read_new_password(args.password_stdin)
    return asyncio.run(_reset_password(settings, args.username, password))


def _read_new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass("New password: ")
        if getpass.getpass("Once more: ") != first:
            raise CommandFailed("the two passwords differ; nothing was changed")
    except EOFError:
        raise CommandFailed("no password was typed (use --password-stdin to pipe one in)") from None
    return first


async def _reset_password(settings: Settings, username: str, password: str) -> str:
    from chatui.accounts.errors import AuthError
    from chatui.bootstrap import build_services

    services = build_services(settings)
    try:
        services.store.db.prepare(lambda _: None)  # the schema at the newest migration (nothing else: the app may run)
        user = await services.auth.user_named(username)
        if user is None:
            raise CommandFailed(f"there is no account named {username!r}")
        try:
            await services.auth.change_password(user.id, password)
        except AuthError as exc:
            raise CommandFailed(exc.message) from None
    finally:
        await services.stop()
    note = " The account is disabled; enable it on the Administration page." if user.is_disabled else ""
    return f"new password set for {user.username}; all of its sessions have ended.{note}"


HANDLERS: dict[str, Callable[[Settings, argparse.Namespace], str]] = {
    "backup": run_backup,
    "restore": run_restore,
    "migrate-db": run_migrate_db,
    "reset-password": run_reset_password,
}
