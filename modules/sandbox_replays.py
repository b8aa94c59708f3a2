"""What the sandboxes remember to honour client idempotency keys (Xero's ``Idempotency-Key``
header, QuickBooks' ``requestid`` parameter): the answer each key got, per organisation.

A write sent again with a key it already carried is answered with the stored answer and
changes nothing. Only successful answers are stored: a refused write changed nothing, so
sending it again is harmless. Callers hold the sandbox lock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredReply:
    """The first answer a key got, and what the request that got it looked like."""

    fingerprint: str
    status: int
    body: Any


class KeyReused(Exception):
    """A key came back on a request that differs from the one it first came with."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """A digest of what makes two requests "the same request" for a key."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


class ReplayStore:
    """Stored answers by (scope, key); ``scope`` is the tenant or realm the key belongs to."""

    def __init__(self) -> None:
        self._replies: dict[tuple[str, str], StoredReply] = {}

    def __len__(self) -> int:
        return len(self._replies)

    def lookup(
        self, scope: str, key: str, fingerprint: str, *, strict: bool = True
    ) -> StoredReply | None:
        """The stored answer for ``key``, or None when the key is new.

        Raises:
            KeyReused: ``strict`` and the key first came with a different request.
        """
        stored = self._replies.get((scope, key))
        if stored is not None and strict and stored.fingerprint != fingerprint:
            raise KeyReused(key)
        return stored

    def remember(self, scope: str, key: str, fingerprint: str, status: int, body: Any) -> None:
        """Keep a successful answer for ``key`` (errors are never replayed)."""
        if status < 400:
            self._replies[(scope, key)] = StoredReply(fingerprint, status, body)
