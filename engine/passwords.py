"""The password rule, after NIST SP 800-63B (section 5.1.1.2, "Memorized Secret Verifiers").

A new password is refused when it is

1. shorter than ``MIN_LENGTH`` characters once Unicode-normalised (NFKC) and stripped of the
   whitespace at either end (so ten spaces are no password);
2. a commonly used password, or a common word or name, alone or with digits and symbols around
   it (``Password123!``, ``iloveyou2024``): the blocklist is the ranked lists of the zxcvbn
   project (Dropbox) — 30,000 leaked passwords, English words, names and surnames;
3. one character or a short group repeated (``aaaaaaaaaa``, ``abcabcabcabc``), or a run of
   consecutive characters (``0123456789``, ``zyxwvutsrqp``) or of one keyboard row
   (``qwertyuiop``);
4. made of words anyone who knows the account can guess — its email, the part before the ``@``,
   the person's name, the product's name — with fewer than ``MIN_LENGTH`` characters besides.

As the guideline asks, there are no composition rules (no required digit or symbol), every
character is allowed (spaces too) up to ``MAX_LENGTH``, and passwords never expire. The rule
judges only new passwords: existing ones are not re-checked at sign-in.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import itertools
import re
import secrets
import string
import unicodedata
from collections.abc import Iterable

MIN_LENGTH = 10
MAX_LENGTH = 1024
PRODUCT_NAME = "switchboard"
RULE = (
    f"At least {MIN_LENGTH} characters (spaces at either end do not count). Not a common "
    "password, word or name, even with digits or symbols added; no repeated or sequential "
    "characters (aaaa…, 1234…, qwerty…); your email and name do not count toward the "
    f"{MIN_LENGTH}."
)
"""The rule in one paragraph, for the people who choose a password (the editor shows it)."""

_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_PADDING = rf"[\d\s{re.escape(string.punctuation)}]*"
_AROUND_A_WORD = re.compile(rf"^{_PADDING}(.*?){_PADDING}$", re.DOTALL)
"""Digits, symbols and spaces before and after a word: ``Password123!`` is ``password``."""
_SHORTEST_GUESSABLE_WORD = 3


class WeakPassword(ValueError):
    """A password the rule refuses; the message says which part of the rule (never the
    password)."""


def check_password(password: str, *, personal: Iterable[str] = ()) -> None:
    """Refuse ``password`` unless it satisfies the rule (see the module's docstring).

    Args:
        password: the new password, as typed.
        personal: what anyone who knows the account can guess: its email and the person's
            name (the part of the email before the ``@`` is taken from it).

    Raises:
        WeakPassword: saying which part of the rule the password breaks.
    """
    core = unicodedata.normalize("NFKC", password).strip()
    if len(core) < MIN_LENGTH:
        raise WeakPassword(
            f"use at least {MIN_LENGTH} characters (spaces at either end do not count)"
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"use at most {MAX_LENGTH} characters")
    folded = core.casefold()
    if _is_common(folded):
        raise WeakPassword(
            "this is a commonly used password, word or name (digits and symbols around it do "
            "not help); choose a few unrelated words or a password manager's suggestion"
        )
    if _is_pattern(folded):
        raise WeakPassword(
            "repeated or sequential characters (aaaa…, abcabc…, 1234…, qwerty…) are guessed "
            "first; choose something less regular"
        )
    if len(_without(folded, _guessable_words(personal))) < MIN_LENGTH:
        raise WeakPassword(
            f"your email, your name and the word {PRODUCT_NAME!r} do not count toward the "
            f"{MIN_LENGTH} characters; add more of your own"
        )


# -- commonly used -----------------------------------------------------------------------------


def _is_common(folded: str) -> bool:
    blocklist = _blocklist()
    bare = _AROUND_A_WORD.match(folded)
    word = bare.group(1) if bare else folded
    return any(candidate in blocklist for candidate in {folded, word, _squeezed(word)})


def _squeezed(text: str) -> str:
    """``text`` without whitespace: ``pass word`` is the password ``password``."""
    return "".join(text.split())


@functools.cache
def _blocklist() -> frozenset[str]:
    """Every entry of zxcvbn's ranked lists (loaded once, on first use: about 90,000 words)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.casefold() for words in FREQUENCY_LISTS.values() for word in words)


# -- patterns ----------------------------------------------------------------------------------


def _is_pattern(folded: str) -> bool:
    text = _squeezed(folded)
    return _is_repetition(text) or _is_sequence(text) or _is_keyboard_run(text)


def _is_repetition(text: str) -> bool:
    """One group of at most half the text, repeated to fill it (the last copy may be cut)."""
    return any(
        text == (text[:size] * (len(text) // size + 1))[: len(text)]
        for size in range(1, len(text) // 2 + 1)
    )


def _is_sequence(text: str) -> bool:
    steps = {ord(after) - ord(before) for before, after in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def _is_keyboard_run(text: str) -> bool:
    rows = "".join(_KEYBOARD_ROWS)
    return text in rows or text[::-1] in rows


# -- guessable words ---------------------------------------------------------------------------


def _guessable_words(personal: Iterable[str]) -> list[str]:
    words = {PRODUCT_NAME}
    for value in personal:
        folded = unicodedata.normalize("NFKC", value).strip().casefold()
        words.add(folded)
        words.update(part for part in re.split(r"[@\s._+-]+", folded) if part)
    return sorted(
        (word for word in words if len(word) >= _SHORTEST_GUESSABLE_WORD), key=len, reverse=True
    )


def _without(text: str, words: list[str]) -> str:
    """``text`` with every occurrence of ``words`` removed, longest first."""
    for word in words:
        text = text.replace(word, "")
    return text


# -- hashing ----------------------------------------------------------------------------------

# scrypt at n=2**14, r=8 costs 16 MiB and tens of milliseconds per guess (OWASP's minimum).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """A self-describing scrypt hash: ``scrypt$n$r$p$salt$key`` (base64)."""
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return "$".join(
        ["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(key)]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def new_password_hash(password: str, *, email: str, name: str) -> str:
    """The hash to store for a new password of the account ``email`` / ``name``, once the
    password rule accepts it. Raises ``WeakPassword``."""
    check_password(password, personal=(email, name))
    return hash_password(password)


@functools.cache
def dummy_hash() -> str:
    """Checked when an email is unknown, so a miss costs the time of a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * r * n * 2, dklen=32
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
