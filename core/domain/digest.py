"""The weekly digest: week boundaries, the schedule, and what a digest contains. No I/O.

A digest week runs from Monday 00:00 to the next Monday 00:00 in the channel's time zone, so a
week with a daylight-saving change is 167 or 169 hours long. The digest is posted once a week at
the channel's chosen weekday and local time (default Friday 15:00).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from core.domain.refs import ChannelRef, Posted
from core.domain.rounds import zone

DEFAULT_WEEKDAY = 4  # Friday (Monday is 0)
DEFAULT_TIME = time(15, 0)
DEFAULT_TZ = "Europe/Brussels"  # the programme's home; used when neither channel nor workspace has one
HISTORY_WEEKS = 8  # weeks in the chart
ACTIVE_WEEKS = 8  # a channel with activity in this many weeks keeps getting digests
WORK_KINDS = ("proactive", "reactive", "stuff")


@dataclass(frozen=True)
class Week:
    """One Monday-to-Monday week in a time zone, as UTC instants [start, end)."""

    first_day: date  # the Monday
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """ISO week, e.g. `2026-W49`: part of the digest job's unique key."""
        year, number, _ = self.first_day.isocalendar()
        return f"{year}-W{number:02d}"


def week_starting(monday: date, tz: str | None) -> Week:
    zi = zone(tz)
    start = datetime.combine(monday, time(0), tzinfo=zi).astimezone(timezone.utc)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zi).astimezone(timezone.utc)
    return Week(monday, start, end)


def week_of(instant: datetime, tz: str | None) -> Week:
    local_day = instant.astimezone(zone(tz)).date()
    return week_starting(local_day - timedelta(days=local_day.weekday()), tz)


def digest_instant(week: Week, tz: str | None, weekday: int, at: time) -> datetime:
    """When the digest of `week` is posted, in UTC (a local time skipped by DST moves forward)."""
    local = datetime.combine(week.first_day + timedelta(days=weekday), at, tzinfo=zone(tz))
    return local.astimezone(timezone.utc)


def next_digest(now: datetime, tz: str | None, weekday: int, at: time) -> tuple[Week, datetime]:
    """The first digest moment after `now`: this week's if it is still to come, else next week's."""
    week = week_of(now, tz)
    when = digest_instant(week, tz, weekday, at)
    if when <= now:
        week = week_starting(week.first_day + timedelta(days=7), tz)
        when = digest_instant(week, tz, weekday, at)
    return week, when


@dataclass(frozen=True)
class DigestSchedule:
    """A channel's digest settings (the defaults when nobody changed them)."""

    enabled: bool = True
    weekday: int = DEFAULT_WEEKDAY
    at: time = DEFAULT_TIME


# --- what a digest contains ------------------------------------------------------------------------
@dataclass(frozen=True)
class RoundLine:
    id: int
    title: str
    post: Posted | None  # the round's channel post: the thread the answers are in
    answered: int
    asked: int
    deadline_at: datetime
    created_at: datetime
    closed_at: datetime | None
    headline: str | None  # the closed round's one-line summary


@dataclass(frozen=True)
class Participation:
    """Team level only: never who did or did not answer."""

    answers: int  # answers given this week
    answerers: int  # distinct people who answered this week
    asked: int  # distinct people asked in the rounds running this week


@dataclass(frozen=True)
class FocusWeek:
    hours: float
    people: int
    reached_goal: int  # people whose focus met their weekly goal
    mix: dict[str, float]  # work kind -> hours


@dataclass(frozen=True)
class MeetingWeek:
    checks: int
    went_async: int
    hours_given_back: float  # person-hours


@dataclass(frozen=True)
class WeekPoint:
    """One week of the chart."""

    first_day: date
    answers: int
    focus_hours: float = 0.0
    mix: dict[str, float] = field(default_factory=dict)  # work kind -> hours


@dataclass(frozen=True)
class AgreementWeek:
    """The team's published agreement: its version and its open actions (text, due date)."""

    version: int
    open_actions: tuple[tuple[str, date | None], ...]


@dataclass(frozen=True)
class Digest:
    channel: ChannelRef
    week: Week
    tz: str
    locale: str
    opened: tuple[RoundLine, ...]
    closed: tuple[RoundLine, ...]
    coming: tuple[RoundLine, ...]  # open rounds, soonest deadline first
    participation: Participation
    focus: FocusWeek | None = None  # None: no focus data this week (or no focus feature)
    meetings: MeetingWeek | None = None
    history: tuple[WeekPoint, ...] = ()
    one_things: tuple[str, ...] = ()  # the team's shared One Things (texts only, never names)
    agreement: AgreementWeek | None = None  # None: the team has no published agreement
    stuck_count: int | None = None  # stuck moments noted so far while a stuck log runs; None: none runs
    seat_people: int = 0  # how many of the team rated a Driver's Seat day of this week
    seat_rated: tuple[tuple[str, str], ...] = ()  # their (kind of work, colour) pairs: team level, no names

    @property
    def is_empty(self) -> bool:
        """Nothing happened and nothing is coming: such a week posts nothing."""
        return not (self.opened or self.closed or self.coming or self.participation.answers
                    or self.focus or self.meetings or self.seat_people)

    @property
    def has_chart(self) -> bool:
        return any(point.focus_hours > 0 or point.answers > 0 for point in self.history)
