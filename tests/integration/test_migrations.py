"""Migrations from empty give exactly the schema the code declares, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.persistence.tables import metadata


async def test_migrated_schema_matches_the_tables(db):
    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


def test_history_has_one_head():
    """A new migration goes on top of the single head; branches are merged before they land."""
    from alembic.script import ScriptDirectory

    from core.persistence.migrate import alembic_config

    assert len(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == 1
