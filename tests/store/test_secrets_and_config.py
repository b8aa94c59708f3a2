"""The secret box and settings from the environment (no database needed)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine.config import ConfigError, Settings, default_database_url, ensure_secret_key
from engine.secrets import SecretBox, SecretKeyError, Secrets, generate_key


def test_round_trip_and_tokens_differ():
    box = SecretBox(generate_key())
    first = box.encrypt_json({"token": "abc"})
    assert box.decrypt_json(first) == {"token": "abc"}
    assert box.encrypt_json({"token": "abc"}) != first  # fresh IV every time
    assert "abc" not in first


@pytest.mark.parametrize("key", ["", "   ", None])
def test_missing_key_is_a_clear_error(key):
    with pytest.raises(SecretKeyError, match="SWITCHBOARD_SECRET_KEY is not set"):
        SecretBox.from_env({} if key is None else {"SWITCHBOARD_SECRET_KEY": key})


def test_invalid_key_is_a_clear_error_that_does_not_echo_it():
    with pytest.raises(SecretKeyError, match="not a valid Fernet key") as raised:
        SecretBox("not-a-key-at-all")
    assert "not-a-key-at-all" not in str(raised.value)


def test_box_and_secrets_hide_values():
    assert "=" not in repr(SecretBox(generate_key())).replace("***", "")
    secrets = Secrets({"password": "hunter2"})
    assert "hunter2" not in repr(secrets) and "hunter2" not in str(secrets)
    assert secrets == {"password": "hunter2"}
    assert dict(secrets) == {"password": "hunter2"}


def test_settings_defaults(tmp_path):
    settings = Settings.from_env({}, cwd=tmp_path)
    assert settings.var_dir == (tmp_path / "var").resolve()
    assert settings.database_url == f"sqlite:///{(tmp_path / 'var' / 'switchboard.db').resolve()}"
    assert settings.database_url == default_database_url(tmp_path / "var")
    assert settings.redis_url is None
    assert settings.secret_key is None
    assert settings.webhook_max_payload_bytes == 5 * 1024 * 1024
    assert (settings.webhook_rate_limit, settings.webhook_rate_window_seconds) == (300, 10.0)
    assert settings.webhook_queue_limit == 10_000
    assert settings.allow_private_network is False
    assert settings.max_run_seconds > 0 and settings.max_bundles_per_run > 0


def test_settings_from_environment(tmp_path):
    key = generate_key()
    settings = Settings.from_env(
        {
            "SWITCHBOARD_DATABASE_URL": "postgresql+psycopg://sb@db/sb",
            "SWITCHBOARD_REDIS_URL": "redis://localhost:6379/0",
            "SWITCHBOARD_SECRET_KEY": key,
            "SWITCHBOARD_VAR_DIR": str(tmp_path / "state"),
            "SWITCHBOARD_WEBHOOK_QUEUE_LIMIT": "50",
            "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "yes",
            "SWITCHBOARD_MAX_RUN_SECONDS": "90",
        }
    )
    assert settings.database_url == "postgresql+psycopg://sb@db/sb"
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.var_dir == (tmp_path / "state").resolve()
    assert settings.webhook_queue_limit == 50
    assert settings.allow_private_network is True
    assert settings.max_run_seconds == 90.0
    assert key not in repr(settings)
    assert settings.secret_box().decrypt_json(settings.secret_box().encrypt_json({"a": 1})) == {
        "a": 1
    }


def test_settings_are_frozen(tmp_path):
    settings = Settings.from_env({}, cwd=tmp_path)
    with pytest.raises(AttributeError):
        settings.redis_url = "redis://x"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SWITCHBOARD_WEBHOOK_QUEUE_LIMIT", "lots"),
        ("SWITCHBOARD_WEBHOOK_RATE_LIMIT", "0"),
        ("SWITCHBOARD_ALLOW_PRIVATE_NETWORK", "maybe"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value}, cwd=tmp_path)


def test_secret_box_without_key_explains(tmp_path):
    with pytest.raises(SecretKeyError, match="not set"):
        Settings.from_env({}, cwd=tmp_path).secret_box()


def test_ensure_secret_key_creates_a_private_file_once(tmp_path):
    var_dir = tmp_path / "var"
    key = ensure_secret_key(var_dir)
    path = Path(var_dir) / "secret.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ensure_secret_key(var_dir) == key
    SecretBox(key)
    settings = Settings.from_env({}, cwd=tmp_path).with_secret_key_file()
    assert settings.secret_key == key


def test_ensure_secret_key_refuses_a_broken_file(tmp_path):
    (tmp_path / "secret.key").write_text("garbage")
    with pytest.raises(SecretKeyError, match=r"secret\.key"):
        ensure_secret_key(tmp_path)
