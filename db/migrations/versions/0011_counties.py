"""Counties (issue 19): a company -> county -> substation hierarchy in one database

- counties: id, code (unique), name, name_en (optional); named in config ``[[counties]]``.
- substations.county_id: the county a substation belongs to (nullable: a single-county
  deployment has none), indexed (a county's pages read its substations first).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 12:20:00
"""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


@contextmanager
def _rebuilding_substations():
    """SQLite's batch mode rebuilds substations (copy, drop, rename), which feeders and
    outages reference. Inside a transaction their foreign keys are checked at its commit, when
    the rows are back (defer_foreign_keys); outside one (pysqlite runs DDL in autocommit) the
    checks are off for the rebuild and on again after it."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    if bind.connection.dbapi_connection.in_transaction:
        op.execute("PRAGMA defer_foreign_keys = ON")
        yield
        return
    op.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        op.execute("PRAGMA foreign_keys = ON")


def upgrade() -> None:
    op.create_table(
        "counties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counties")),
        sa.UniqueConstraint("code", name=op.f("uq_counties_code")),
    )
    with _rebuilding_substations(), op.batch_alter_table("substations") as batch:
        batch.add_column(sa.Column("county_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_substations_county_id_counties"), "counties", ["county_id"], ["id"]
        )
        batch.create_index(op.f("ix_substations_county_id"), ["county_id"], unique=False)


def downgrade() -> None:
    with _rebuilding_substations(), op.batch_alter_table("substations") as batch:
        batch.drop_index(op.f("ix_substations_county_id"))
        batch.drop_constraint(op.f("fk_substations_county_id_counties"), type_="foreignkey")
        batch.drop_column("county_id")
    op.drop_table("counties")
