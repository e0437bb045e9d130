"""Migrations, not create_all, build the schema, and they must match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.store import Store


def test_migrated_schema_matches_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_migration_version_is_recorded(store: Store) -> None:
    with store.engine.connect() as connection:
        assert "alembic_version" in inspect(connection).get_table_names()
        version = MigrationContext.configure(connection).get_current_revision()
    assert version == "0005"
