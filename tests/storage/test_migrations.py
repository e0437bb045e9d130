"""Migrations, not create_all, build the schema, and they must match the models exactly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from storage.migrate import alembic_config, upgrade_to_head
from storage.points import _Q_AHEAD, _Q_BOARD_ALL
from storage.store import Store
from storage.welcomes import _Q_DUE_WELCOMES, _Q_NEXT_WELCOME, _Q_PENDING_WELCOME


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


def test_existing_broadcast_messages_get_their_broadcast_id(tmp_path: Path) -> None:
    """0008 fills the new column from the keys earlier versions wrote; 0009 makes them messages."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        for key in ("broadcast:12@2026-11-24T20:00:g1", "rule:早报:g1@2026-11-24T08:00#0", None):
            connection.execute(
                text(
                    "INSERT INTO outbox (key, account, group_id, text, mentions, priority,"
                    " status, attempts, decided_at, not_before) VALUES (:k, 'default', 'g1',"
                    " 'x', '[]', 0, 'pending', 0, '2026-11-24 12:00:00', '2026-11-24 12:00:00')"
                ),
                {"k": key},
            )
    upgrade_to_head(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT key, broadcast_id, kind, member FROM outbox ORDER BY id")
        ).all()
    engine.dispose()
    assert [r[1] for r in rows] == [12, None, None]
    assert {(r[2], r[3]) for r in rows} == {("send_text", None)}  # 0009: they were messages


def test_a_rank_and_the_top_of_a_board_read_the_current_points_index(tmp_path: Path) -> None:
    """Counting who is ahead and listing the top ten find current members in the partial
    index, in its order: no row of the table is read to check who left, nothing sorted."""
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        with store.engine.connect() as connection:
            plans = {}
            for name, statement, parameters in (
                ("ahead", _Q_AHEAD, ("g1", 10)),
                ("board", _Q_BOARD_ALL, ("g1", 0, 10, 0)),
            ):
                sql = store._statements(statement).sql
                plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
                plans[name] = " | ".join(str(row[-1]) for row in plan)
    finally:
        store.close()
    for name, plan in plans.items():
        assert "USING INDEX ix_memberships_current_points" in plan, (name, plan)
        assert "TEMP B-TREE" not in plan, (name, plan)


def test_the_welcome_reads_keep_to_the_pending_welcome_index(tmp_path: Path) -> None:
    """They also ask for current members, which the points index holds: SQLite must still
    read the few pending welcomes, not walk every current member (it did, 3.4 ms a read,
    when memberships were tried WITHOUT ROWID)."""
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        with store.engine.connect() as connection:
            for statement in (_Q_NEXT_WELCOME, _Q_DUE_WELCOMES, _Q_PENDING_WELCOME):
                sql = store._statements(statement).sql
                parameters = ("2026-01-01",) * sql.count("?")
                plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
                assert "ix_memberships_pending_welcome" in str(plan[0][-1]), (sql, plan)
    finally:
        store.close()
