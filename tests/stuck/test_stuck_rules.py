"""The stuck log's pure rules, as tables: what people type, the entry's limits, the log's days across
weekends, late starts, other zones and a DST change, and the rule-based proposal."""

from datetime import date, datetime, timezone

import pytest

from core.domain import stuck as rules
from core.domain.stuck import Entry, EntryInput, Knew, Proposal, Waited

UTC = timezone.utc
BXL = "Europe/Brussels"


@pytest.mark.parametrize("typed, command", [
    ("", rules.Status()),
    ("   ", rules.Status()),
    ("start", rules.Start(10)),
    ("Start 5", rules.Start(5)),
    ("begin 30", rules.Start(30)),
    ("start 0", rules.BadDays()),
    ("start 31", rules.BadDays()),
    ("start ten", rules.BadDays()),
    ("start the budget review", rules.Record("start the budget review")),
    ("  the budget for the demo  ", rules.Record("the budget for the demo")),
])
def test_what_people_type(typed, command):
    assert rules.parse_command(typed) == command


OK = dict(what="The price for the pilot", kind="budget", knew="no", waited="day")


@pytest.mark.parametrize("values, errors", [
    (OK, {}),
    ({**OK, "what": "  "}, {"what": "Please fill this in."}),
    ({**OK, "what": "x" * 1000}, {}),
    ({**OK, "what": "x" * 5000}, {"what": rules.E_WHAT_LONG}),
    ({**OK, "note": "n" * 501}, {"note": rules.E_NOTE_LONG}),
    ({**OK, "kind": "lunch"}, {"kind": rules.E_KIND}),
    ({**OK, "kind": "other"}, {"other": rules.E_OTHER}),
    ({**OK, "kind": "other", "other": "hiring"}, {}),
    ({**OK, "kind": "other", "other": "h" * 101}, {"other": rules.E_OTHER_LONG}),
    ({**OK, "knew": None, "waited": "forever"}, {"knew": rules.E_KNEW, "waited": rules.E_WAITED}),
])
def test_entry_limits(values, errors):
    found = rules.check_entry(EntryInput(**values))
    assert {k: v.message for k, v in found.items()} == errors
    if "what" in errors and errors["what"] == rules.E_WHAT_LONG:
        assert found["what"].params == {"max": 1000, "length": 5000}


@pytest.mark.parametrize("start, tz, days, first, last", [
    # Tuesday 10:00 in Brussels: begins today, ten working days across a weekend
    (datetime(2026, 3, 3, 9, tzinfo=UTC), BXL, 10, date(2026, 3, 3), date(2026, 3, 16)),
    # Tuesday 17:30 in Brussels: begins Wednesday
    (datetime(2026, 3, 3, 16, 30, tzinfo=UTC), BXL, 10, date(2026, 3, 4), date(2026, 3, 17)),
    # Friday 18:00: begins Monday
    (datetime(2026, 3, 6, 17, tzinfo=UTC), BXL, 1, date(2026, 3, 9), date(2026, 3, 9)),
    # Saturday: begins Monday
    (datetime(2026, 3, 7, 10, tzinfo=UTC), BXL, 5, date(2026, 3, 9), date(2026, 3, 13)),
    # Monday 01:00 UTC is still Sunday evening in New York: begins Monday there
    (datetime(2026, 3, 9, 1, tzinfo=UTC), "America/New_York", 2, date(2026, 3, 9), date(2026, 3, 10)),
    # 22:00 UTC on Monday is already Tuesday 07:00 in Tokyo
    (datetime(2026, 3, 9, 22, tzinfo=UTC), "Asia/Tokyo", 1, date(2026, 3, 10), date(2026, 3, 10)),
])
def test_log_days(start, tz, days, first, last):
    found = rules.log_days(start, tz, days)
    assert (len(found), found[0], found[-1]) == (days, first, last)
    assert all(day.weekday() < 5 for day in found)


def test_nudges_and_report_follow_each_zone_across_the_dst_change():
    """Brussels moves to summer time on Sunday 29 March 2026: 16:30 is 15:30 UTC before, 14:30 after."""
    days = rules.log_days(datetime(2026, 3, 26, 8, tzinfo=UTC), BXL, 3)  # Thu, Fri, Mon
    assert days == (date(2026, 3, 26), date(2026, 3, 27), date(2026, 3, 30))
    times = rules.nudge_times(days, BXL, datetime(2026, 3, 26, 8, tzinfo=UTC))
    assert [when for _day, when in times] == [datetime(2026, 3, 26, 15, 30, tzinfo=UTC),
                                             datetime(2026, 3, 27, 15, 30, tzinfo=UTC),
                                             datetime(2026, 3, 30, 14, 30, tzinfo=UTC)]
    new_york = rules.nudge_times(days, "America/New_York", datetime(2026, 3, 26, 8, tzinfo=UTC))
    assert new_york[0][1] == datetime(2026, 3, 26, 20, 30, tzinfo=UTC)  # EDT already, since 8 March
    assert rules.report_due(days, BXL) == datetime(2026, 3, 30, 15, tzinfo=UTC)
    late = rules.nudge_times(days, BXL, datetime(2026, 3, 26, 16, tzinfo=UTC))  # started after 16:30
    assert [day for day, _when in late] == [date(2026, 3, 27), date(2026, 3, 30)]


def entries(kind: str, *pairs: tuple[str, str]) -> list[Entry]:
    return [Entry(kind, knew, waited) for knew, waited in pairs]


@pytest.mark.parametrize("given, proposal", [
    (entries("budget", ("no", "hours"), ("yes", "hours")), Proposal.NAME_DECIDER),  # half unknown
    (entries("budget", ("unclear", "hours"), ("yes", "hours"), ("yes", "day")), Proposal.ANSWER_IN_A_DAY),
    (entries("scope", ("yes", "day"), ("yes", "longer"), ("no", "hours")), Proposal.DOER_DECIDES),
    (entries("scope", ("yes", "hours"), ("yes", "day")), Proposal.DOER_DECIDES),  # median 5.5 h
    (entries("scope", ("yes", "under_hour"), ("yes", "day")), Proposal.DOER_DECIDES),  # median 4.25 h
    (entries("scope", ("yes", "under_hour"), ("yes", "hours")), Proposal.ANSWER_IN_A_DAY),
    (entries("scope", ("yes", "under_hour")), Proposal.ANSWER_IN_A_DAY),
])
def test_the_rule_based_proposal(given, proposal):
    [group] = rules.group_entries(given)
    assert group.proposal == proposal
    assert group.count == len(given) and group.unknown == sum(1 for e in given if e.knew != Knew.YES)


def test_groups_come_most_stuck_first_with_their_waits():
    groups = rules.group_entries(entries("technical", ("yes", "hours")) + entries(
        "budget", ("no", "day"), ("unclear", "longer")) + entries("priorities", ("yes", "hours")))
    assert [(g.kind, g.count, g.unknown) for g in groups] == [("budget", 2, 2), ("priorities", 1, 0),
                                                              ("technical", 1, 0)]
    assert groups[0].waits == {Waited.UNDER_HOUR: 0, Waited.HOURS: 0, Waited.DAY: 1, Waited.LONGER: 1}
    assert groups[0].median_hours == 12.0
