"""`leading-bot`: the command line (see README.md, "Operations")."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings, require_slack_credentials
from bot.content import ContentError
from bot.crypto import Keyring, encryption_keys, new_key
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
    dispatch.add_argument(
        "--at",
        metavar="INSTANT",
        help="ISO-8601 instant to act as now, with its zone offset (required), "
        "e.g. 2026-12-07T09:00:00+13:00",
    )
    commands.add_parser("demo", help="walk through the app against a local Slack simulator")
    db = commands.add_parser("db", help="database commands")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply database migrations")
    content = commands.add_parser("content", help="content pack commands")
    content_commands = content.add_subparsers(
        dest="content_command", required=True, metavar="ACTION"
    )
    validate = content_commands.add_parser("validate", help="check a content pack")
    validate.add_argument("path", nargs="?", type=Path, help="content folder or capability file")
    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", help="public base URL, e.g. https://nudges.example.org")
    commands.add_parser(
        "doctor", help="check settings, database, keys and each workspace's token; exit 1 if wrong"
    )
    keys = commands.add_parser("keys", help="encryption keys for what is stored")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_commands.add_parser("new", help="print a fresh key for ENCRYPTION_KEYS")
    rotate = keys_commands.add_parser(
        "rotate", help="re-encrypt everything stored with the first key of ENCRYPTION_KEYS"
    )
    rotate.add_argument(
        "--batch", type=_batch_size, default=500, help="values per transaction (default 500)"
    )
    return parser


def _batch_size(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"“{text[:20]}” is not a whole number of 1 or more")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except ContentError as error:
        print(content_refused(error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "content":
        return _validate_content(args.path)
    if args.command == "manifest":
        from bot.content import load_library
        from bot.manifest import build_manifest, public_base_url

        url = public_base_url(args.url) if args.url is not None else None
        # Only whether installs come through "Add to Slack": no other setting is needed here.
        distributed = bool(os.environ.get("SLACK_CLIENT_ID", "").strip())
        content_dir = os.environ.get("CONTENT_DIR", "").strip()  # its words name the content
        library = load_library(Path(content_dir) if content_dir else None)
        manifest = build_manifest(library, url, distributed=distributed)
        print(json.dumps(manifest, indent=2, ensure_ascii=False))
        return 0
    if args.command == "demo":
        # The one place the runtime reaches into the dev kit, and only when asked for the demo:
        # the Docker image carries no devkit/, and serve, scheduler and dispatch never come here.
        from devkit.demo import run_demo

        return asyncio.run(run_demo())
    if args.command == "keys" and args.keys_command == "new":
        print(new_key())
        return 0

    if args.command == "doctor":
        return _doctor()

    # A mistyped --at is refused before any setting is read or the database is touched.
    at = _parse_instant(args.at) if args.command == "dispatch" and args.at is not None else None
    settings = load_settings()
    configure_logging(settings.log_level_number, settings.log_format)
    if args.command in ("serve", "scheduler", "dispatch"):
        from bot.content import load_library

        load_library(settings.content_dir)  # every problem at once, before anything starts
    if args.command == "serve":
        require_slack_credentials(settings)
        from bot.serve import SlackUnreachable, check_app_token

        if settings.slack_app_token:
            try:
                asyncio.run(check_app_token(settings))
            except SlackUnreachable as error:
                print(error, file=sys.stderr)
                return 1
    keys = encryption_keys(settings)  # before any work: no key, no start
    keyring = Keyring(keys)
    if args.command == "db":
        return _upgrade_database(settings, keys)
    if args.command == "serve":
        from bot.serve import serve

        if _upgrade_database(settings, keys) != 0:
            return 1
        asyncio.run(serve(settings, run_scheduler=not args.no_scheduler, keyring=keyring))
        return 0
    if _upgrade_database(settings, keys, quiet=True) != 0:
        return 1
    if args.command == "keys":
        return asyncio.run(_rotate_keys(settings, keyring, args.batch))
    if not asyncio.run(_can_send(settings, keyring)):
        raise ConfigError(
            "Configuration error: SLACK_BOT_TOKEN is not set and no workspace has installed "
            "the app yet, so no nudge can be sent. Set SLACK_BOT_TOKEN, or install the app "
            "from /slack/install first (see README, 'Create the Slack app')."
        )
    if args.command == "dispatch":
        return asyncio.run(_dispatch(settings, keyring, at))
    return asyncio.run(_scheduler(settings, keyring))


def _doctor() -> int:
    from bot.doctor import diagnose

    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"✘ Configuration: {str(error).removeprefix('Configuration error: ')}")
        return 1
    configure_logging(settings.log_level_number, settings.log_format)
    checks = asyncio.run(diagnose(settings))
    for check in checks:
        print(check.line())
    return 0 if all(check.ok for check in checks) else 1


def _parse_instant(text: str) -> datetime:
    """An instant with its zone offset, as UTC; a bare local time is refused, not guessed."""
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--at: “{text[:40]}” is not an ISO-8601 instant, e.g. 2026-12-07T09:00:00+13:00"
        ) from None
    if instant.utcoffset() is None:
        raise ConfigError(
            f"--at: “{text[:40]}” has no zone offset; add one, e.g. 2026-12-07T09:00:00+13:00 "
            "(New Zealand summer time) or 2026-12-06T20:00:00Z (UTC)"
        )
    return instant.astimezone(UTC)


async def _can_send(settings: Settings, keyring: Keyring) -> bool:
    """A token in the settings, or at least one install: else nudges would be claimed and
    never sent."""
    from bot.app_context import build_context

    ctx = build_context(settings, keyring=keyring)
    try:
        return await ctx.installations.any_installed()
    finally:
        await ctx.close()


async def _dispatch(settings: Settings, keyring: Keyring, at: datetime | None) -> int:
    from bot.app_context import build_context
    from bot.clock import fixed_clock, system_clock

    clock = fixed_clock(at) if at is not None else system_clock
    ctx = build_context(settings, clock=clock, keyring=keyring)
    try:
        summary = await ctx.dispatcher.run_pass()
    finally:
        await ctx.close()
    print(summary.line())
    return 0


async def _scheduler(settings: Settings, keyring: Keyring) -> int:
    from bot.app_context import build_context
    from scheduler.runner import run_forever

    ctx = build_context(settings, keyring=keyring)
    if settings.metrics_port:
        from bot.metrics import serve_metrics

        serve_metrics(settings.metrics_port)
    try:
        await run_forever(ctx)
    finally:
        await ctx.close()
    return 0


def content_refused(error: ContentError) -> str:
    """One block: a first line saying what was refused, then every `file:line: message`."""
    count = len(error.errors)
    problems = f"{count} problem{'s' if count != 1 else ''}"
    if error.content_dir is None:
        first = f"Content error: the shipped content pack has {problems}:"
    else:
        where = error.content_dir
        first = (
            f"Content error: CONTENT_DIR {where} has {problems}; nothing was started. "
            f"Fix them (check with `leading-bot content validate {where}`), then start again:"
        )
    return "\n".join([first, *(f"  {line}" for line in error.errors)])


def _validate_content(path: Path | None) -> int:
    """PATH, else CONTENT_DIR when it is set, else the shipped pack."""
    from bot.content import load_library, validate

    if path is None and os.environ.get("CONTENT_DIR", "").strip():
        path = Path(os.environ["CONTENT_DIR"].strip())
    if path is not None and not path.exists():
        print(f"{path}: no such file or folder", file=sys.stderr)
        return 1
    errors = validate(path)
    for line in errors:
        print(line)
    if errors:
        print(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} found.", file=sys.stderr)
        return 1
    if path is None or path.is_dir():
        library = load_library(path)
        titles = ", ".join(c.title for c in library.capabilities)
        count = len(library.capabilities)
        print(f"Content is valid. {count} capabilit{'ies' if count != 1 else 'y'}: {titles}.")
    else:
        print("Content is valid.")
    return 0


async def _rotate_keys(settings: Settings, keyring: Keyring, batch: int) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db import create_engine, redacted, session_factory
    from bot.services.secrets import rotate_keys

    engine = create_engine(settings.database_url)
    try:
        summary = await rotate_keys(session_factory(engine), keyring, batch_size=batch)
    except SQLAlchemyError as error:
        print(
            f"Database error: keys rotate stopped in {redacted(settings.database_url)}: "
            f"{type(error).__name__}: {str(error).splitlines()[0]}. What was done is kept; "
            "run it again to carry on.",
            file=sys.stderr,
        )
        return 1
    finally:
        await engine.dispose()
    print(summary.line())
    return 0


def _upgrade_database(settings: Settings, keys: Sequence[str], *, quiet: bool = False) -> int:
    from bot.db import redacted
    from bot.migrate import upgrade

    try:
        upgraded = upgrade(settings.database_url, encryption_keys=keys)
    except Exception as error:
        _say(
            settings,
            f"Database error: could not migrate {redacted(settings.database_url)}: "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
            logging.ERROR,
        )
        return 1
    if not quiet:
        _say(settings, upgraded.line(redacted(settings.database_url)), logging.INFO)
    return 0


def _say(settings: Settings, line: str, level: int) -> None:
    """A start-up line on stderr: as a JSON log line with LOG_FORMAT=json, else as it is."""
    if settings.log_format == "json":
        logging.getLogger("bot.migrate").log(level, line)
    else:
        print(line, file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
