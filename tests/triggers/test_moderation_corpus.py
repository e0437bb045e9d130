"""The sample config's group rules on labelled corpora: ordinary chat must not trip them
(false positives ≤ 1%), ads and contact spam must (recall ≥ 95%)."""

from __future__ import annotations

from pathlib import Path

from support import SAMPLE_CONFIG, message, replay, ruleset_from

from storage.store import Store
from triggers.ruleset import RuleSet

CORPORA = Path(__file__).resolve().parent.parent / "fixtures" / "moderation"


def lines(name: str) -> list[str]:
    text = (CORPORA / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def tripped(ruleset: RuleSet, text: str) -> list[str]:
    """The group rules a member's text breaks (message-type and flood rules need a stream)."""
    return [
        ruleset.rules[order].name
        for order, _ in ruleset.matcher.match(text)
        if ruleset.rules[order].moderation
    ]


def sample() -> RuleSet:
    return ruleset_from(SAMPLE_CONFIG.read_text(encoding="utf-8"))


def test_ordinary_chat_trips_at_most_one_percent() -> None:
    ruleset = sample()
    chat = lines("ordinary_chat.txt")
    assert len(chat) >= 290
    false_alarms = [(text, tripped(ruleset, text)) for text in chat if tripped(ruleset, text)]
    assert len(false_alarms) / len(chat) <= 0.01, false_alarms


def test_ads_and_contact_spam_are_caught() -> None:
    ruleset = sample()
    ads = lines("ads.txt")
    assert len(ads) >= 50
    missed = [text for text in ads if not tripped(ruleset, text)]
    assert len(missed) / len(ads) <= 0.05, missed


def test_links_posted_by_admins_are_not_struck(tmp_path: Path) -> None:
    """The sample's admin (alice) shares links and numbers; a member posting the same is warned."""
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    posts = ["课程报名 https://example.com/course", "客服电话 400-800-1234 或 13912345678"]
    said = replay(
        sample(),
        store,
        [message(f"2026-11-24T10:0{i}", "alice", text) for i, text in enumerate(posts)]
        + [message("2026-11-24T11:00", "bob", posts[0])],
    ).said
    with store.transaction() as tx:
        assert [s.member for s in tx.strike_log()] == ["bob"]
    assert [s["text"][:5] for s in said] == ["@Bob "]
    store.close()
