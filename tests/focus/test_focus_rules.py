"""Focus rules without I/O: parsing, weeks in the person's zone (DST), goals, plan validation."""

from datetime import datetime, timedelta, timezone

import pytest

from core.domain import focus as rules
from core.domain.focus import Category, PlanRow, Progress, Start, Stop, Unclear, Week


@pytest.mark.parametrize("typed, expected", [
    ("90", Start(90)),
    ("1h30 writing the Q3 plan", Start(90, Category.PROACTIVE, "writing the Q3 plan")),
    ("1.5h", Start(90)),
    ("1,5h", Start(90)),
    ("2h", Start(120)),
    ("45m #reactive mails", Start(45, Category.REACTIVE, "mails")),
    ("45min", Start(45)),
    ("1u30 #stuff", Start(90, Category.STUFF)),
    ("1:15 #Proactief plan", Start(75, Category.PROACTIVE, "plan")),
    ("30 the #stuff pile", Start(30, Category.STUFF, "the pile")),
    ("", Week()),
    ("stop", Stop()),
    ("STOP", Stop()),
    ("plan", rules.Plan()),
    ("goal 300", rules.SetGoal(300)),
    ("goal 4h", rules.SetGoal(240)),
])
def test_commands_people_type(typed, expected):
    assert rules.parse_command(typed) == expected


@pytest.mark.parametrize("typed, message", [
    ("anderhalf uur", rules.E_WORDS),
    ("an hour", rules.E_WORDS),
    ("-30", rules.E_NEGATIVE),
    ("- 5", rules.E_NEGATIVE),
    ("0", rules.E_ZERO),
    ("0h", rules.E_ZERO),
    ("3", rules.E_TOO_SHORT),
    ("25h", rules.E_TOO_LONG),
    ("481", rules.E_TOO_LONG),
    ("blah blah", rules.E_NO_DURATION),
    ("1h75", rules.E_NO_DURATION),
    ("90 #urgent", rules.E_UNKNOWN_TAG),
    ("90 #stuff #reactive", rules.E_TWO_TAGS),
    ("90 " + "x" * 151, rules.E_TOPIC_LONG),
    ("goal lots", rules.E_GOAL),
])
def test_what_cannot_be_used_gets_a_sentence(typed, message):
    result = rules.parse_command(typed)
    assert isinstance(result, Unclear) and result.error.message == message


def test_the_limits_themselves_are_allowed():
    assert rules.parse_command("5") == Start(5)
    assert rules.parse_command("8h") == Start(480)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_week_starts_monday_midnight_in_the_persons_zone():
    # Sunday 23:30 UTC is already Monday 00:30 in Brussels (winter, UTC+1): a new week there.
    start, end = rules.week_bounds(utc(2026, 1, 11, 23, 30), "Europe/Brussels")
    assert start == utc(2026, 1, 11, 23, 0)
    assert end == utc(2026, 1, 18, 23, 0)
    # ... but still last week in New York.
    start, _ = rules.week_bounds(utc(2026, 1, 11, 23, 30), "America/New_York")
    assert start == utc(2026, 1, 5, 5, 0)


def test_dst_weeks_are_one_hour_shorter_or_longer():
    spring_start, spring_end = rules.week_bounds(utc(2026, 3, 25, 12), "Europe/Brussels")  # clocks go forward 29 Mar
    assert spring_start == utc(2026, 3, 22, 23) and spring_end == utc(2026, 3, 29, 22)
    assert spring_end - spring_start == timedelta(hours=167)
    autumn_start, autumn_end = rules.week_bounds(utc(2026, 10, 21, 12), "Europe/Brussels")  # back 25 Oct
    assert autumn_end - autumn_start == timedelta(hours=169)


def test_unknown_zone_falls_back_to_utc():
    assert rules.week_bounds(utc(2026, 1, 7, 12), "Mars/Olympus") == (utc(2026, 1, 5), utc(2026, 1, 12))


def test_minutes_are_clipped_to_the_week():
    week = (utc(2026, 1, 5), utc(2026, 1, 12))
    assert rules.overlap_minutes(utc(2026, 1, 4, 23, 30), utc(2026, 1, 5, 1), *week) == 60
    assert rules.overlap_minutes(utc(2026, 1, 12, 1), utc(2026, 1, 12, 2), *week) == 0


def test_goal_arithmetic():
    progress = Progress(240, {Category.PROACTIVE: 120, Category.REACTIVE: 45})
    assert (progress.done, progress.remaining, progress.percent, progress.reached) == (165, 75, 68, False)
    over = Progress(240, {Category.STUFF: 300})
    assert (over.remaining, over.percent, over.reached) == (0, 125, True)
    assert Progress(0).percent == 100
    assert Progress(239 + 1, {Category.STUFF: 239}).percent == 99  # 100% only when really reached


@pytest.mark.parametrize("person, workspace, goal", [(None, None, 240), (None, 300, 300), (120, 300, 120), (0, 300, 0)])
def test_whose_goal_counts(person, workspace, goal):
    assert rules.effective_goal(person, workspace) == goal


def test_plan_rows_become_blocks_in_the_persons_zone():
    now = utc(2026, 1, 5, 8)  # Monday 09:00 in Brussels
    blocks, errors = rules.validate_plan(
        (PlanRow("2026-01-06", "9:30", "90"), PlanRow("", "", ""), PlanRow("2026-01-05", "14u00", "1h")),
        tz="Europe/Brussels", now=now)
    assert errors == {}
    assert [(b.starts_at, b.minutes) for b in blocks] == [(utc(2026, 1, 5, 13), 60), (utc(2026, 1, 6, 8, 30), 90)]


def test_plan_problems_are_per_field():
    now = utc(2026, 1, 5, 8)
    _, errors = rules.validate_plan(
        (PlanRow("2026-01-05", "08:00", "60"), PlanRow("2026-01-06", "25:00", "60"),
         PlanRow("2026-01-06", "10:00", "0"), PlanRow("2026-01-07", "", "60")), tz="Europe/Brussels", now=now)
    assert {k: v.message for k, v in errors.items()} == {
        "start0": rules.E_PLAN_PAST, "start1": rules.E_PLAN_TIME, "length2": rules.E_ZERO,
        "start3": rules.E_PLAN_INCOMPLETE}
    _, errors = rules.validate_plan((PlanRow("2026-01-06", "09:00", "2h"), PlanRow("2026-01-06", "10:00", "30")),
                                    tz="Europe/Brussels", now=now)
    assert {k: v.message for k, v in errors.items()} == {"start1": rules.E_PLAN_OVERLAP}
