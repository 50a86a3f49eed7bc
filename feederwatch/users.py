"""``feederwatch user add|list|passwd|disable|enable``: dashboard users with strong password hashes.

Passwords are hashed with werkzeug's scrypt (werkzeug ships with Dash's Flask); they are asked
for without echo, or read from an environment variable named with ``--password-env`` (for
scripted set-ups), never taken from the command line or a file, never logged.

A new password or role, ``disable`` and ``enable`` end every session the user has signed in
(the dashboard checks each request against ``users.session_gen``); a disabled user cannot sign in.
"""

from __future__ import annotations

import os

import click
from werkzeug.security import check_password_hash, generate_password_hash

from db.engine import make_engine
from db.migrate import upgrade
from db.queries import list_users, user_credentials
from db.upsert import end_user_sessions, upsert_user

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


def _password(password_env: str | None) -> str | None:
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            click.echo(
                f"feederwatch: error: environment variable {password_env} is not set", err=True
            )
        return password or None
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _engine(settings):
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def user_add_command(settings, name: str, role: str, password_env: str | None) -> int:
    password = _password(password_env)
    if password is None:
        return 2
    engine = _engine(settings)
    try:
        set_user(engine, name, role, password)
    except ValueError as exc:
        click.echo(f"feederwatch: error: {exc}", err=True)
        return 2
    click.echo(f"user {name} saved with role {role}")
    return 0


def user_list_command(settings) -> int:
    """One line per user: name, role, and whether the user may sign in (never a hash)."""
    users = list_users(_engine(settings))
    if not users:
        click.echo("no users")
        return 0
    width = max(len(name) for name, _, _ in users)
    for name, role, disabled in users:
        click.echo(f"{name:<{width}}  {role:<6}  {'disabled' if disabled else 'active'}")
    return 0


def user_passwd_command(settings, name: str, password_env: str | None) -> int:
    """A new password for an existing user (role kept); the user's sessions end."""
    engine = _engine(settings)
    found = user_credentials(engine, name)
    if found is None:
        click.echo(f"feederwatch: error: no user {name}", err=True)
        return 1
    password = _password(password_env)
    if password is None:
        return 2
    try:
        set_user(engine, name, found[0], password)
    except ValueError as exc:
        click.echo(f"feederwatch: error: {exc}", err=True)
        return 2
    click.echo(f"password of {name} changed; its sessions ended")
    return 0


def user_disable_command(settings, name: str, disable: bool = True) -> int:
    """Disable (or enable again) a user; either way every session of the user ends."""
    if not end_user_sessions(_engine(settings), name, disable=disable):
        click.echo(f"feederwatch: error: no user {name}", err=True)
        return 1
    click.echo(f"user {name} {'disabled' if disable else 'enabled'}; its sessions ended")
    return 0
