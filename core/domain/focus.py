"""Focus time: parsing what people type, week boundaries and goal arithmetic. No I/O.

The programme behind the app asks each person to protect focus time (the example team agrees on
four hours a week) and to name the kind of work: proactive (what moves things forward), reactive
(answering others) or "stuff" (small chores).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum

from core.domain.rounds import FieldError, zone
from core.domain.text import N_

MIN_MINUTES = 5
MAX_MINUTES = 8 * 60  # a working day; longer is not focus time but absence
TOPIC_MAX = 150
DEFAULT_WEEKLY_GOAL = 240  # minutes; the example team's four hours a week
MAX_WEEKLY_GOAL = 40 * 60
PLAN_ROWS = 4  # blocks per `/focus plan` form


class Category(StrEnum):
    PROACTIVE = "proactive"
    REACTIVE = "reactive"
    STUFF = "stuff"


# `#tag` spellings people use, English and Dutch.
CATEGORY_TAGS = {
    "proactive": Category.PROACTIVE, "proactief": Category.PROACTIVE,
    "reactive": Category.REACTIVE, "reactief": Category.REACTIVE,
    "stuff": Category.STUFF, "klein": Category.STUFF,
}

E_NO_DURATION = N_("Start with how long, for example `/focus 90`, `/focus 1h30 writing the plan` or "
                   "`/focus 45m #reactive`.")
E_WORDS = N_("Please write the length in numbers, like 90, 1h30, 1.5h or 45m — lengths in words "
             "(like \"{words}\") aren't understood yet.")
E_NEGATIVE = N_("A focus session can't be negative. Give a length like 90 or 1h30.")
E_ZERO = N_("A focus session of 0 minutes is over before it starts. Give a length like 90 or 1h30.")
E_TOO_SHORT = N_("Focus sessions are at least {min} minutes.")
E_TOO_LONG = N_("Focus sessions are at most {hours} hours. For longer, plan several blocks with `/focus plan`.")
E_UNKNOWN_TAG = N_("I don't know the category #{tag}. Use #proactive, #reactive or #stuff.")
E_TWO_TAGS = N_("Give one category per session (#proactive, #reactive or #stuff).")
E_TOPIC_LONG = N_("Please keep the topic under {max} characters (it has {length}).")
E_GOAL = N_("Give the weekly goal in minutes, between 0 and {max}, for example `/focus goal 240`.")


@dataclass(frozen=True)
class Start:
    minutes: int
    category: Category = Category.PROACTIVE
    topic: str = ""


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Week:
    pass


@dataclass(frozen=True)
class Plan:
    pass


@dataclass(frozen=True)
class Connect:
    pass


@dataclass(frozen=True)
class SetGoal:
    minutes: int


@dataclass(frozen=True)
class Unclear:
    """What was typed can't be used; `error` says why in the person's language."""

    error: FieldError


Command = Start | Stop | Week | Plan | Connect | SetGoal | Unclear

_MINUTES = re.compile(r"^(\d+)(?:m|min|mins|minutes?|minuten)?$")
_HOURS = re.compile(r"^(\d+(?:[.,]\d+)?)(?:h|u|hr|hrs|hours?|uur)$")
_HOURS_MINUTES = re.compile(r"^(\d+)[hu:](\d{1,2})(?:m|min)?$")
_NEGATIVE = re.compile(r"^-\s*\d")
_WORD_LENGTHS = re.compile(r"^(an? (half )?hour|half|one|two|three|een|één|twee|drie|anderhalf|kwartier|uur|hour)\b",
                           re.IGNORECASE)


def parse_duration(token: str) -> int | None:
    """Minutes in `90`, `45m`, `1h30`, `1u30`, `1:30`, `1.5h`, `2h`; None when it isn't a length."""
    token = token.lower()
    if match := _MINUTES.match(token):
        return int(match.group(1))
    if match := _HOURS.match(token):
        return round(float(match.group(1).replace(",", ".")) * 60)
    if (match := _HOURS_MINUTES.match(token)) and int(match.group(2)) < 60:
        return int(match.group(1)) * 60 + int(match.group(2))
    return None


