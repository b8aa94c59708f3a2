"""Replay protection for app deliveries (``/hooks/apps/<app>``).

Xero's and Intuit's signatures cover the raw body only — no timestamp, no nonce — so a
captured delivery stays validly signed for ever. What a replay can be refused by is its
content: a verified body already accepted within the window is acknowledged (200, so an app
that re-sends after a lost answer stops retrying) and queued nothing. The same memory makes a
genuine re-delivery harmless, which is also what the apps ask of receivers.

The memory is the store's (``Store.remember_delivery``): every web process shares it and it
survives restarts. A delivery's sighting is written in the same transaction as its queued
parts, so a delivery that failed to queue was never seen and the app's re-send gets through.
"""

from __future__ import annotations

import hashlib

WINDOW_SECONDS = 24 * 3600.0
"""How long an accepted delivery is remembered."""


def delivery_digest(app_id: str, body: bytes) -> str:
    """What identifies a delivery: the app and the exact bytes it signed."""
    return hashlib.sha256(app_id.encode() + b"\0" + body).hexdigest()
