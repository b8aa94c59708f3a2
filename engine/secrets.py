"""The secret box: connection secrets are encrypted at rest with Fernet.

``SWITCHBOARD_SECRET_KEY`` holds one Fernet key (32 url-safe base64 bytes, as ``generate_key()``
makes), or several separated by commas to rotate keys: the first encrypts, all of them decrypt.

>>> box = SecretBox(generate_key())
>>> box.decrypt_json(box.encrypt_json({"token": "s3cret"}))
{'token': 's3cret'}

Secrets never appear in ``repr``/``str``: values decrypted here are handed out as ``Secrets``,
a read-only mapping whose ``repr`` names the keys only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from engine.errors import SwitchboardError

SECRET_KEY_VARIABLE = "SWITCHBOARD_SECRET_KEY"


class SecretKeyError(SwitchboardError):
    """The secret key is missing or is not a valid Fernet key; the message says how to fix it."""


class SecretDecryptionError(SwitchboardError):
    """Stored secrets cannot be decrypted: they were encrypted with a key that is not configured."""


def generate_key() -> str:
    """A fresh random Fernet key, as text suitable for ``SWITCHBOARD_SECRET_KEY``."""
    return Fernet.generate_key().decode("ascii")


class Secrets(Mapping[str, Any]):
    """A read-only mapping of decrypted secrets that never shows its values in ``repr``/``str``.

    Logging a connection, or an exception carrying one, must not leak a token, so the
    representation lists the keys and hides the values.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values = dict(values or {})

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._values == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a mapping of mutable values is not hashable

    def __repr__(self) -> str:
        return f"Secrets({', '.join(f'{key}=***' for key in self._values)})"

    __str__ = __repr__

    def reveal(self) -> dict[str, Any]:
        """A plain ``dict`` copy of the values, for code that must send them on (an API call)."""
        return dict(self._values)


class SecretBox:
    """Encrypts and decrypts JSON-able secrets with Fernet (AES-128-CBC + HMAC-SHA256).

    Args:
        keys: one key, or several (a list, or text separated by commas); the first encrypts.

    Raises:
        SecretKeyError: when no key is given or one is not a valid Fernet key.
    """

    def __init__(self, keys: str | bytes | list[str]) -> None:
        parsed = _split_keys(keys)
        if not parsed:
            raise SecretKeyError(_missing_key_message())
        self._fernet = MultiFernet([_fernet(key, position) for position, key in enumerate(parsed)])

    def __repr__(self) -> str:
        return "SecretBox(***)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SecretBox:
        """The box for ``SWITCHBOARD_SECRET_KEY``; missing or invalid: ``SecretKeyError``."""
        return cls(environ.get(SECRET_KEY_VARIABLE, ""))

    def encrypt_json(self, value: Mapping[str, Any]) -> str:
        """The Fernet token (text) of ``value`` serialised as compact JSON."""
        plain = json.dumps(dict(value), separators=(",", ":"), sort_keys=True)
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt_json(self, token: str) -> dict[str, Any]:
        """The JSON object inside ``token``.

        Raises:
            SecretDecryptionError: the token was made with another key, or was tampered with.
        """
        try:
            plain = self._fernet.decrypt(token.encode("ascii"))
        except InvalidToken:
            raise SecretDecryptionError(
                "stored secrets cannot be decrypted with the configured "
                f"{SECRET_KEY_VARIABLE}; was the key changed? (list the old key after the new "
                "one, separated by a comma, to rotate)"
            ) from None
        return json.loads(plain)

    def decrypt_secrets(self, token: str) -> Secrets:
        """Like ``decrypt_json`` but wrapped in ``Secrets`` so it cannot leak through ``repr``."""
        return Secrets(self.decrypt_json(token))


def _split_keys(keys: str | bytes | list[str]) -> list[str]:
    if isinstance(keys, bytes):
        keys = keys.decode("ascii", errors="replace")
    if isinstance(keys, str):
        keys = keys.split(",")
    return [key.strip() for key in keys if key and key.strip()]


def _fernet(key: str, position: int) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        # Never echo the key itself: it may be a real secret with a typo in it.
        raise SecretKeyError(
            f"{SECRET_KEY_VARIABLE} key #{position + 1} is not a valid Fernet key "
            "(32 url-safe base64-encoded bytes); "
            'generate one with: python -c "from engine.secrets import generate_key; '
            'print(generate_key())"'
        ) from None


def _missing_key_message() -> str:
    return (
        f"{SECRET_KEY_VARIABLE} is not set: connection secrets are encrypted at rest and need a "
        'key; generate one with: python -c "from engine.secrets import generate_key; '
        'print(generate_key())" (make run creates var/secret.key for you)'
    )
