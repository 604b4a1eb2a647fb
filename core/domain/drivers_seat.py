"""The Driver's Seat: a run of counted working days on which a person names three tasks in the morning
(one per kind of work, the kinds `/focus` uses) and rates them green / orange / red at the end of the
day. No I/O; `now` is passed in.

A run counts working days (Monday to Friday) from the day it starts: that day itself when it starts
before the end of the working day, else the next working day. A day the person skips is not counted,
so the run grows by a day. The morning prompt comes at the start of the person's working day in their
own zone, the evening one at its end (zoneinfo, so DST-correct). The week card comes the working
morning after the last counted day.

What people type after the command:
    (nothing)                     show the current run
    start [days] | begin [dagen]  start a run (5 working days unless given, 1..10)
    stop | stoppen                end the run
    share @person | deel @persoon share the run with one person (a coach)
    unshare | niet delen          stop sharing
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

from core.domain.focus import Category
from core.domain.rounds import E_REQUIRED, WORK_END, WORK_START, FieldError, zone
from core.domain.text import N_

DEFAULT_DAYS = 5
MIN_DAYS, MAX_DAYS = 1, 10
TASK_MAX = 200  # one task, a line
WHY_MAX = 200  # the optional one-line "why" of a rating
FEEDBACK_MAX = 2000
KINDS = (Category.PROACTIVE, Category.REACTIVE, Category.STUFF)  # the morning form's order


class Rating(StrEnum):
    GREEN = "green"
    ORANGE = "orange"
    RED = "red"


E_DAYS = N_("A run is {min} to {max} working days, for example `/drivers-seat start 5`.")
E_UNCLEAR = N_("Use `/drivers-seat start [days]`, `stop`, `share @coach` or `unshare`, or `/drivers-seat` alone "
               "to see your run.")
E_SHARE_WHO = N_("Name one person to share with, for example `/drivers-seat share @coach`.")
E_TASK_LONG = N_("Please keep a task under {max} characters (it has {length}). One task, one line.")
E_KIND = N_("Choose proactive, reactive or stuff.")
E_RATING = N_("Choose green, orange or red.")
E_WHY_LONG = N_("Please keep the why under {max} characters (it has {length}).")
E_FEEDBACK_LONG = N_("Please keep the feedback under {max} characters (it has {length}).")

START_WORDS = ("start", "begin", "starten")
STOP_WORDS = ("stop", "stoppen", "end", "klaar")
SHARE_WORDS = ("share", "deel", "delen")
UNSHARE_WORDS = ("unshare", "niet delen", "stop delen", "private", "privé", "prive")


@dataclass(frozen=True)
class Show:
    pass


@dataclass(frozen=True)
class Start:
    days: int = DEFAULT_DAYS


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Share:
    who: str  # as typed: a mention the platform layer resolves


@dataclass(frozen=True)
class Unshare:
    pass


@dataclass(frozen=True)
class Unclear:
    error: FieldError


Command = Show | Start | Stop | Share | Unshare | Unclear


def clean(text: str | None) -> str:
    return (text or "").strip()


def parse_command(text: str | None) -> Command:
    """What follows `/drivers-seat` (Teams: `drivers seat` / `stuur`)."""
    words = clean(text).split()
    if not words:
        return Show()
    head, rest = words[0].lower(), words[1:]
    if " ".join(w.lower() for w in words) in UNSHARE_WORDS:
        return Unshare()
    if head in START_WORDS:
        if not rest:
            return Start()
        if len(rest) == 1 and rest[0].isascii() and rest[0].isdigit() and MIN_DAYS <= int(rest[0]) <= MAX_DAYS:
            return Start(int(rest[0]))
        return Unclear(FieldError(E_DAYS, {"min": MIN_DAYS, "max": MAX_DAYS}))
    if head in STOP_WORDS and not rest:
        return Stop()
    if head in SHARE_WORDS:
        return Share(" ".join(rest)) if rest else Unclear(FieldError(E_SHARE_WHO))
    return Unclear(FieldError(E_UNCLEAR))


# --- the run's days -----------------------------------------------------------------------------------
def is_workday(day: date) -> bool:
    return day.weekday() < 5


def local_day(now: datetime, tz: str | None) -> date:
    return now.astimezone(zone(tz)).date()


def morning(day: date, tz: str | None) -> datetime:
    """The start of the person's working day `day` in their zone, UTC."""
    return datetime.combine(day, WORK_START, tzinfo=zone(tz)).astimezone(timezone.utc)


