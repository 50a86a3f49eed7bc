"""``feederwatch user add NAME --role ROLE``: dashboard users with strong password hashes.

Passwords are hashed with werkzeug's scrypt (werkzeug ships with Dash's Flask); they are asked
for without echo, or read from an environment variable named with ``--password-env`` (for
scripted set-ups), never taken from the command line or a file, never logged.
"""

from __future__ import annotations

import os

import click
from werkzeug.security import check_password_hash, generate_password_hash

from db.engine import make_engine
from db.migrate import upgrade
from db.queries import user_credentials
from db.upsert import upsert_user

ROLES = ("viewer", "admin")
MIN_PASSWORD = 10


def set_user(engine, name: str, role: str, password: str) -> None:
    """Create or update a user (role and password)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    upsert_user(engine, name, role, generate_password_hash(password, "scrypt"))


def check_user(engine, name: str, password: str) -> str | None:
    """The user's role when the password is right, else None."""
    found = user_credentials(engine, name)
    if found is None or not check_password_hash(found[1], password):
        return None
    return found[0]


def user_add_command(settings, name: str, role: str, password_env: str | None) -> int:
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            click.echo(
                f"feederwatch: error: environment variable {password_env} is not set", err=True
            )
            return 2
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        set_user(engine, name, role, password)
    except ValueError as exc:
        click.echo(f"feederwatch: error: {exc}", err=True)
        return 2
    click.echo(f"user {name} saved with role {role}")
    return 0
