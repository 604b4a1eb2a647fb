from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from core.domain import rounds as rules
from core.domain.rounds import ShareInput

BRUSSELS = ZoneInfo("Europe/Brussels")
TODAY = date(2026, 11, 28)


def share(**overrides) -> ShareInput:
    values = dict(title="The café story", link="https://example.org/story.pdf", text="",
                  questions=("a?", "b?", "c?"), deadline=date(2026, 12, 5), share_mode="thread", channel_id="C1")
    values.update(overrides)
    return ShareInput(**values)


def test_a_complete_share_is_valid():
    assert rules.validate_share(share(), today=TODAY) == {}


@pytest.mark.parametrize("link,error", [
    ("javascript:alert(1)", rules.E_URL_SCHEME),
    ("example.org/story", rules.E_URL_SCHEME),
    ("data:text/html,hi", rules.E_URL_SCHEME),
    ("https://exa mple.org", rules.E_URL_INVALID),
    ("https://nohost", rules.E_URL_INVALID),
    ("https://example.org/" + "x" * 10_000, rules.E_TOO_LONG),
])
def test_bad_links_are_refused_with_a_sentence(link, error):
    assert rules.validate_share(share(link=link), today=TODAY)["link"].message == error


def test_link_or_text_is_required_and_text_alone_is_enough():
    assert rules.validate_share(share(link="", text=""), today=TODAY)["link"].message == rules.E_LINK_OR_TEXT
    assert rules.validate_share(share(link="", text="Read this."), today=TODAY) == {}


@pytest.mark.parametrize("field,value,error", [
    ("title", "   ", rules.E_REQUIRED),
    ("title", "x" * 151, rules.E_TOO_LONG),
    ("text", "x" * 3001, rules.E_TOO_LONG),
    ("deadline", date(2026, 11, 28), rules.E_DEADLINE_PAST),
    ("deadline", date(2027, 6, 1), rules.E_DEADLINE_FAR),
    ("deadline", None, rules.E_REQUIRED),
    ("share_mode", "everyone", rules.E_SHARE_MODE),
    ("channel_id", "", rules.E_CHANNEL),
])
def test_each_field_has_its_own_error(field, value, error):
    errors = rules.validate_share(share(**{field: value}), today=TODAY)
    key = {"channel_id": "channel"}.get(field, field)
    assert errors[key].message == error


def test_empty_question_and_too_long_answer():
    assert rules.validate_share(share(questions=("a", " ", "c")), today=TODAY)["q2"].message == rules.E_REQUIRED
    errors = rules.validate_answers(("ok", "", "x" * 3001))
    assert set(errors) == {"a2", "a3"}


def test_deadline_is_end_of_working_day_in_the_authors_zone():
    assert rules.deadline_instant(date(2026, 12, 4), "Europe/Brussels") == datetime(2026, 12, 4, 16, 0,
                                                                                   tzinfo=timezone.utc)


def local(dt: datetime) -> datetime:
    return dt.astimezone(BRUSSELS)


def test_reminder_is_24_hours_before_when_that_is_inside_working_hours():
    deadline = datetime(2026, 12, 4, 10, 0, tzinfo=BRUSSELS)  # Friday 10:00
    when = rules.reminder_time(deadline, "Europe/Brussels", datetime(2026, 11, 28, tzinfo=timezone.utc))
    assert local(when) == datetime(2026, 12, 3, 10, 0, tzinfo=BRUSSELS)


def test_reminder_moves_back_from_the_weekend_to_friday_afternoon():
    deadline = datetime(2026, 12, 7, 17, 0, tzinfo=BRUSSELS)  # Monday 17:00 -> Sunday 17:00 -> Friday 16:00
    when = rules.reminder_time(deadline, "Europe/Brussels", datetime(2026, 11, 28, tzinfo=timezone.utc))
    assert local(when) == datetime(2026, 12, 4, 16, 0, tzinfo=BRUSSELS)


def test_reminder_lands_at_the_right_local_hour_in_the_week_the_clocks_change():
    # Summer time ends on Sunday 25 October 2026 in Europe/Brussels (UTC+2 -> UTC+1).
    deadline = datetime(2026, 10, 27, 11, 0, tzinfo=BRUSSELS)  # Tuesday 11:00 CET
    when = rules.reminder_time(deadline, "Europe/Brussels", datetime(2026, 10, 20, tzinfo=timezone.utc))
    assert local(when) == datetime(2026, 10, 26, 11, 0, tzinfo=BRUSSELS)
    assert when == datetime(2026, 10, 26, 10, 0, tzinfo=timezone.utc)
    # and in spring (29 March 2026, UTC+1 -> UTC+2): Friday 16:00 local before a Monday deadline
    deadline = datetime(2026, 3, 30, 9, 30, tzinfo=BRUSSELS)
    when = rules.reminder_time(deadline, "Europe/Brussels", datetime(2026, 3, 20, tzinfo=timezone.utc))
    assert local(when) == datetime(2026, 3, 27, 16, 0, tzinfo=BRUSSELS)
    assert when == datetime(2026, 3, 27, 15, 0, tzinfo=timezone.utc)


def test_reminder_in_a_short_round_is_the_next_working_moment_or_none():
    now = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)  # Tuesday 08:00 in Brussels
    deadline = datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)  # Tuesday 17:00
    when = rules.reminder_time(deadline, "Europe/Brussels", now)
    assert local(when) == datetime(2026, 12, 1, 9, 0, tzinfo=BRUSSELS)
    late = datetime(2026, 12, 1, 15, 30, tzinfo=timezone.utc)
    assert rules.reminder_time(deadline, "Europe/Brussels", late) is None


def test_a_round_shared_on_friday_afternoon_for_monday_reminds_on_monday_not_at_once():
    deadline = datetime(2026, 12, 14, 17, 0, tzinfo=BRUSSELS)  # Monday 17:00: ideally Friday 16:00
    for shared, reminded in ((datetime(2026, 12, 11, 16, 30), datetime(2026, 12, 14, 9, 0)),  # after it
                             (datetime(2026, 12, 11, 14, 30), datetime(2026, 12, 11, 16, 30)),  # too close
                             (datetime(2026, 12, 11, 13, 0), datetime(2026, 12, 11, 16, 0))):
        when = rules.reminder_time(deadline, "Europe/Brussels", shared.replace(tzinfo=BRUSSELS) + rules.REMINDER_GAP)
        assert local(when) == reminded.replace(tzinfo=BRUSSELS)


def test_unknown_time_zone_falls_back_to_utc():
    assert rules.zone("Mars/Olympus").key == "UTC"
