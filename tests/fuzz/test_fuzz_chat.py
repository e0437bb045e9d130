"""Any session typed into `qunbot chat`: every line is answered or refused, within bounds.

Admins try things: clock moves of any size and form, switching to any group, joins and
leaves of anyone, members saying anything (hostile templates and commands included).
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from fuzz.budget import bounded, fuzz_settings, tally
from fuzz.rules import CONFIG
from fuzz.transcripts import MEMBERS, SAYINGS
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import main

CLOCK_SPECS = [
    *("+1d", "+99999d", "-1d", "09:00", "2027-11-08", "2027-11-08 01:30", "+30s", "+0s"),
    *("+1y", "9999-12-31 23:59", "0001-01-01", "+", "2026-11-01T01:30:00-04:00", "tomorrow"),
]
clock_specs = st.sampled_from(CLOCK_SPECS) | st.text(max_size=12)
names = st.sampled_from(MEMBERS[:3]) | st.text(
    alphabet=st.characters(blacklist_characters=":：\n\r"), min_size=1, max_size=8
)
lines = st.one_of(
    st.builds("{}: {}".format, names, st.sampled_from(SAYINGS) | st.text(max_size=30)),
    clock_specs.map("/clock {}".format),
    st.sampled_from(["g1", "g2", "g9", "", "g1 g2"]).map("/group {}".format),
    st.builds("/join {} by {}".format, names, names),
    names.map("/leave {}".format),
    st.sampled_from(["/help", "/", "/unknown", '/join "unclosed', ""]),
    st.text(max_size=20),
)


@fuzz_settings(20)
@given(session=st.lists(lines, max_size=15))
def test_any_chat_session_ends_cleanly_and_in_bounded_output(
    session: list[str], tmp_path_factory
) -> None:
    folder: Path = tmp_path_factory.mktemp("chat")
    (folder / "config.yaml").write_text(CONFIG, encoding="utf-8")
    tally("chat lines", len(session))
    typed = "".join(line.replace("\n", " ").replace("\r", " ") + "\n" for line in session)
    with bounded():
        result = CliRunner().invoke(
            main, ["chat", "--config", str(folder / "config.yaml")], input=typed
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert len(result.output) < 200_000 * (len(session) + 1), "output out of proportion"
    assert result.output.count("\n") <= 60 * (len(session) + 1), "too many lines for the input"
