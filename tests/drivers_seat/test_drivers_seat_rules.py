"""The Driver's Seat's rules as tables: what people type, the run's counted days, the morning and
evening moments across DST and zones, the forms' checks and the green share per kind."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from core.domain import drivers_seat as rules
from core.domain.drivers_seat import Share, Show, Start, Stop, Unclear, Unshare
from core.domain.focus import Category
from core.domain.rounds import E_REQUIRED


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("typed, command", [
    ("", Show()),
    ("  ", Show()),
    ("start", Start(5)),
    ("START 3", Start(3)),
    ("begin 10", Start(10)),
    ("start 1", Start(1)),
    ("stop", Stop()),
    ("stoppen", Stop()),
    ("share <@U2|coach>", Share("<@U2|coach>")),
    ("deel @Coach", Share("@Coach")),
    ("unshare", Unshare()),
    ("niet  delen", Unshare()),
])
def test_what_people_type(typed, command):
    assert rules.parse_command(typed) == command


@pytest.mark.parametrize("typed, message", [
    ("start 0", rules.E_DAYS), ("start 11", rules.E_DAYS), ("start five", rules.E_DAYS), ("start -2", rules.E_DAYS),
    ("share", rules.E_SHARE_WHO), ("hello", rules.E_UNCLEAR), ("stop now", rules.E_UNCLEAR),
])
def test_what_is_not_understood(typed, message):
    command = rules.parse_command(typed)
    assert isinstance(command, Unclear) and command.error.message == message


@pytest.mark.parametrize("now, tz, first", [
    (utc(2026, 3, 2, 7, 0), "Europe/Amsterdam", date(2026, 3, 2)),  # Monday 08:00 there: today counts
    (utc(2026, 3, 2, 15, 59), "Europe/Amsterdam", date(2026, 3, 2)),  # 16:59 there: still today
    (utc(2026, 3, 2, 16, 0), "Europe/Amsterdam", date(2026, 3, 3)),  # 17:00 there: the day is over
    (utc(2026, 3, 6, 17, 0), "Europe/Amsterdam", date(2026, 3, 9)),  # Friday evening: Monday
    (utc(2026, 3, 7, 10, 0), "Europe/Amsterdam", date(2026, 3, 9)),  # Saturday: Monday
    (utc(2026, 3, 2, 23, 30), "Asia/Tokyo", date(2026, 3, 3)),  # already Tuesday 08:30 in Tokyo
    (utc(2026, 3, 3, 1, 0), "America/New_York", date(2026, 3, 3)),  # Monday 20:00 in New York: Tuesday
    (utc(2026, 3, 2, 20, 0), "America/New_York", date(2026, 3, 2)),  # Monday 15:00 in New York: today
])
def test_first_day(now, tz, first):
    assert rules.first_day(now, tz) == first


@pytest.mark.parametrize("start, days, skipped, counted", [
    (date(2026, 3, 2), 5, set(), (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5),
                                  date(2026, 3, 6))),
    # from a Thursday: across the weekend
    (date(2026, 3, 5), 5, set(), (date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 10),
                                  date(2026, 3, 11))),
    # a skipped Friday is not counted: the run grows by a day
    (date(2026, 3, 5), 5, {date(2026, 3, 6)}, (date(2026, 3, 5), date(2026, 3, 9), date(2026, 3, 10),
                                                date(2026, 3, 11), date(2026, 3, 12))),
    (date(2026, 3, 2), 1, set(), (date(2026, 3, 2),)),
    (date(2026, 3, 2), 10, {date(2026, 3, 2)}, tuple(date(2026, 3, d) for d in (3, 4, 5, 6, 9, 10, 11, 12, 13, 16))),
])
def test_counted_days(start, days, skipped, counted):
    assert rules.counted_days(start, days, skipped) == counted


# The Netherlands move to summer time on Sunday 29 March 2026, New York on 8 March, Tokyo never.
@pytest.mark.parametrize("day, tz, morning, evening", [
    (date(2026, 3, 27), "Europe/Amsterdam", utc(2026, 3, 27, 8, 0), utc(2026, 3, 27, 16, 0)),  # Friday, CET
    (date(2026, 3, 30), "Europe/Amsterdam", utc(2026, 3, 30, 7, 0), utc(2026, 3, 30, 15, 0)),  # Monday, CEST
    (date(2026, 3, 6), "America/New_York", utc(2026, 3, 6, 14, 0), utc(2026, 3, 6, 22, 0)),  # EST
    (date(2026, 3, 9), "America/New_York", utc(2026, 3, 9, 13, 0), utc(2026, 3, 9, 21, 0)),  # EDT
    (date(2026, 3, 30), "Asia/Tokyo", utc(2026, 3, 30, 0, 0), utc(2026, 3, 30, 8, 0)),
    (date(2026, 3, 30), None, utc(2026, 3, 30, 9, 0), utc(2026, 3, 30, 17, 0)),
    (date(2026, 3, 30), "Not/AZone", utc(2026, 3, 30, 9, 0), utc(2026, 3, 30, 17, 0)),
])
def test_morning_and_evening(day, tz, morning, evening):
    assert rules.morning(day, tz) == morning
    assert rules.evening(day, tz) == evening


def test_a_dst_week_keeps_the_wall_clock():
    """A run across the change: every morning is 09:00 and every evening 17:00 in Amsterdam."""
    days = rules.counted_days(date(2026, 3, 26), 5)
    assert days == (date(2026, 3, 26), date(2026, 3, 27), date(2026, 3, 30), date(2026, 3, 31), date(2026, 4, 1))
    assert [rules.morning(d, "Europe/Amsterdam").hour for d in days] == [8, 8, 7, 7, 7]
    assert [rules.evening(d, "Europe/Amsterdam").hour for d in days] == [16, 16, 15, 15, 15]
    assert rules.week_card_due(date(2026, 3, 26), 5, set(), "Europe/Amsterdam") == utc(2026, 4, 2, 7, 0)
    # the last day a Friday: the card comes on Monday
    assert rules.week_card_due(date(2026, 3, 2), 5, set(), "Europe/Amsterdam") == utc(2026, 3, 9, 8, 0)


@pytest.mark.parametrize("tasks, errors", [
    ((("proactive", "Write the plan"), ("reactive", "Answer Sam"), ("stuff", "Expenses")), {}),
    ((("stuff", "a"), ("stuff", "b"), ("proactive", "c")), {}),  # kinds swapped: fine
    ((("proactive", ""), ("reactive", "  \n"), ("stuff", "x")), {"task1": E_REQUIRED, "task2": E_REQUIRED}),
    ((("proactive", "x" * 3000), ("reactive", "y"), ("stuff", "z")), {"task1": rules.E_TASK_LONG}),
    ((("proactive", "x" * 200), ("nonsense", "y"), (None, "z")), {"kind2": rules.E_KIND, "kind3": rules.E_KIND}),
])
def test_morning_form(tasks, errors):
    assert {k: e.message for k, e in rules.check_tasks(tasks).items()} == errors


@pytest.mark.parametrize("ratings, errors", [
    ((("green", ""), ("orange", "meetings"), ("red", "")), {}),
    (((None, "why"), ("blue", ""), ("red", "w" * 201)), {"rating1": rules.E_RATING, "rating2": rules.E_RATING,
                                                         "why3": rules.E_WHY_LONG}),
])
def test_evening_form(ratings, errors):
    assert {k: e.message for k, e in rules.check_ratings(ratings).items()} == errors


@pytest.mark.parametrize("rated, shares", [
    ([], {Category.PROACTIVE: None, Category.REACTIVE: None, Category.STUFF: None}),
    ([("proactive", "green"), ("proactive", "red"), ("reactive", "orange"), ("stuff", "green")],
     {Category.PROACTIVE: 0.5, Category.REACTIVE: 0.0, Category.STUFF: 1.0}),
    ([("proactive", "green")] * 2 + [("proactive", "orange")], {Category.PROACTIVE: 2 / 3, Category.REACTIVE: None,
                                                                 Category.STUFF: None}),
])
def test_green_share(rated, shares):
    assert rules.green_share(rated) == shares


@pytest.mark.parametrize("share, shown", [(None, None), (0.0, 0), (2 / 3, 67), (1.0, 100)])
def test_percent(share, shown):
    assert rules.percent(share) == shown


@pytest.mark.parametrize("text, error", [("Well done", None), ("  ", E_REQUIRED), ("x" * 2001, rules.E_FEEDBACK_LONG)])
def test_feedback(text, error):
    found = rules.check_feedback(text)
    assert (found.message if found else None) == error


@pytest.mark.parametrize("who, user", [("<@U2AB|coach>", "U2AB"), ("<@W9>", "W9"), ("@coach", None), ("", None)])
def test_slack_mention(who, user):
    assert rules.slack_mention(who) == user