def check_minutes(minutes: int) -> FieldError | None:
    if minutes < 0:
        return FieldError(E_NEGATIVE)
    if minutes == 0:
        return FieldError(E_ZERO)
    if minutes < MIN_MINUTES:
        return FieldError(E_TOO_SHORT, {"min": MIN_MINUTES})
    if minutes > MAX_MINUTES:
        return FieldError(E_TOO_LONG, {"hours": MAX_MINUTES // 60})
    return None


def parse_command(text: str) -> Command:
    """`/focus` arguments -> what to do. The length comes first; `#tag` anywhere sets the category;
    the rest is the topic."""
    text = " ".join((text or "").split())
    word = text.split(" ", 1)[0].lower() if text else ""
    if not text:
        return Week()
    if word in ("stop", "end", "klaar", "stoppen"):
        return Stop()
    if word in ("plan", "plannen"):
        return Plan()
    if word in ("connect", "koppel", "koppelen"):
        return Connect()
    if word in ("goal", "doel"):
        rest = text.split(" ", 1)[1] if " " in text else ""
        minutes = parse_duration(rest.replace(" ", "")) if rest else None
        if minutes is None or minutes > MAX_WEEKLY_GOAL:
            return Unclear(FieldError(E_GOAL, {"max": MAX_WEEKLY_GOAL}))
        return SetGoal(minutes)
    if _NEGATIVE.match(text):
        return Unclear(FieldError(E_NEGATIVE))
    first, _, rest = text.partition(" ")
    minutes = parse_duration(first)
    if minutes is None:
        if _WORD_LENGTHS.match(text):
            words = " ".join(text.split(" ")[:2])
            return Unclear(FieldError(E_WORDS, {"words": words}))
        return Unclear(FieldError(E_NO_DURATION))
    if error := check_minutes(minutes):
        return Unclear(error)
    categories, topic_words = [], []
    for part in rest.split(" ") if rest else ():
        if part.startswith("#") and len(part) > 1:
            tag = part[1:].lower()
            if tag not in CATEGORY_TAGS:
                return Unclear(FieldError(E_UNKNOWN_TAG, {"tag": part[1:]}))
            categories.append(CATEGORY_TAGS[tag])
        else:
            topic_words.append(part)
    if len(set(categories)) > 1:
        return Unclear(FieldError(E_TWO_TAGS))
    topic = " ".join(topic_words)
    if len(topic) > TOPIC_MAX:
        return Unclear(FieldError(E_TOPIC_LONG, {"max": TOPIC_MAX, "length": len(topic)}))
    return Start(minutes, categories[0] if categories else Category.PROACTIVE, topic)


# --- weeks and goals ---------------------------------------------------------------------------------
def week_bounds(now: datetime, tz: str | None) -> tuple[datetime, datetime]:
    """The person's week around `now`: Monday 00:00 to the next Monday 00:00 in their own time zone,
    as UTC instants. A week with a DST change is 167 or 169 hours long, as it is on their wall clock."""
    zi = zone(tz)
    today = now.astimezone(zi).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday, time(0), tzinfo=zi)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zi)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def overlap_minutes(start: datetime, end: datetime, window_start: datetime, window_end: datetime) -> int:
    """Whole minutes of [start, end) inside [window_start, window_end)."""
    seconds = (min(end, window_end) - max(start, window_start)).total_seconds()
    return max(0, int(seconds // 60))


@dataclass(frozen=True)
class Progress:
    """Focus minutes of one week against the goal."""

    goal: int
    by_category: dict[Category, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return sum(self.by_category.values())

    @property
    def remaining(self) -> int:
        return max(0, self.goal - self.done)

    @property
    def percent(self) -> int:
        """Rounded down, so 100% means the goal is really reached; a goal of 0 counts as reached."""
        return 100 if self.goal == 0 else math.floor(100 * self.done / self.goal)

    @property
    def reached(self) -> bool:
        return self.done >= self.goal


def effective_goal(person_goal: int | None, workspace_goal: int | None) -> int:
    """A person's own goal wins over the workspace's, which wins over the programme's default."""
    if person_goal is not None:
        return person_goal
    if workspace_goal is not None:
        return workspace_goal
    return DEFAULT_WEEKLY_GOAL


# --- planning ------------------------------------------------------------------------------------------
E_PLAN_TIME = N_("Write the start time as hours and minutes, like 09:00 or 14:30.")
E_PLAN_LENGTH = N_("Give the length in minutes or hours, like 90 or 1h30.")
E_PLAN_PAST = N_("This block would start in the past. Pick a later time.")
E_PLAN_INCOMPLETE = N_("Give a start time and a length for this day, or set the day to “no block”.")
E_PLAN_OVERLAP = N_("This block overlaps another one you planned.")

_CLOCK = re.compile(r"^(\d{1,2})(?:[:.hu](\d{2}))?$")


def parse_clock(text: str) -> time | None:
    """`9`, `9:00`, `09.30`, `14u30` -> a time of day; None when it isn't one."""
    match = _CLOCK.match(text.strip().lower())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


@dataclass(frozen=True)
class PlanRow:
    """One row of the plan form as typed: a day (ISO date or empty), a start and a length."""

    day: str
    start: str
    length: str


@dataclass(frozen=True)
class Block:
    starts_at: datetime  # UTC
    minutes: int


def validate_plan(rows: tuple[PlanRow, ...], *, tz: str | None, now: datetime
                  ) -> tuple[list[Block], dict[str, FieldError]]:
    """Rows -> blocks, or errors keyed by the form's input ids (`start{i}`, `length{i}`)."""
    zi = zone(tz)
    blocks: list[tuple[int, Block]] = []
    errors: dict[str, FieldError] = {}
    for index, row in enumerate(rows):
        if not row.day:
            continue
        start, length = parse_clock(row.start), parse_duration(row.length.strip().replace(" ", ""))
        if not row.start.strip() or not row.length.strip():
            errors[f"start{index}" if not row.start.strip() else f"length{index}"] = FieldError(E_PLAN_INCOMPLETE)
            continue
        if start is None:
            errors[f"start{index}"] = FieldError(E_PLAN_TIME)
        if length is None:
            errors[f"length{index}"] = FieldError(E_PLAN_LENGTH)
        elif problem := check_minutes(length):
            errors[f"length{index}"] = problem
        if start is None or f"length{index}" in errors:
            continue
        starts_at = datetime.combine(date.fromisoformat(row.day), start, tzinfo=zi).astimezone(timezone.utc)
        if starts_at < now:
            errors[f"start{index}"] = FieldError(E_PLAN_PAST)
            continue
        blocks.append((index, Block(starts_at, length)))
    ordered = sorted(blocks, key=lambda item: item[1].starts_at)
    for (_, before), (index, after) in zip(ordered, ordered[1:]):
        if before.starts_at + timedelta(minutes=before.minutes) > after.starts_at:
            errors[f"start{index}"] = FieldError(E_PLAN_OVERLAP)
    return [block for _, block in ordered], errors
