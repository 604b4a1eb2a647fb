"""Programme mode: a coach runs a trajectory of sessions for a cohort of leads, with assignments in
between. No I/O but reading the template file.

A template (`programmes/<name>/v<N>.toml`, see programmes/README.md) gives the name, the sessions as
weeks after the first, and the assignments: each opens when a session starts and is due before a
later one. An assignment is done when the feature it names announces a completion for the person
after it opened (core.services.completions); nobody ticks a box.

A participant's assignment is, at a moment:
    not yet   its opening session has not started
    open      opened, not done, its due session not started
    done      completed before its due session started
    late      completed after its due session started, or not done and the due session has started
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path

from core.domain.rounds import E_REQUIRED, FieldError, zone
from core.domain.text import N_

TEMPLATES = Path(__file__).resolve().parents[2] / "programmes"
DEFAULT_TEMPLATE = "trajectory/v1"
SESSION_TIME = time(9, 0)  # a session date means 9:00 that day in the coach's zone
NAME_MAX = 150
TITLE_MAX = 300
MAX_ASSIGNMENTS = 10  # the form's fields; the template may list fewer


class State(StrEnum):
    NOT_YET = "not_yet"
    OPEN = "open"
    DONE = "done"
    LATE = "late"


@dataclass(frozen=True)
class TemplateAssignment:
    kind: str
    opens_after: int
    due_before: int
    title: dict[str, str]
    how: dict[str, str]
    start: str | None = None


@dataclass(frozen=True)
class Template:
    id: str
    name: dict[str, str]
    weeks: tuple[int, ...]  # per session, weeks after the first
    assignments: tuple[TemplateAssignment, ...]


class TemplateError(ValueError):
    pass


def load_template(template_id: str = DEFAULT_TEMPLATE) -> Template:
    """`trajectory/v1` (a file under programmes/) or a path to a .toml file of an organisation's own."""
    path = Path(template_id) if template_id.endswith(".toml") else TEMPLATES / f"{template_id}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        weeks = tuple(int(w) for w in data["sessions"])
        assignments = tuple(TemplateAssignment(
            kind=str(a["kind"]), opens_after=int(a["opens_after"]), due_before=int(a["due_before"]),
            title=dict(a["title"]), how=dict(a.get("how") or {}), start=a.get("start")) for a in data["assignments"])
        template = Template(template_id, dict(data["name"]), weeks, assignments)
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise TemplateError(f"programme template {template_id}: {error}") from error
    if not weeks or list(weeks) != sorted(set(weeks)) or weeks[0] != 0:
        raise TemplateError(f"programme template {template_id}: sessions must be increasing weeks from 0")
    for a in assignments:
        if not 1 <= a.opens_after < a.due_before <= len(weeks):
            raise TemplateError(f"programme template {template_id}: {a.kind} must open after a session and be "
                                "due before a later one")
        if "en" not in a.title:
            raise TemplateError(f"programme template {template_id}: {a.kind} has no English title")
    return template


def localised(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


def session_dates(template: Template, first: date) -> tuple[date, ...]:
    return tuple(first + timedelta(weeks=w) for w in template.weeks)


def session_start(day: date, tz: str | None) -> datetime:
    return datetime.combine(day, SESSION_TIME, tzinfo=zone(tz))


def first_session_default(today: date) -> date:
    """The form's first date: next week's Monday."""
    return today + timedelta(days=7 - today.weekday())


# --- the coach's form ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    """What the coach filled in: the name, the cohort's channel, one date per session and one title per
    template assignment (an emptied title drops that assignment)."""

    name: str
    channel_id: str
    dates: tuple[date | None, ...]
    titles: tuple[str, ...]


E_NAME_LONG = N_("Please keep the name under {max} characters (it has {length}).")
E_TITLE_LONG = N_("Please keep each assignment under {max} characters (it has {length}).")
E_DATE_ORDER = N_("Each session must come after the one before.")
E_DATE_PAST = N_("The last session can't be in the past.")
E_NO_ASSIGNMENT = N_("Keep at least one assignment.")
E_NO_CHANNEL = N_("Choose the channel whose members are the cohort.")


def validate_setup(setup: Setup, *, today: date) -> dict[str, FieldError]:
    """A programme already under way keeps its real dates (earlier sessions may have been); its last
    session is still to come."""
    errors: dict[str, FieldError] = {}
    name = setup.name.strip()
    if not name:
        errors["name"] = FieldError(E_REQUIRED)
    elif len(name) > NAME_MAX:
        errors["name"] = FieldError(E_NAME_LONG, {"max": NAME_MAX, "length": len(name)})
    if not setup.channel_id.strip():
        errors["channel"] = FieldError(E_NO_CHANNEL)
    for number, day in enumerate(setup.dates, start=1):
        key = f"session{number}"
        if day is None:
            errors[key] = FieldError(E_REQUIRED)
        elif number > 1 and setup.dates[number - 2] is not None and day <= setup.dates[number - 2]:
            errors[key] = FieldError(E_DATE_ORDER)
        elif number == len(setup.dates) and day < today:
            errors[key] = FieldError(E_DATE_PAST)
    for position, title in enumerate(setup.titles):
        if len(title.strip()) > TITLE_MAX:
            errors[f"assignment{position}"] = FieldError(E_TITLE_LONG, {"max": TITLE_MAX, "length": len(title.strip())})
    if not any(title.strip() for title in setup.titles):
        errors["assignment0"] = FieldError(E_NO_ASSIGNMENT)
    return errors


# --- status --------------------------------------------------------------------------------------------
def state(*, opens_at: datetime, due_at: datetime, done_at: datetime | None, now: datetime) -> State:
    if done_at is not None:
        return State.DONE if done_at < due_at else State.LATE
    if now < opens_at:
        return State.NOT_YET
    return State.OPEN if now < due_at else State.LATE


# The reminder's job wakes this long before the session and waits for the person's own moment (about a
# day before, in their working hours: core.domain.rounds.reminder_time), which a weekend puts up to 65 h
# earlier. Their zone is known only then.
REMIND_EARLIEST = timedelta(days=4)
