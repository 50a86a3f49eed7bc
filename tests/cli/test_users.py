import os
import subprocess
import sys

from feederwatch.users import check_user, set_user
from tests.conftest import ROOT


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