def evening(day: date, tz: str | None) -> datetime:
    """The end of the person's working day `day` in their zone, UTC."""
    return datetime.combine(day, WORK_END, tzinfo=zone(tz)).astimezone(timezone.utc)


def first_day(now: datetime, tz: str | None) -> date:
    """A run started before the end of a working day counts that day; else it starts the next one."""
    day = local_day(now, tz)
    if is_workday(day) and now < evening(day, tz):
        return day
    day += timedelta(days=1)
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def counted_days(start: date, days: int, skipped: frozenset[date] | set[date] = frozenset()) -> tuple[date, ...]:
    """The run's counted days: `days` working days from `start`, weekends and skipped days left out."""
    counted: list[date] = []
    day = start
    while len(counted) < days:
        if is_workday(day) and day not in skipped:
            counted.append(day)
        day += timedelta(days=1)
    return tuple(counted)


def next_workday(day: date) -> date:
    day += timedelta(days=1)
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def week_card_due(start: date, days: int, skipped: frozenset[date] | set[date], tz: str | None) -> datetime:
    """The working morning after the last counted day: the evening's ratings have had the night."""
    return morning(next_workday(counted_days(start, days, skipped)[-1]), tz)


# --- the forms ----------------------------------------------------------------------------------------
def _length(text: str, maximum: int, message: str) -> FieldError | None:
    if len(clean(text)) > maximum:
        return FieldError(message, {"max": maximum, "length": len(clean(text))})
    return None


def check_tasks(tasks: tuple[tuple[str | None, str], ...]) -> dict[str, FieldError]:
    """Errors of the morning form by input id (`task1..3`, `kind1..3`): each task required and a line."""
    errors: dict[str, FieldError] = {}
    for index, (kind, text) in enumerate(tasks, start=1):
        if kind not in set(Category):
            errors[f"kind{index}"] = FieldError(E_KIND)
        if not clean(text):
            errors[f"task{index}"] = FieldError(E_REQUIRED)
        elif error := _length(text, TASK_MAX, E_TASK_LONG):
            errors[f"task{index}"] = error
    return errors


def check_ratings(ratings: tuple[tuple[str | None, str], ...]) -> dict[str, FieldError]:
    """Errors of the evening form by input id (`rating1..3`, `why1..3`): a colour each, the why optional."""
    errors: dict[str, FieldError] = {}
    for index, (rating, why) in enumerate(ratings, start=1):
        if rating not in set(Rating):
            errors[f"rating{index}"] = FieldError(E_RATING)
        if error := _length(why, WHY_MAX, E_WHY_LONG):
            errors[f"why{index}"] = error
    return errors


def check_feedback(text: str) -> FieldError | None:
    if not clean(text):
        return FieldError(E_REQUIRED)
    return _length(text, FEEDBACK_MAX, E_FEEDBACK_LONG)


# --- the week card's figures --------------------------------------------------------------------------
def green_share(rated: list[tuple[str, str]]) -> dict[Category, float | None]:
    """Per kind of work, the share of its rated tasks that were green (None: no rated task of that kind).
    `rated`: (kind, rating) pairs."""
    shares: dict[Category, float | None] = {}
    for kind in KINDS:
        ratings = [rating for k, rating in rated if k == kind]
        shares[kind] = (sum(1 for r in ratings if r == Rating.GREEN) / len(ratings)) if ratings else None
    return shares


def percent(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


def slack_mention(who: str) -> str | None:
    """The user id in a Slack mention `<@U123|name>`; None when it isn't one."""
    match = _MENTION.match(clean(who))
    return match.group(1) if match else None
