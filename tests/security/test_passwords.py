"""The password rule (``engine.passwords``): what it refuses, why, and what it lets through."""

from __future__ import annotations

import pytest

from engine.passwords import MAX_LENGTH, MIN_LENGTH, RULE, WeakPassword, check_password

ACCOUNT = ("ada.lovelace@example.com", "Ada Lovelace")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        (" " * 10, "at least 10"),
        (" " * 40, "at least 10"),
        ("  ninechars  ", "at least 10"),
        ("\u3000" * 12, "at least 10"),  # ideographic spaces are whitespace too
        ("x" * (MAX_LENGTH + 1), "at most"),
        ("password1234", "commonly used"),
        ("Password123!", "commonly used"),
        ("  iloveyou2024  ", "commonly used"),
        ("PASS WORD 1234", "commonly used"),
        ("manchester", "commonly used"),  # a common word
        ("Strawberry!!", "commonly used"),
        ("aaaaaaaaaaaa", "repeated or sequential"),
        ("abcabcabcabc", "repeated or sequential"),
        ("1212121212", "repeated or sequential"),
        ("abcdefghijklm", "repeated or sequential"),
        ("zyxwvutsrqpo", "repeated or sequential"),
        ("asdfghjkl;'", "commonly used"),  # punctuation around a keyboard row
        ("mnbvcxzlkjh", "repeated or sequential"),  # keyboard rows, backwards
        ("ada.lovelace@example.com", "do not count"),
        ("lovelace-ada-99", "do not count"),
        ("Switchboard2026!", "commonly used"),  # a dictionary word, too
        ("my-switchboard-42", "do not count"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    with pytest.raises(WeakPassword, match=reason) as refused:
        check_password(password, personal=ACCOUNT)
    assert password.strip() not in str(refused.value) or not password.strip()


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "  correct horse battery  ",
        "8302749163",  # ten random digits
        "Tr0ub4dor&3x",
        "ünïcödé pässwörd",
        "日本語のパスワードです",
        "lovelace plus several words",  # the name, and enough besides
        "x" * 5 + "7q!L" + "z" * 3,
        "p" * (MAX_LENGTH - 30) + "a genuinely long tail phrase",
    ],
)
def test_good_passwords_pass(password):
    check_password(password, personal=ACCOUNT)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def test_the_rule_judges_the_normalised_password():
    # NFKC folds full-width letters to plain ones: a disguised common password is still one.
    with pytest.raises(WeakPassword, match="commonly used"):
        check_password(full_width("password1234"))
    check_password(full_width("quietmorningmist"))
    with pytest.raises(WeakPassword, match="at least"):
        check_password("\u00a0" * 3 + "short" + "\u2003" * 3)


def test_the_published_rule_names_the_numbers():
    assert str(MIN_LENGTH) in RULE and "common" in RULE
