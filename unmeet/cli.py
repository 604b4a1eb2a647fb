"""`unmeet` — the command line: serve, worker, db upgrade, jobs run-due, data, teams-package."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from core import logs
from core.config import Settings


def _parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-12-05T16:00:00+00:00")
    return value.astimezone(timezone.utc)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="unmeet", description="Slow, asynchronous team communication.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web server and the job worker")
    serve.add_argument("--no-migrate", action="store_true", help="don't apply database migrations at start")
    serve.add_argument("--no-worker", action="store_true", help="don't run the job worker in this process")
    commands.add_parser("worker", help="run the job worker alone")
    db = commands.add_parser("db", help="database commands")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="apply migrations")
    jobs = commands.add_parser("jobs", help="job commands")
    run_due = jobs.add_subparsers(dest="jobs_command", required=True).add_parser(
        "run-due", help="run every job due at an instant once, then exit")
    run_due.add_argument("--now", type=_parse_instant, default=None, help="ISO-8601 instant (default: now)")
    data = commands.add_parser("data", help="personal data: one person's export or erasure, the retention sweep")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    export = data_commands.add_parser("export", help="all of one person's data as JSON")
    erase = data_commands.add_parser("erase", help="delete all of one person's data")
    for one in (export, erase):
        one.add_argument("--platform", choices=("slack", "teams"), required=True)
        one.add_argument("--workspace", required=True, help="Slack team id (T…) or Teams tenant id")
        one.add_argument("--person", required=True, help="Slack user id (U…) or Teams user id (29:…)")
    export.add_argument("--out", type=Path, default=None, help="write to this file (default: standard output)")
    data_commands.add_parser("sweep", help="delete what is older than UNMEET_RETENTION_DAYS, now")
    package = commands.add_parser("teams-package", help="write the Teams app package (zip)")
    package.add_argument("--app-id", default=None, help="the bot's Microsoft app id (default: MICROSOFT_APP_ID)")
    package.add_argument("--out", type=Path, default=Path("unmeet-teams.zip"))
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = Settings()
    logs.configure(settings.unmeet_log_format)
    if args.command == "serve":
        from unmeet.server import ConfigurationError, serve

        if not args.no_migrate:
            _upgrade(settings)
        try:
            asyncio.run(serve(settings, worker=not args.no_worker))
        except ConfigurationError as error:
            sys.exit(f"unmeet: {error}")
    elif args.command == "worker":
        from unmeet.server import run_worker

        asyncio.run(run_worker(settings))
    elif args.command == "db":
        _upgrade(settings)
        print("database is up to date")
    elif args.command == "jobs":
        from unmeet.server import run_due

        count = asyncio.run(run_due(settings, args.now))
        print(f"ran {count} due job(s)")
    elif args.command == "data":
        asyncio.run(_data(settings, args))
    elif args.command == "teams-package":
        from teams_app.package import build_package

        app_id = args.app_id or settings.microsoft_app_id
        if not app_id:
            sys.exit("unmeet: give --app-id or set MICROSOFT_APP_ID (the bot's Microsoft app id)")
        try:
            path = build_package(app_id, args.out)
        except ValueError as error:
            sys.exit(f"unmeet: {error}")
        print(f"wrote {path}")


def _upgrade(settings: Settings) -> None:
    from core.persistence.migrate import upgrade

    upgrade(settings.database_url)


async def _data(settings: Settings, args: argparse.Namespace) -> None:
    from core.bootstrap import build_deps
    from core.domain.refs import PersonRef, WorkspaceRef
    from core.services import privacy

    deps = build_deps(settings)
    try:
        if args.data_command == "sweep":
            print(_counts("deleted", await privacy.sweep(deps)))
            return
        person = PersonRef(WorkspaceRef(args.platform, args.workspace), args.person)
        if args.data_command == "export":
            text = json.dumps(await privacy.export_person(deps, person), indent=2, ensure_ascii=False)
            if args.out is None:
                print(text)
            else:
                args.out.write_text(text + "\n", encoding="utf-8")
                print(f"wrote {args.out}")
            return
        erased = await privacy.erase_person(deps, person)
        print(_counts("erased", erased.rows))
        if erased.retracted:
            print(f"{erased.retracted} posted message(s) will be replaced by a note once a worker runs "
                  "(`unmeet serve` or `unmeet worker`)")
    finally:
        await deps.db.dispose()


def _counts(verb: str, counts: dict[str, int]) -> str:
    done = ", ".join(f"{count} {table}" for table, count in counts.items() if count)
    return f"{verb} {done}" if done else "nothing to delete"
