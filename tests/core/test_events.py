"""The event model cleans platform text at the edge, the one place every adapter passes."""

from __future__ import annotations

from support import make_event

from core.events import NAME_MAX, Event, EventKind
from storage.models import Group, Member


def test_control_characters_are_dropped_but_line_breaks_and_tabs_kept() -> None:
    event = make_event(text_="a\x00b\x07c\r\n\td\x1f", name="B\x00ob")
    assert (event.text, event.name) == ("abc\r\n\td", "Bob")


def test_names_are_cut_to_the_stores_column_width() -> None:
    event = Event(
        kind=EventKind.TOPIC,
        group="g1",
        at=make_event().at,
        name="n" * 300,
        group_name="g" * 300,
    )
    assert (len(event.name), len(event.group_name or "")) == (NAME_MAX, NAME_MAX)
    assert Group.__table__.c.name.type.length == NAME_MAX  # type: ignore[attr-defined]
    # A member's name is sealed at rest: its column is as wide as SQLite declares it, and
    # unbounded on PostgreSQL, where sealed text is longer than the name.
    assert Member.__table__.c.name.type.sqlite_length == NAME_MAX  # type: ignore[attr-defined]
