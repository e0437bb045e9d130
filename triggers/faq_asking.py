"""How a message asks about its topic: which aspect (a duration, a price, a time, a place), or
whether it only reports something done. An entry asking another aspect of the same topic, or
a report, keeps less of its score (see ``triggers.faq_index``)."""

from __future__ import annotations

import re

ASPECT_CLASH_SHARE = 0.75
"""What an entry keeps when its questions ask one thing about the topic and the message
another (烫头要多长时间 against 烫头发多少钱: a duration, not a price); see _ASPECTS."""

# What a question asks about its topic, read from the text as the FAQ prepares it (synonyms
# already read as their group's first word). A duration is read before a time: 多长时间.
_ASPECTS = (
    ("duration", re.compile(r"多久|多长时间|多长|几个?小时|几分钟|几天|多少天")),
    ("price", re.compile(r"价格|收费|多少钱|价钱|几块")),
    ("time", re.compile(r"时间|几点|营业")),
    ("place", re.compile(r"哪里|哪儿|在哪|地址|位置|怎么走|怎么去")),
)


def aspects_of(prepared: str) -> frozenset[str]:
    """What the text asks about its topic: a duration, a price, a time, a place, or none."""
    found: set[str] = set()
    for name, pattern in _ASPECTS:
        if pattern.search(prepared):
            found.add(name)
            prepared = pattern.sub(" ", prepared)
    return frozenset(found)


REPORT_SHARE = 0.55
"""What a statement that reports something done keeps (发票收到了, 作业交了, 样品已经到):
below the default threshold even when it is word for word a stored question's topic."""

# Says something happened rather than asks: 了/啦/过/完 ending a clause, 已经/刚才/刚刚.
REPORT = re.compile(r"[了啦过完](?:\W|$)|已经|刚才|刚刚")
