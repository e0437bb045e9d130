"""Member data encrypted at rest: what people wrote and what names them.

Columns typed :class:`SecretText` (names, message texts, questions, the bot's own messages
with @names in them, audit details) are sealed with AES-GCM under the key in
``QUNBOT_DATA_KEY`` before they reach the database, on SQLite and PostgreSQL alike, and
opened when read. Ids used for joins stay plain. A sealed value is text::

    qbe1$<key id>$<base64url(nonce + ciphertext + tag)>

The key id (a hash of the key, never the key) says which key opens it, so older keys
listed in ``QUNBOT_DATA_KEYS_OLD`` still read what they sealed while ``qunbot keys rotate``
seals it again under the new one. The column's name is the associated data: a sealed
name pasted into a message column does not open. Without a key values are stored as
given (the demo), except that text which itself looks sealed is escaped (``qbe0$``), so a
member cannot plant a value that later reads as undecryptable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Dialect, String
from sqlalchemy.types import TypeDecorator, TypeEngine

SEALED = "qbe1$"
ESCAPED = "qbe0$"
_NONCE = 12
_SEALED_FORM = re.compile(r"qbe1\$([0-9a-f]{8})\$([A-Za-z0-9_-]{38,})\Z", re.DOTALL)
_DIALECT_KEYS = "qunbot_data_keys"


class DataKeyError(Exception):
    """A key is missing, malformed or not the one the data was sealed with."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"qunbot data key id\x00" + key).hexdigest()[:8]


def new_key() -> str:
    """A fresh key, as ``QUNBOT_DATA_KEY`` takes it."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def parse_key(text: str, name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode() + b"=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise DataKeyError(
            f"{name} is not a key: expected 32 bytes in URL-safe base64 (44 characters, "
            "`qunbot keys new` makes one)"
        )
    return key


@dataclass(frozen=True)
class DataKeys:
    """The active key (seals) and older ones (only open), by key id."""

    active: bytes
    older: tuple[bytes, ...] = ()
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)
    _prefix: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ciphers = {key_id(k): AESGCM(k) for k in (*self.older, self.active)}
        object.__setattr__(self, "_ciphers", ciphers)
        object.__setattr__(self, "_prefix", f"{SEALED}{self.active_id}$")

    @classmethod
    def from_texts(cls, active: str | None, older: str | None) -> DataKeys | None:
        if not active:
            if older:
                raise DataKeyError("QUNBOT_DATA_KEYS_OLD is set but QUNBOT_DATA_KEY is not")
            return None
        olds = [t for t in (older or "").split(",") if t.strip()]
        return cls(
            parse_key(active, "QUNBOT_DATA_KEY"),
            tuple(parse_key(t, "QUNBOT_DATA_KEYS_OLD") for t in olds),
        )

    @property
    def active_id(self) -> str:
        return key_id(self.active)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._ciphers)

    def seal(self, text: str, label: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._ciphers[self.active_id].encrypt(nonce, text.encode(), label.encode())
        return self._prefix + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def is_current(self, value: str) -> bool:
        """Sealed under the active key already (rotation skips it)."""
        return value.startswith(self._prefix)

    def open(self, value: str, label: str) -> str:
        """The text of a sealed value (or a value stored before sealing, as it is); a damaged,
        altered or foreign one is an error, never returned as if it were text."""
        if not value.startswith(SEALED):
            return unescape(value)
        found = _SEALED_FORM.match(value)
        if found is None:
            raise DataKeyError(
                f"a value in {label} is damaged: it starts as sealed data but is not"
            )
        cipher = self._ciphers.get(found[1])
        if cipher is None:
            raise DataKeyError(
                f"a value in {label} is sealed with key {found[1]}, which neither "
                "QUNBOT_DATA_KEY nor QUNBOT_DATA_KEYS_OLD holds"
            )
        try:
            raw = base64.urlsafe_b64decode(found[2] + "=" * (-len(found[2]) % 4))
            return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], label.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise DataKeyError(
                f"a value in {label} does not open with key {found[1]}: altered, or moved "
                "from another column"
            ) from None


def escape(text: str) -> str:
    """Unsealed text that looks sealed (or escaped) is stored escaped."""
    return ESCAPED + text if text.startswith((SEALED, ESCAPED)) else text


def unescape(text: str) -> str:
    return text[len(ESCAPED) :] if text.startswith(ESCAPED) else text


def use_keys(dialects: Iterable[Dialect], keys: DataKeys | None) -> None:
    """Seal and open through these engines' dialects with ``keys`` (None: store as given)."""
    for dialect in dialects:
        setattr(dialect, _DIALECT_KEYS, keys)


def keys_of(dialect: Dialect) -> DataKeys | None:
    return getattr(dialect, _DIALECT_KEYS, None)


class SecretText(TypeDecorator[str]):
    """Text sealed at rest with the keys given to the engine (see :func:`use_keys`).

    ``label`` (``table.column``) is the associated data. The keys are looked up on each
    value, not when SQLAlchemy builds and caches the processor.
    """

    impl = String
    cache_ok = True

    def __init__(self, label: str, sqlite_length: int | None = None) -> None:
        """``sqlite_length``: the length a column was declared with before it was sealed.
        PostgreSQL's columns are widened (sealed text is longer); SQLite ignores declared
        lengths, and rebuilding a table other tables reference is refused by its foreign
        keys, so there the old declaration stays."""
        super().__init__()
        self.label = label
        self.sqlite_length = sqlite_length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite" and self.sqlite_length is not None:
            return dialect.type_descriptor(String(self.sqlite_length))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        keys = keys_of(dialect)
        return escape(value) if keys is None else keys.seal(value, self.label)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        keys = keys_of(dialect)
        if keys is None:
            if value.startswith(SEALED):  # unsealed text was escaped when it was stored
                raise DataKeyError(
                    f"{self.label} holds sealed data: set QUNBOT_DATA_KEY to read this database"
                )
            return unescape(value)
        return keys.open(value, self.label)
