"""Secrets at rest: what people write and any Slack token are encrypted before they are stored.

One `Keyring` per process, built from ENCRYPTION_KEYS (the first key encrypts, every key
decrypts, so keys rotate without downtime) and handed to the services that store secrets.
With SQLite and no ENCRYPTION_KEYS, a key file beside the database holds the key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

from bot.config import ConfigError, Settings

logger = logging.getLogger(__name__)

KEY_FILE_SUFFIX = ".key"


def new_key() -> str:
    """A fresh key, as ENCRYPTION_KEYS takes it."""
    return Fernet.generate_key().decode("ascii")


class Keyring:
    """Fernet keys: the first encrypts, all decrypt."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._first = Fernet(keys[0])
        self._all = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, text: str) -> str:
        return self._all.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The text again; InvalidToken if no key here can read it."""
        return self._all.decrypt(stored.encode("ascii")).decode("utf-8")

    def under_first_key(self, stored: str) -> bool:
        try:
            self._first.decrypt(stored.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def rotate(self, stored: str) -> str:
        """The same text, encrypted with the first key; InvalidToken if no key can read it."""
        return self._all.rotate(stored.encode("ascii")).decode("ascii")


def key_file_path(database_url: str) -> Path | None:
    """Where the key lives for a SQLite file: beside it (`leading-bot.db.key`).

    None for PostgreSQL, which needs ENCRYPTION_KEYS, and for an in-memory SQLite database.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = (url.database or "").removeprefix("file:")  # `file:` URIs name a file too
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    return Path(database + KEY_FILE_SUFFIX)


def keyring_for(settings: Settings) -> Keyring:
    """The process's keyring; see `encryption_keys`."""
    return Keyring(encryption_keys(settings))


def encryption_keys(settings: Settings) -> list[str]:
    """ENCRYPTION_KEYS, else (SQLite only) the key in the file beside the database, made on the
    first start. Raises ConfigError naming ENCRYPTION_KEYS when there is no key to be had."""
    if settings.encryption_keys:
        return settings.encryption_key_list
    if make_url(settings.database_url).get_backend_name() != "sqlite":
        raise ConfigError(
            "Configuration error: ENCRYPTION_KEYS is not set: with PostgreSQL it is required, "
            "to encrypt reflections and tokens. Make a key with `leading-bot keys new`."
        )
    path = key_file_path(settings.database_url)
    if path is None:  # an in-memory database lives no longer than this process: nor does its key
        return [new_key()]
    return [_key_from_file(path)]


def _key_from_file(path: Path) -> str:
    """Read the key file, or make it (readable by this user only) if there is none yet."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    except OSError as error:
        raise ConfigError(
            f"Configuration error: ENCRYPTION_KEYS is not set and the key file {path} could not "
            f"be made ({error.strerror}). Set ENCRYPTION_KEYS (`leading-bot keys new` makes a key)."
        ) from None
    key = new_key()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    logger.info(
        "Made a new encryption key in %s (mode 0600). Keep it with the database: "
        "without it the reflections can't be read.",
        path,
    )
    return key


def _read_key_file(path: Path) -> str:
    key = path.read_text("ascii", errors="replace").strip()
    try:
        Fernet(key)
    except ValueError:
        raise ConfigError(
            f"Configuration error: ENCRYPTION_KEYS is not set and the key file {path} does not "
            "hold a key. Restore it from a backup, or set ENCRYPTION_KEYS."
        ) from None
    return key
