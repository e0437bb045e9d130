"""Migrations, not create_all, build the schema, and they must match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.migrate import alembic_config
from storage.store import Store


def test_migrated_schema_matches_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_migration_version_is_recorded(store: Store) -> None:
    with store.engine.connect() as connection:
        assert "alembic_version" in inspect(connection).get_table_names()
        version = MigrationContext.configure(connection).get_current_revision()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert version is not None and version >= "0006"


def test_pending_rows_are_indexed_partially(store: Store) -> None:
    """New memberships and sent messages must not cost an index entry on the hot path."""
    with store.engine.connect() as connection:
        indexes = {
            ix["name"]: ix
            for table in ("memberships", "outbox")
            for ix in inspect(connection).get_indexes(table)
        }
    for name in ("ix_memberships_pending_welcome", "ix_outbox_pending"):
        where = indexes[name].get("dialect_options", {})
        assert any("where" in key for key in where), (name, indexes[name])
