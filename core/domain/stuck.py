"""The stuck log: for N working days a team notes each time someone was stuck waiting for a decision;
at the end, a decision-rights report proposes who decides what. No I/O.

The log's days are working days (Monday to Friday) in the starter's time zone: a start after 17:00
begins the next working day, a weekend start begins on Monday. On each log day everyone is asked
"were you stuck today?" at 16:30 in their own zone (once a day); the report is due at 17:00 of the
last day in the starter's zone.

What people type after the command:
    (nothing)                    the running log's status and your own entries
    start [days] | begin [days]  start a log for the channel (default 10 working days)
    <what I was waiting for>     record a stuck moment (opens the form, prefilled)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from statistics import median

from core.domain.rounds import E_REQUIRED, FieldError, zone
from core.domain.text import N_

DEFAULT_DAYS = 10
MIN_DAYS, MAX_DAYS = 1, 30
WHAT_MAX = 1000  # characters: what was waiting
NOTE_MAX = 500
OTHER_MAX = 100  # the free-text decision kind
DAY_END = time(17, 0)  # a start after this begins the next working day; the report is due then
NUDGE_TIME = time(16, 30)  # "were you stuck today?", in each person's own zone
ROSTER_TIME = time(9, 0)  # each later log day the channel is read again, in the log's zone: who joined
HALF_DAY_HOURS = 4.0  # working hours


class Kind(StrEnum):
    PRIORITIES = "priorities"
    SCOPE = "scope"
    BUDGET = "budget"
    TECHNICAL = "technical"
    CUSTOMER = "customer"
    PEOPLE = "people"
    OTHER = "other"


class Knew(StrEnum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


class Waited(StrEnum):
    UNDER_HOUR = "under_hour"
    HOURS = "hours"
    DAY = "day"
    LONGER = "longer"


# Working hours each choice stands for, to take a median.
WAIT_HOURS = {Waited.UNDER_HOUR: 0.5, Waited.HOURS: 3.0, Waited.DAY: 8.0, Waited.LONGER: 16.0}


class Proposal(StrEnum):
    NAME_DECIDER = "name_decider"  # the decider was unknown or unclear in at least half
    DOER_DECIDES = "doer_decides"  # people waited more than half a day (median)
    ANSWER_IN_A_DAY = "answer_in_a_day"  # the decider is known and answers soon enough: make it a promise


E_DAYS = N_("A stuck log runs {min} to {max} working days.")
E_WHAT_LONG = N_("Please keep this under {max} characters (it has {length}). What was waiting, in a few sentences.")
E_NOTE_LONG = N_("Please keep the note under {max} characters (it has {length}).")
E_OTHER_LONG = N_("Please keep the kind of decision under {max} characters (it has {length}).")
E_KIND = N_("Choose the kind of decision.")
E_OTHER = N_("Say what kind of decision it was.")
E_KNEW = N_("Choose yes, no or unclear.")
E_WAITED = N_("Choose how long you waited.")


# --- what people type ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class Start:
    days: int


@dataclass(frozen=True)
class BadDays:
    pass


@dataclass(frozen=True)
class Record:
    what: str


Command = Status | Start | BadDays | Record

START_WORDS = ("start", "begin")


def clean(text: str | None) -> str:
    return (text or "").strip()


def parse_command(text: str | None) -> Command:
    """What follows `/stuck` (Teams: `stuck` / `vast`)."""
    text = clean(text)
    words = text.lower().split()
    if not words:
        return Status()
    if words[0] in START_WORDS and len(words) <= 2:
        if len(words) == 1:
            return Start(DEFAULT_DAYS)
        number = words[1]
        if number.isascii() and number.isdigit() and MIN_DAYS <= int(number) <= MAX_DAYS:
            return Start(int(number))
        return BadDays()
    return Record(text)


# --- the entry ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntryInput:
    what: str = ""
    kind: str | None = None
    other: str = ""
    knew: str | None = None
    waited: str | None = None
    note: str = ""


def check_entry(entry: EntryInput) -> dict[str, FieldError]:
    """Errors by input id (what, kind, other, knew, waited, note)."""
    errors: dict[str, FieldError] = {}

    def too_long(field_id: str, value: str, maximum: int, message: str) -> None:
        if len(clean(value)) > maximum:
            errors[field_id] = FieldError(message, {"max": maximum, "length": len(clean(value))})

    if not clean(entry.what):
        errors["what"] = FieldError(E_REQUIRED)
    too_long("what", entry.what, WHAT_MAX, E_WHAT_LONG)
    if entry.kind not in set(Kind):
        errors["kind"] = FieldError(E_KIND)
    elif entry.kind == Kind.OTHER and not clean(entry.other):
        errors["other"] = FieldError(E_OTHER)
    too_long("other", entry.other, OTHER_MAX, E_OTHER_LONG)
    if entry.knew not in set(Knew):
        errors["knew"] = FieldError(E_KNEW)
    if entry.waited not in set(Waited):
        errors["waited"] = FieldError(E_WAITED)
    too_long("note", entry.note, NOTE_MAX, E_NOTE_LONG)
    return errors


# --- the log's days -----------------------------------------------------------------------------------
def _workday(day: date) -> bool:
    return day.weekday() < 5


def log_days(start: datetime, tz: str | None, days: int) -> tuple[date, ...]:
    """The log's working days, in the starter's zone: from the start's day (the next working day after
    17:00 or on a weekend)."""
    local = start.astimezone(zone(tz))
    day = local.date() if local.time() < DAY_END else local.date() + timedelta(days=1)
    found: list[date] = []
    while len(found) < days:
        if _workday(day):
            found.append(day)
        day += timedelta(days=1)
    return tuple(found)


def at(day: date, moment: time, tz: str | None) -> datetime:
    """That wall-clock time of that day in a zone, in UTC (DST-correct)."""
    return datetime.combine(day, moment, tzinfo=zone(tz)).astimezone(timezone.utc)


def starts_at(days: tuple[date, ...], start: datetime, tz: str | None) -> datetime:
    """The moment the log runs from: now, or the first day's morning when it begins later."""
    return max(start, datetime.combine(days[0], time(0, 0), tzinfo=zone(tz)).astimezone(timezone.utc))


