"""Configuration is read from the environment and refused with a clear message when wrong."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from config import ConfigError, load_config


def test_defaults_are_development_sqlite_and_local_origin(tmp_path, monkeypatch) -> None:
    config = load_config({"BRANDTRACE_SECRET_KEY": "k" * 40})
    assert config["ENV_NAME"] == "development"
    assert config["DATABASE_URL"].startswith("sqlite:///") and "instance" in config["DATABASE_URL"]
    assert config["BASE_URL"] == "http://127.0.0.1:5000"
    assert config["KEY_DIR"].endswith("certs")
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["EPCIS_FUTURE_TOLERANCE_SECONDS"] == 3600


def test_trusted_proxies_is_a_count_of_zero_or_more() -> None:
    assert load_config({"BRANDTRACE_SECRET_KEY": "k" * 40})["TRUSTED_PROXIES"] == 0
    config = load_config({"BRANDTRACE_SECRET_KEY": "k" * 40, "BRANDTRACE_TRUSTED_PROXIES": "2"})
    assert config["TRUSTED_PROXIES"] == 2


def test_https_origin_turns_on_secure_cookies() -> None:
    config = load_config(
        {"BRANDTRACE_SECRET_KEY": "k" * 40, "BRANDTRACE_BASE_URL": "https://brand.example.org/"}
    )
    assert config["BASE_URL"] == "https://brand.example.org"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-")


def test_postgres_url_gets_the_psycopg_driver() -> None:
    config = load_config(
        {"BRANDTRACE_SECRET_KEY": "k" * 40, "BRANDTRACE_DATABASE_URL": "postgresql://u@h/db"}
    )
    assert config["DATABASE_URL"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"BRANDTRACE_ENV": "staging"}, "BRANDTRACE_ENV"),
        ({"BRANDTRACE_ENV": "production"}, "BRANDTRACE_SECRET_KEY"),
        ({"BRANDTRACE_SECRET_KEY": "short"}, "BRANDTRACE_SECRET_KEY"),
        ({"BRANDTRACE_BASE_URL": "brand.example.org"}, "BRANDTRACE_BASE_URL"),
        ({"BRANDTRACE_BASE_URL": "https://brand.example.org/path"}, "BRANDTRACE_BASE_URL"),
        ({"BRANDTRACE_BASE_URL": "ftp://brand.example.org"}, "BRANDTRACE_BASE_URL"),
        ({"BRANDTRACE_DATABASE_URL": "not a url"}, "BRANDTRACE_DATABASE_URL"),
        ({"BRANDTRACE_DATABASE_URL": "mysql://u@h/db"}, "BRANDTRACE_DATABASE_URL"),
        ({"BRANDTRACE_REDIS_URL": "http://localhost"}, "BRANDTRACE_REDIS_URL"),
        ({"BRANDTRACE_LOG_LEVEL": "LOUD"}, "BRANDTRACE_LOG_LEVEL"),
        ({"BRANDTRACE_MAX_REQUEST_BYTES": "lots"}, "BRANDTRACE_MAX_REQUEST_BYTES"),
        ({"BRANDTRACE_TRUSTED_PROXIES": "one"}, "BRANDTRACE_TRUSTED_PROXIES"),
        ({"BRANDTRACE_TRUSTED_PROXIES": "-1"}, "BRANDTRACE_TRUSTED_PROXIES"),
        (
            {"BRANDTRACE_EPCIS_FUTURE_TOLERANCE_SECONDS": "an hour"},
            "BRANDTRACE_EPCIS_FUTURE_TOLERANCE_SECONDS",
        ),
    ],
)
def test_bad_values_name_the_variable(environ, variable) -> None:
    environ = {"BRANDTRACE_SECRET_KEY": "k" * 40, **environ}
    if variable == "BRANDTRACE_SECRET_KEY" and environ.get("BRANDTRACE_ENV") == "production":
        environ.pop("BRANDTRACE_SECRET_KEY")
    with pytest.raises(ConfigError, match=variable):
        load_config(environ)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("rediss://cache.example:6380/1", "rediss://cache.example:6380/1"),
        ("unix:///run/redis/redis.sock", "redis+unix:///run/redis/redis.sock"),
        ("redis+unix:///run/redis/redis.sock", "redis+unix:///run/redis/redis.sock"),
    ],
)
def test_redis_urls_as_redis_spells_them_reach_the_rate_limits(given: str, used: str) -> None:
    from limits.storage import RedisStorage, storage_from_string

    config = load_config({"BRANDTRACE_REDIS_URL": given})
    assert config["REDIS_URL"] == used
    # The rate-limit library takes it (it connects on first use): the server can start.
    assert isinstance(storage_from_string(used), RedisStorage)


def test_production_accepts_a_real_secret() -> None:
    config = load_config({"BRANDTRACE_ENV": "production", "BRANDTRACE_SECRET_KEY": "k" * 40})
    assert config["SECRET_KEY"] == "k" * 40


def test_development_secret_is_generated_once_and_kept(tmp_path, monkeypatch) -> None:
    import config as config_module

    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    first = load_config({})["SECRET_KEY"]
    second = load_config({})["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def _start_in(instance_dir: str, barrier, keys) -> None:
    import config as config_module

    config_module.INSTANCE_DIR = Path(instance_dir)
    barrier.wait()  # every process looks for the key at the same moment
    keys.put(load_config({})["SECRET_KEY"])


def test_processes_starting_at_once_share_one_development_secret(tmp_path) -> None:
    # Server workers or parallel test workers on a fresh checkout: none may fail or differ.
    context = multiprocessing.get_context("fork")
    count = 8
    barrier, keys = context.Barrier(count), context.Queue()
    processes = [
        context.Process(target=_start_in, args=(str(tmp_path), barrier, keys)) for _ in range(count)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
    assert [process.exitcode for process in processes] == [0] * count
    found = {keys.get(timeout=5) for _ in range(count)}
    assert found == {(tmp_path / "secret_key").read_text()}
    assert [entry.name for entry in tmp_path.iterdir()] == ["secret_key"]  # no drafts left


def test_the_server_refuses_to_start_with_a_bad_value(monkeypatch) -> None:
    from app import create_app

    monkeypatch.setenv("BRANDTRACE_BASE_URL", "not-a-url")
    with pytest.raises(ConfigError, match="BRANDTRACE_BASE_URL"):
        create_app()


def test_a_bad_setting_stops_the_server_and_the_cli_with_one_line(tmp_path) -> None:
    """Operators see the variable to fix, not a traceback; gunicorn stops instead of
    restarting workers that cannot boot (exit status 3 is its "worker failed to boot")."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {key: value for key, value in os.environ.items() if not key.startswith("BRANDTRACE_")}
    env |= {
        "BRANDTRACE_ENV": "prod",
        "BRANDTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "keys", "list", "--org", "x"]
    completed = subprocess.run(flask, cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 3
    assert completed.stderr.strip().splitlines() == [
        "brandtrace: configuration error: "
        "BRANDTRACE_ENV='prod' must be one of development, production, testing"
    ]
    assert "Traceback" not in completed.stdout + completed.stderr
