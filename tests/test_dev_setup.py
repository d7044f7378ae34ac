"""The development setup: settings read .env, production refuses to start without a key."""

import io
import json

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from tests.settings_process import BASE_DIR, settings_in_subprocess

SHOW = "json.dumps([settings.DEBUG, settings.SECRET_KEY])"


def test_without_debug_the_service_refuses_to_start_without_a_secret_key():
    result = settings_in_subprocess(SHOW)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_an_empty_secret_key_is_no_key():
    result = settings_in_subprocess(SHOW, SECRET_KEY="")
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_settings_read_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# written by scripts/run\nDEBUG=1\n\nSECRET_KEY=from-the-file\n")
    result = settings_in_subprocess(SHOW, ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, "from-the-file"]


def test_the_real_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=1\nSECRET_KEY=from-the-file\n")
    result = settings_in_subprocess(SHOW, ENV_FILE=str(env_file), SECRET_KEY="from-env", DEBUG="0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, "from-env"]


def test_env_file_quotes_export_and_equals_signs(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "export SECRET_KEY='a=b#c'\n"
        'CORS_ALLOWED_ORIGINS="https://a.example.com"\n'
        "  API_THROTTLE_BURST = 7/min  \n"
    )
    result = settings_in_subprocess(
        "json.dumps([settings.SECRET_KEY, settings.CORS_ALLOWED_ORIGINS,"
        " settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['burst']])",
        ENV_FILE=str(env_file),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["a=b#c", ["https://a.example.com"], "7/min"]


def test_a_malformed_env_file_stops_the_service_with_its_line(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=1\nthis is not a setting\n")
    result = settings_in_subprocess(SHOW, ENV_FILE=str(env_file))
    assert result.returncode != 0
    assert f"{env_file}, line 2: expected KEY=VALUE." in result.stderr


def test_a_missing_env_file_is_no_error(tmp_path):
    result = settings_in_subprocess(SHOW, ENV_FILE=str(tmp_path / "none"), SECRET_KEY="k")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, "k"]


def test_the_env_file_is_never_committed():
    assert ".env" in (BASE_DIR / ".gitignore").read_text().splitlines()


@pytest.mark.django_db
def test_set_password_reads_standard_input(admin_user):
    call_command("set_password", "admin", stdin=io.StringIO("a-long-demo-passphrase\n"))
    assert authenticate(username="admin", password="a-long-demo-passphrase") == admin_user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("admin", "", "No password on standard input."),
        ("admin", "short\n", "This password is too short."),
        ("nobody", "a-long-demo-passphrase\n", "No user 'nobody'."),
    ],
)
def test_set_password_refuses(admin_user, username, password, message):
    with pytest.raises(CommandError, match=message):
        call_command("set_password", username, stdin=io.StringIO(password))
    assert authenticate(username="admin", password="pw") == admin_user


DATABASE_OPTIONS = "json.dumps(settings.DATABASES['default'].get('OPTIONS', {}))"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/unused?sslmode=prefer"


def test_postgresql_statements_are_prepared_unless_turned_off():
    prepared = settings_in_subprocess(DATABASE_OPTIONS, SECRET_KEY="x", DATABASE_URL=POSTGRES_URL)
    assert prepared.returncode == 0, prepared.stderr
    assert json.loads(prepared.stdout) == {
        "sslmode": "prefer",
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    off = settings_in_subprocess(
        DATABASE_OPTIONS, SECRET_KEY="x", DATABASE_URL=POSTGRES_URL, DATABASE_PREPARE_THRESHOLD=""
    )
    assert json.loads(off.stdout) == {"sslmode": "prefer"}
