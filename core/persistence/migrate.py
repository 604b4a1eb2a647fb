"""Alembic, driven from code: `unmeet db upgrade`, `unmeet serve` at start, and the tests."""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import async_database_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", async_database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply migrations. Runs its own event loop: call it outside one (or in a thread)."""
    command.upgrade(alembic_config(url), revision)


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def heads() -> frozenset[str]:
    """The revisions a migrated database is at (the scripts' heads)."""
    return frozenset(_scripts().get_heads())


def known_revisions() -> frozenset[str]:
    """Every revision this code has a script for (a database at another one was migrated by a newer version)."""
    return frozenset(script.revision for script in _scripts().walk_revisions())


async def applied(conn: AsyncConnection) -> frozenset[str]:
    """The revisions the database was migrated to; empty when it never was (no alembic_version table)."""
    if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table("alembic_version")):
        return frozenset()
    return frozenset((await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars())
