"""Generated configs: plausible ones built from the rule vocabulary, and mutations of them.

The plausible ones are what an admin might write (any trigger with any action, templates
mixing variables, loops and plain text, zones with DST edges); many are invalid on purpose
(an action on a trigger it does not fit). Mutations then break them as an editor would:
a deleted or doubled line, a value swapped for any unicode, a truncated file, bad bytes.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import strategies as st

ZONES = [
    "Asia/Shanghai",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "UTC",
]
# Times of day that fall into a skipped or repeated hour somewhere in ZONES.
TIMES = ["08:00", "01:30", "02:30", "02:00", "00:00", "23:50", "03:00", "12:00"]

TEMPLATE_PIECES = [
    "{{ member.name }}",
    "{{ group.name }}",
    "{{ now }}",
    "{{ match.args }}",
    "{{ match.groups }}",
    "{{ match.groups.no }}",
    "{{ 'x' | center(10**9) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "{{ (['x' * 99999] * 99999) | join }}",
    "{{ 9 ** 9 ** 9 ** 9 }}",
    "{{" + "(" * 3000 + "1" + ")" * 3000 + "}}",
    "{% for i in range(3) %}{{ i }}{% endfor %}",
    "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "{{ 'x' * 300000000 }}",
    "{{ range(10**9) | list }}",
    "{% if member.name %}hi{% endif %}",
    "{{ nope }}",
    "{{",
    "{% for %}",
    "{{ ''.__class__ }}",
    "签到成功",
    "@{{ member.name }} 欢迎",
]

words = st.sampled_from(["签到", "积分", "排行榜", "退款", "checkin", "/grant", "/broadcast", "a"])
any_text = st.text(max_size=12)
template_text = st.lists(st.sampled_from(TEMPLATE_PIECES) | any_text, min_size=1, max_size=3).map(
    "".join
)
durations = st.sampled_from(["10s", "5m", "30m", "2h", "1d", 30, 0, -5, "soon"])


def _trigger() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries({"command": st.lists(words | any_text, min_size=1, max_size=3)}),
        st.fixed_dictionaries(
            {"keywords": st.lists(words | any_text, min_size=1, max_size=3)},
            optional={"match": st.sampled_from(["any", "all", "some"])},
        ),
        st.fixed_dictionaries(
            {
                "regex": st.sampled_from(
                    [
                        r"订单(?P<no>\d{6})",
                        r"^(a+)+$",
                        r"(",
                        r"(?P<x>a)\1",
                        r"(a|aa)*b",
                        ".*",
                        r"(?=x)",
                        r"(?x) a b",
                        r"[\w-]+\s\d",
                    ]
                )
                | any_text
            }
        ),
        st.just({"question": True}),
        st.fixed_dictionaries({"event": st.sampled_from(["join", "leave", "message", "boom"])}),
        st.fixed_dictionaries(
            {
                "schedule": st.fixed_dictionaries(
                    {"at": st.sampled_from(TIMES) | any_text},
                    optional={
                        "grace": durations,
                        "days": st.lists(st.sampled_from(["mon", "sat", "sun", "xyz"])),
                    },
                )
                | st.fixed_dictionaries({"cron": st.sampled_from(["0 8 * * *", "*/1 * * * *"])})
            }
        ),
        st.just({}),
    )


def _action() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries(
            {"action": st.just("reply"), "text": template_text},
            optional={"mention": st.booleans()},
        ),
        st.fixed_dictionaries(
            {"action": st.just("checkin")},
            optional={
                "points": st.integers(-(10**20), 10**20),
                "streak_bonus": st.dictionaries(st.integers(-3, 40), st.integers(-5, 500)),
            },
        ),
        st.fixed_dictionaries(
            {"action": st.just("points"), "amount": st.integers(-(10**20), 10**20)},
            optional={"text": template_text},
        ),
        st.just({"action": "my_points"}),
        st.fixed_dictionaries(
            {"action": st.just("leaderboard")},
            optional={"period": st.sampled_from(["all", "today", "week", "year"])},
        ),
        st.fixed_dictionaries({"action": st.just("faq")}, optional={"text": template_text}),
        st.fixed_dictionaries(
            {"action": st.just("welcome")},
            optional={"burst_window": durations, "guide": any_text},
        ),
        st.fixed_dictionaries(
            {"action": st.just("briefing")},
            optional={"items": st.lists(any_text, max_size=3)},
        ),
        st.fixed_dictionaries(
            {
                "action": st.just("admin"),
                "command": st.sampled_from(["broadcast", "confirm", "cancel", "grant", "reload"]),
            }
        ),
        st.fixed_dictionaries({"action": any_text}),
    )


def _rule(index: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "name": st.just(f"r{index}") | any_text,
            "when": _trigger(),
            "do": _action() | st.lists(_action(), min_size=1, max_size=2),
        },
        optional={
            "priority": st.integers(-5, 5),
            "continue": st.booleans(),
            "if": st.fixed_dictionaries(
                {},
                optional={
                    "roles": st.lists(st.sampled_from(["member", "admin", "operator", "god"])),
                    "cooldown": st.fixed_dictionaries({"member": durations}),
                    "hours": st.fixed_dictionaries(
                        {"from": st.sampled_from(TIMES), "to": st.sampled_from(TIMES)}
                    ),
                },
            ),
        },
    )


@st.composite
def config_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A config as data; valid more often than not, never guaranteed to be."""
    group_zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=2))
    count = draw(st.integers(0, 5))
    return {
        "timezone": draw(st.sampled_from(ZONES)),
        "groups": [{"id": f"g{i + 1}", "timezone": z} for i, z in enumerate(group_zones)],
        "roles": [{"member": "alice", "role": draw(st.sampled_from(["admin", "owner", "boss"]))}],
        "faq": {
            "threshold": draw(st.integers(-10, 120)),
            "entries": [
                {
                    "id": "refund",
                    "questions": ["怎么申请退款"],
                    "keywords": ["退款"],
                    "answer": "ok",
                }
            ],
        },
        "rules": [draw(_rule(i)) for i in range(count)],
    }


def dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


@st.composite
def mutated_config_bytes(draw: st.DrawFn) -> bytes:
    """A generated config's text broken the way files get broken."""
    lines = dump(draw(config_dicts())).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        where = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "double", "replace", "indent", "truncate"]))
        if how == "delete":
            del lines[where]
        elif how == "double":
            lines.insert(where, lines[where])
        elif how == "replace":
            lines[where] = draw(st.text(max_size=40)) + "\n"
        elif how == "indent":
            lines[where] = " " * draw(st.integers(1, 5)) + lines[where]
        else:
            lines = lines[:where]
    data = "".join(lines).encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()):
        offset = draw(st.integers(0, len(data)))
        data = data[:offset] + draw(st.binary(min_size=1, max_size=4)) + data[offset:]
    if draw(st.integers(0, 20)) == 0:  # nesting that would overflow a recursive parser
        depth = draw(st.integers(60, 5000))
        data += b"deep: " + b"[" * depth + b"]" * depth + b"\n"
    return data
