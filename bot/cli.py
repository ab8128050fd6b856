"""`leading-bot`: the command line named in CONTRACT.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings, require_slack_credentials
from bot.logs import configure_logging


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leading-bot", description="Leading Health nudges, a Slack app for weekly practice."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the app (HTTP on $PORT, or Socket Mode)")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run nudges here")
    commands.add_parser("scheduler", help="run the nudge scheduler alone")
    dispatch = commands.add_parser("dispatch", help="run one dispatch pass")
    dispatch.add_argument("--at", help="ISO-8601 instant to act as now")
    commands.add_parser("demo", help="walk through the app against a local Slack simulator")
    db = commands.add_parser("db", help="database commands")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply database migrations")
    content = commands.add_parser("content", help="content pack commands")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    validate = content_commands.add_parser("validate", help="check a content pack")
    validate.add_argument("path", nargs="?", type=Path, help="content folder or capability file")
    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", help="public base URL, e.g. https://nudges.example.org")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "content":
        return _validate_content(args.path)
    if args.command == "manifest":
        from bot.content import load_library
        from bot.manifest import build_manifest

        print(json.dumps(build_manifest(load_library(), args.url), indent=2, ensure_ascii=False))
        return 0
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo())

    settings = load_settings()
    configure_logging(settings.log_level_number)
    if args.command == "db":
        return _upgrade_database(settings)
    if args.command == "serve":
        require_slack_credentials(settings)
        from bot.serve import serve

        if _upgrade_database(settings) != 0:
            return 1
        asyncio.run(serve(settings, run_scheduler=not args.no_scheduler))
        return 0
    at = _parse_instant(args.at) if args.command == "dispatch" and args.at else None
    if _upgrade_database(settings, quiet=True) != 0:
        return 1
    if not asyncio.run(_can_send(settings)):
        raise ConfigError(
            "Configuration error: SLACK_BOT_TOKEN is not set and no workspace has installed "
            "the app, so no nudge can be sent. Set SLACK_BOT_TOKEN (see README, 'Create the "
            "Slack app')."
        )
    if args.command == "dispatch":
        return asyncio.run(_dispatch(settings, at))
    return asyncio.run(_scheduler(settings))


def _parse_instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--at: “{text[:40]}” is not an ISO-8601 instant, e.g. 2026-12-07T09:00:00+13:00"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


async def _can_send(settings: Settings) -> bool:
    """A token in the settings, or an installed workspace with its own: else nudges would be
    claimed and never sent."""
    from bot.db import create_engine, session_factory
    from bot.services.workspaces import can_send

    engine = create_engine(settings.database_url)
    try:
        return await can_send(session_factory(engine), settings)
    finally:
        await engine.dispose()


async def _dispatch(settings: Settings, at: datetime | None) -> int:
    from bot.app_context import build_context
    from bot.clock import fixed_clock, system_clock

    clock = fixed_clock(at) if at else system_clock
    ctx = build_context(settings, clock=clock)
    try:
        summary = await ctx.dispatcher.run_pass()
    finally:
        await ctx.close()
    print(summary.line())
    return 0


async def _scheduler(settings: Settings) -> int:
    from bot.app_context import build_context
    from scheduler.runner import run_forever

    ctx = build_context(settings)
    try:
        await run_forever(ctx)
    finally:
        await ctx.close()
    return 0


def _validate_content(path: Path | None) -> int:
    from bot.content import validate

    errors = validate(path)
    for line in errors:
        print(line)
    if errors:
        print(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} found.", file=sys.stderr)
        return 1
    print("Content is valid.")
    return 0


def _upgrade_database(settings: Settings, *, quiet: bool = False) -> int:
    from bot.db import redacted
    from bot.migrate import upgrade

    try:
        upgrade(settings.database_url)
    except Exception as error:
        print(
            f"Database error: could not migrate {redacted(settings.database_url)}: "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
            file=sys.stderr,
        )
        return 1
    if not quiet:
        print(f"Database is up to date ({redacted(settings.database_url)}).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
