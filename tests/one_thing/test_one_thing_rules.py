"""The One Thing's rules as tables: what people type, what is too long, and when the check is asked."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.domain import one_thing as rules
from core.domain.one_thing import Record, SetShare, Show
from core.domain.rounds import E_REQUIRED


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("typed, command", [
    ("", Show()),
    ("   \n\t ", Show()),
    ("Ask before assuming", Record("Ask before assuming", False)),
    ("  Ask before assuming  ", Record("Ask before assuming", False)),
    ("Ask before assuming #share", Record("Ask before assuming", True)),
    ("#SHARE Ask before assuming", Record("Ask before assuming", True)),
    ("Eerst vragen, dan aannemen #deel", Record("Eerst vragen, dan aannemen", True)),
    ("Say no to #stuff first", Record("Say no to #stuff first", False)),  # other tags are the person's words
    ("Share drafts early", Record("Share drafts early", False)),  # "share" as a first word is just a word
    ("#sharepoint less", Record("#sharepoint less", False)),
    ("share", SetShare(True)),
    ("Deel", SetShare(True)),
    ("delen", SetShare(True)),
    ("#share", SetShare(True)),
    ("unshare", SetShare(False)),
    ("privé", SetShare(False)),
    ("niet  delen", SetShare(False)),
    ("private", SetShare(False)),
])
def test_what_people_type(typed, command):
    assert rules.parse_command(typed) == command


@pytest.mark.parametrize("text, error", [
    ("", E_REQUIRED),
    ("   ", E_REQUIRED),
    ("x" * 500, None),
    ("  " + "x" * 500 + "  ", None),  # the spaces around don't count
    ("x" * 501, rules.E_TEXT_LONG),
    ("😀" * 500, None),
    ("<!channel> listen first", None),  # shown literally, never as a mention (the message model's Plain)
])
def test_text_limits(text, error):
    problem = rules.check_text(text)
    assert (problem.message if problem else None) == error
    if error == rules.E_TEXT_LONG:
        assert problem.params == {"max": 500, "length": 501}


@pytest.mark.parametrize("answer, note, fields", [
    ("yes", "", set()),
    ("partly", "n" * 500, set()),
    ("dropped", "n" * 501, {"note"}),
    (None, "", {"answer"}),
    ("maybe", "", {"answer"}),
])
def test_check_answers(answer, note, fields):
    assert set(rules.check_answer(answer, note)) == fields


@pytest.mark.parametrize("recorded, tz, due, why", [
    # Tuesday 10:00 in Brussels (09:00 UTC) -> next Tuesday 10:00.
    (utc(2026, 3, 3, 9), "Europe/Brussels", utc(2026, 3, 10, 9), "inside working hours a week later"),
    # Friday 20:00 in Brussels -> next Friday 20:00 is after work -> Monday 09:00.
    (utc(2026, 3, 6, 19), "Europe/Brussels", utc(2026, 3, 9 + 7, 8), "after work moves to the next morning"),
    # Saturday 11:00 -> next Saturday -> Monday 09:00.
    (utc(2026, 3, 7, 10), "Europe/Brussels", utc(2026, 3, 16, 8), "the weekend moves to Monday"),
    # Tuesday 07:00 local -> a week later before 09:00 -> that day at 09:00.
    (utc(2026, 3, 3, 6), "Europe/Brussels", utc(2026, 3, 10, 8), "before work waits for 09:00"),
    # DST: recorded Wednesday 25 March 2026 10:00 CET (09:00 UTC); clocks go forward on Sunday 29 March,
    # so a week later 10:00 CEST is 08:00 UTC: 167 hours, the same wall-clock time.
    (utc(2026, 3, 25, 9), "Europe/Brussels", utc(2026, 4, 1, 8), "spring forward: same wall-clock time"),
    # DST back: Wednesday 21 October 2026 16:30 CEST (14:30 UTC) -> 28 October 16:30 CET = 15:30 UTC.
    (utc(2026, 10, 21, 14, 30), "Europe/Brussels", utc(2026, 10, 28, 15, 30), "fall back: 169 hours"),
    # Another zone: 10:00 in New York (15:00 UTC) on a Monday -> next Monday 10:00 there.
    (utc(2026, 3, 2, 15), "America/New_York", utc(2026, 3, 9, 14), "New York's DST starts 8 March"),
    # Friday 16:00 UTC = Friday 17:00 in Brussels (end of day) -> next Friday 17:00 is out -> Monday.
    (utc(2026, 3, 6, 16), "Europe/Brussels", utc(2026, 3, 16, 8), "17:00 is no longer working time"),
    # An unknown zone counts as UTC.
    (utc(2026, 3, 3, 12), "Mars/Olympus", utc(2026, 3, 10, 12), "unknown zone: UTC"),
    (utc(2026, 3, 3, 12), None, utc(2026, 3, 10, 12), "no zone: UTC"),
])
def test_the_check_comes_a_week_later_inside_working_hours(recorded, tz, due, why):
    assert rules.check_due(recorded, tz) == due, why


@pytest.mark.parametrize("now, tz, moment", [
    (utc(2026, 3, 10, 9), "Europe/Brussels", utc(2026, 3, 10, 9)),  # Tuesday 10:00 there: now
    (utc(2026, 3, 10, 9), "Asia/Tokyo", utc(2026, 3, 11, 0)),  # 18:00 in Tokyo: their next 09:00
    (utc(2026, 3, 14, 9), "Europe/Brussels", utc(2026, 3, 16, 8)),  # Saturday: Monday
])
def test_a_check_waits_for_the_persons_working_hours_when_it_is_due(now, tz, moment):
    assert rules.may_ask_now(now, tz) == moment
