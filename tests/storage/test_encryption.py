"""Member data sealed at rest: no name or message text in the database's bytes, keys that
rotate without losing a value, and a wrong or missing key refused before anything changes."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import String, select, text, type_coerce
from support import message, replay, ruleset_from

from bot.cli import main
from storage.data_keys import sealed_columns
from storage.encryption import DataKeyError, DataKeys, escape, new_key, parse_key, unescape
from storage.key_rotation import rotate
from storage.store import Store
from storage.tables import MEMBERS

SAMPLE = (Path(__file__).parents[2] / "config.yaml").read_text(encoding="utf-8")
NAMES = {"rain": "王小雨Rainy", "leo": "李明亮Leonardo", "jing": "陈静怡Jingyi"}
TEXTS = [
    "请问如何申请退款呢？",
    "我想问一下发票怎么开具比较快捷方便",
    "今天的天气真不错适合出去走走逛逛",
    "加我微信 vx13912345678 领优惠券啦",
    "有没有人知道周末的线下活动在哪里举办",
]


def keys(*texts: str) -> DataKeys:
    found = DataKeys.from_texts(texts[0], ",".join(texts[1:]) or None)
    assert found is not None
    return found


KEY_A, KEY_B, KEY_C = new_key(), new_key(), new_key()


def transcript() -> list[str]:
    lines = []
    for n, said in enumerate(TEXTS):
        sender = list(NAMES)[n % len(NAMES)]
        lines.append(message(f"2026-11-24T08:{n:02d}:00+08:00", sender, said, name=NAMES[sender]))
    lines.append(message("2026-11-24T09:00:00+08:00", "rain", "签到", name=NAMES["rain"]))
    lines.append(
        message("2026-11-24T09:01:00+08:00", "alice", f"/tag @{NAMES['leo']} VIP", name="Alice")
    )
    return lines


def played(url: str, sealing: DataKeys | None) -> Store:
    store = Store(url, sealing)
    replay(ruleset_from(SAMPLE), store, transcript())
    return store


def secrets_in(data: bytes) -> list[str]:
    return [s for s in (*NAMES.values(), *TEXTS) if s.encode() in data]


def sqlite_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def pg_dump(url: str) -> bytes:
    schema = unquote(url).rsplit("search_path=", 1)[1]
    return subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-U", "root", "-d", "test", "-n", schema, "--data-only"],
        check=True,
        capture_output=True,
    ).stdout


def raw_dump(url: str) -> bytes:
    if url.startswith("sqlite"):
        return sqlite_bytes(Path(url.removeprefix("sqlite:///")))
    return pg_dump(url)


def test_a_dump_holds_no_name_or_message_text_but_the_bot_reads_them(db_url: str) -> None:
    plain = played(db_url, None)
    try:
        assert set(secrets_in(raw_dump(db_url))) >= {NAMES["rain"], TEXTS[0]}  # the test sees
    finally:
        plain.close()


@pytest.fixture
def sealed_url(db_url: str) -> Iterator[str]:
    store = played(db_url, keys(KEY_A))
    store.close()
    yield db_url


def test_sealed_a_dump_holds_none_of_them(sealed_url: str) -> None:
    assert secrets_in(raw_dump(sealed_url)) == []
    store = Store(sealed_url, keys(KEY_A))
    try:
        with store.transaction() as tx:
            assert tx.name_of("rain") == NAMES["rain"]
            exported = str(tx.member_data("leo"))
        assert TEXTS[1] in exported and NAMES["leo"] in exported  # export is readable
    finally:
        store.close()


def test_rotation_seals_everything_under_the_new_key_and_retires_the_old(
    sealed_url: str,
) -> None:
    store = Store(sealed_url, keys(KEY_B, KEY_A))
    try:
        done = rotate(store, batch=3)
        with store.transaction() as tx:
            assert tx.live_key_ids() == {keys(KEY_B).active_id}
            assert tx.sealed_with(keys(KEY_A).active_id) == 0
    finally:
        store.close()
    assert done.values > 0 and done.retired == [keys(KEY_A).active_id]
    assert secrets_in(raw_dump(sealed_url)) == []
    only_new = Store(sealed_url, keys(KEY_B))
    try:
        with only_new.transaction() as tx:
            assert tx.name_of("jing") == NAMES["jing"]
            assert TEXTS[3] in str(tx.member_data("rain"))
    finally:
        only_new.close()
    with pytest.raises(DataKeyError, match="wrong key"):
        Store(sealed_url, keys(KEY_A))


def unchanging(dump: bytes) -> str:
    """A dump's hash without pg_dump's random per-run restrict key."""
    lines = [
        line for line in dump.splitlines() if not line.startswith((b"\\restrict", b"\\unrestrict"))
    ]
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def test_a_wrong_key_is_refused_at_start_and_nothing_changes(sealed_url: str) -> None:
    before = unchanging(raw_dump(sealed_url))
    with pytest.raises(DataKeyError) as refused:
        Store(sealed_url, keys(KEY_C))
    assert keys(KEY_A).active_id in str(refused.value)
    assert keys(KEY_C).active_id in str(refused.value)
    with pytest.raises(DataKeyError, match="set QUNBOT_DATA_KEY"):
        Store(sealed_url, None)
    assert unchanging(raw_dump(sealed_url)) == before


def test_values_stored_before_a_key_was_set_are_read_and_sealed_by_rotation(db_url: str) -> None:
    played(db_url, None).close()
    store = Store(db_url, keys(KEY_A))
    try:
        with store.transaction() as tx:
            assert tx.name_of("leo") == NAMES["leo"]  # plain rows still read
        rotate(store)
    finally:
        store.close()
    assert secrets_in(raw_dump(db_url)) == []


def test_every_sealed_column_holds_sealed_text(sealed_url: str) -> None:
    store = Store(sealed_url, keys(KEY_A))
    try:
        with store.engine.connect() as connection:
            for table, columns in sealed_columns():
                for column in columns:
                    raw = connection.execute(select(type_coerce(column, String))).scalars()
                    for value in raw:
                        assert value is None or value.startswith("qbe1$"), (table.name, value)
    finally:
        store.close()


def test_erasure_with_sealed_text_renames_the_member_everywhere(sealed_url: str) -> None:
    store = Store(sealed_url, keys(KEY_A))
    try:
        with store.transaction() as tx:
            tx.erase_member("leo", datetime(2026, 11, 25, tzinfo=UTC))
        with store.transaction() as tx:
            everything = "".join(str(tx.member_data(m)) for m in ("rain", "jing", "alice"))
            names = [n for (n,) in tx._execute(select(MEMBERS.c.name))]
        assert NAMES["leo"] not in everything and NAMES["leo"] not in names
    finally:
        store.close()


@given(text=st.text(max_size=60) | st.sampled_from(["qbe1$", "qbe0$", "qbe0$qbe1$x", ""]))
def test_any_text_round_trips_sealed_and_unsealed(text: str) -> None:
    sealing = keys(KEY_A)
    assert sealing.open(sealing.seal(text, "t.c"), "t.c") == text
    assert unescape(escape(text)) == text
    assert sealing.open(escape(text), "t.c") == text


def test_a_sealed_value_moved_to_another_column_does_not_open() -> None:
    sealing = keys(KEY_A)
    with pytest.raises(DataKeyError, match="moved from another column"):
        sealing.open(sealing.seal("王小雨", "members.name"), "interactions.text")


@pytest.mark.parametrize(
    "damaged",
    [
        "qbe1$",
        "qbe1$0ea9137c$short",
        "qbe1$0ea9137c$" + "A" * 39,  # base64 of impossible length
        "qbe1$NOTHEX!!$" + "A" * 40,
    ],
)
def test_a_damaged_sealed_value_is_an_error_not_text(damaged: str) -> None:
    sealing = keys(KEY_A)
    with pytest.raises(DataKeyError):
        sealing.open(damaged, "t.c")
    cut = sealing.seal("王小雨", "t.c")[:-3]  # a value cut short
    with pytest.raises(DataKeyError):
        sealing.open(cut, "t.c")


def test_without_a_key_sealed_data_is_refused_and_plain_text_escaped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    store = Store(url)
    with store.transaction() as tx:
        tx.observe("g1", "m1", datetime(2026, 11, 24, tzinfo=UTC), name="qbe1$looks$sealed")
    store.close()
    store = Store(url)  # no names remembered: read from the database
    try:
        with store.transaction() as tx:
            assert tx.name_of("m1") == "qbe1$looks$sealed"  # escaped on the way in
        with store.engine.begin() as connection:
            # Past the column type, as sealed data written with a key would be.
            connection.execute(
                text("UPDATE members SET name = :n"), {"n": "qbe1$0ea9137c$" + "A" * 40}
            )
    finally:
        store.close()
    store = Store(url)
    try:
        with store.transaction() as tx, pytest.raises(DataKeyError, match="set QUNBOT_DATA_KEY"):
            tx.name_of("m1")
    finally:
        store.close()


@pytest.mark.parametrize("text", ["short", "x" * 44, "not base64 at all!!", ""])
def test_a_malformed_key_is_one_clear_error(text: str) -> None:
    with pytest.raises(DataKeyError, match="44 characters"):
        parse_key(text or "=", "QUNBOT_DATA_KEY")


def test_the_cli_makes_rotates_and_reports_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    played(url, keys(KEY_A)).close()
    runner = CliRunner()
    made = runner.invoke(main, ["keys", "new"])
    assert len(parse_key(made.output.strip(), "key")) == 32
    env = {"QUNBOT_DATA_KEY": KEY_B, "QUNBOT_DATA_KEYS_OLD": KEY_A, "QUNBOT_CONFIG": ""}
    config = ["--config", str(Path(__file__).parents[2] / "config.yaml"), "--db", url]
    rotated = runner.invoke(main, ["keys", "rotate", "--as", "ops", *config], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert f"key {keys(KEY_A).active_id} retired" in rotated.output
    status = runner.invoke(main, ["keys", "status", *config], env=env)
    assert f"sealing with: key {keys(KEY_B).active_id}" in status.output
    wrong = runner.invoke(main, ["keys", "status", *config], env={"QUNBOT_DATA_KEY": KEY_C})
    assert wrong.exit_code == 2 and "wrong key" in wrong.output
    store = Store(url, keys(KEY_B))
    try:
        with store.transaction() as tx:
            assert any(row.action == "keys.rotate" for row in tx.audit_log())
    finally:
        store.close()
