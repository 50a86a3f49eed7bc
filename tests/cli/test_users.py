import os
import subprocess
import sys

import pytest

from feederwatch.users import check_user, set_user
from tests.conftest import ROOT

# slow: CLI subprocesses with password hashing, on both databases
pytestmark = pytest.mark.slow


def test_usr001_user_add_from_environment_hashes_the_password(engine, db_url, tmp_path):
    env = {
        **os.environ,
        "FEEDERWATCH_DATABASE_URL": db_url,
        "PYTHONPATH": str(ROOT),
        "FW_NEW_PASSWORD": "correct horse battery",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "feederwatch.cli",
            "user",
            "add",
            "wang",
            "--role",
            "admin",
            "--password-env",
            "FW_NEW_PASSWORD",
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "correct horse" not in result.stdout + result.stderr
    assert check_user(engine, "wang", "correct horse battery") == "admin"
    assert check_user(engine, "wang", "wrong password!") is None
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users").scalar_one()
    assert stored.startswith("scrypt:") and "correct" not in stored
    set_user(engine, "wang", "viewer", "another long one")
    assert check_user(engine, "wang", "another long one") == "viewer"


def test_usr002_short_password_and_missing_variable_are_refused(engine, db_url, tmp_path):
    env = {
        **os.environ,
        "FEEDERWATCH_DATABASE_URL": db_url,
        "PYTHONPATH": str(ROOT),
        "FW_SHORT": "short",
    }
    for extra in (["--password-env", "FW_SHORT"], ["--password-env", "FW_UNSET_VARIABLE"]):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "feederwatch.cli",
                "user",
                "add",
                "li",
                "--role",
                "viewer",
                *extra,
            ],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1
    assert check_user(engine, "li", "short") is None


def _fw(db_url, tmp_path, *args, **extra_env):
    env = {**os.environ, "FEEDERWATCH_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT), **extra_env}
    return subprocess.run(
        [sys.executable, "-m", "feederwatch.cli", "user", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )


def test_usr003_list_passwd_disable_end_sessions(engine, db_url, tmp_path):
    from db.queries import user_session_state

    set_user(engine, "wang", "admin", "first long password")
    set_user(engine, "li", "viewer", "viewer long password")
    listed = _fw(db_url, tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["li", "viewer", "active"]
    assert lines[1].split() == ["wang", "admin", "active"]
    assert "scrypt" not in listed.stdout
    gen = user_session_state(engine, "wang")[1]
    # passwd: the role stays, the password changes, every session ends
    done = _fw(
        db_url, tmp_path, "passwd", "wang", "--password-env", "FW_PW", FW_PW="second long one"
    )
    assert done.returncode == 0, done.stderr
    assert "second long" not in done.stdout + done.stderr
    assert check_user(engine, "wang", "second long one") == "admin"
    assert check_user(engine, "wang", "first long password") is None
    assert user_session_state(engine, "wang")[1] > gen
    # disable: sessions end, the list says so; enable lets the user in again
    gen = user_session_state(engine, "li")[1]
    assert _fw(db_url, tmp_path, "disable", "li").returncode == 0
    role, new_gen, disabled = user_session_state(engine, "li")
    assert disabled and new_gen > gen and role == "viewer"
    assert _fw(db_url, tmp_path, "list").stdout.splitlines()[0].split() == [
        "li",
        "viewer",
        "disabled",
    ]
    assert _fw(db_url, tmp_path, "enable", "li").returncode == 0
    assert not user_session_state(engine, "li")[2]
    # unknown users: one line on stderr, exit 1
    for args in (["disable", "nobody"], ["passwd", "nobody", "--password-env", "FW_PW"]):
        r = _fw(db_url, tmp_path, *args, FW_PW="whatever long one")
        assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