def report_due(days: tuple[date, ...], tz: str | None) -> datetime:
    return at(days[-1], DAY_END, tz)


def nudge_times(days: tuple[date, ...], tz: str | None, now: datetime) -> list[tuple[date, datetime]]:
    """The end-of-day question on each log day at 16:30 in the person's zone, those not yet past."""
    return [(day, when) for day in days if (when := at(day, NUDGE_TIME, tz)) > now]


def local_day(moment: datetime, tz: str | None) -> date:
    return moment.astimezone(zone(tz)).date()


# --- the report ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """What the report reads of an entry: never its text, never who wrote it."""

    kind: str
    knew: str
    waited: str


@dataclass(frozen=True)
class Group:
    kind: str
    count: int
    unknown: int  # the decider unknown or unclear
    waits: dict[str, int]  # Waited -> count
    median_hours: float
    proposal: Proposal


def propose(count: int, unknown: int, median_hours: float) -> Proposal:
    if count and unknown * 2 >= count:
        return Proposal.NAME_DECIDER
    if median_hours > HALF_DAY_HOURS:
        return Proposal.DOER_DECIDES
    return Proposal.ANSWER_IN_A_DAY


def group_entries(entries: list[Entry]) -> list[Group]:
    """By decision kind, most stuck moments first (then in the pick list's order)."""
    order = list(Kind)
    groups = []
    for kind in order:
        mine = [e for e in entries if e.kind == kind]
        if not mine:
            continue
        unknown = sum(1 for e in mine if e.knew != Knew.YES)
        waits = {w.value: sum(1 for e in mine if e.waited == w) for w in Waited}
        hours = median(WAIT_HOURS[Waited(e.waited)] for e in mine)
        groups.append(Group(kind, len(mine), unknown, waits, hours, propose(len(mine), unknown, hours)))
    return sorted(groups, key=lambda g: (-g.count, order.index(Kind(g.kind))))
